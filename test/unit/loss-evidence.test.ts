import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SignalDrain } from '../../src/drain/drain.js';
import { classifyExportError, exportFailuresOf } from '../../src/observe/export-failures.js';
import type { SignalLoadResult } from '../../src/report/result.js';

import { assessLimits, thresholds, verdict } from '../../src/soak/assess.js';
import { collectorPipelineOf, exportersFeeding } from '../../src/stack/collector-pipeline.js';
import { accountDelivered, accountDrain } from '../../src/verify/accounting.js';
import { causesOf, evidenceOf, type PipelineCounters } from '../../src/verify/loss-evidence.js';
import { lostCell, notQueryVisible, type SignalVerification } from '../../src/verify/verification.js';

const here = new URL('.', import.meta.url).pathname;
const fixture = (name: string) => readFileSync(join(here, 'fixtures', name), 'utf8');
/** The seed collector configuration with its tokens filled as Phase 1 fills them for Jaeger. */
const seed = readFileSync(join(here, '../../stacks/phase1/otelcol.yaml'), 'utf8')
  .replaceAll('{{traces.backend}}', 'jaeger')
  .replaceAll('{{traces.otlpGrpcEndpoint}}', 'jaeger:4317');

function logs(absent: number, over: Partial<SignalVerification> = {}): SignalVerification {
  const expected = 1_000_000;
  return {
    signal: 'logs',
    backend: 'loki',
    method: 'm',
    expected,
    found: expected - absent,
    lost: absent,
    rejected: 0,
    rejectedAbsent: 0,
    duplicates: notQueryVisible('Loki keeps one copy'),
    unacknowledgedFound: 0,
    lostRanges: absent > 0 ? [{ first: 0, count: absent }] : [],
    lostExamples: [],
    figures: {},
    outcome:
      absent > 0
        ? {
            status: 'fail',
            expected,
            actual: expected - absent,
            reason: `${absent} log records acknowledged and absent after drain`,
          }
        : { status: 'pass' },
    notes: [],
    ...over,
  };
}

function drainOf(over: Partial<SignalDrain> = {}): SignalDrain {
  return {
    drained: true,
    elapsedMs: 10_000,
    pipelineIdleAtMs: 5_000,
    backendStableAtMs: 10_000,
    finalCount: 0,
    reason: undefined,
    stillQueued: [],
    unobservable: [],
    ...over,
  };
}

const counters = (over: Partial<PipelineCounters> = {}): PipelineCounters => ({
  givenUp: 102_407,
  pendingAtMost: 897_593,
  pendingUnknown: undefined,
  exporters: [{ collector: 'otelcol', exporter: 'otlp_http/loki', sent: 0, givenUp: 102_407 }],
  ...over,
});

describe("a collector's effective configuration", () => {
  const pipeline = collectorPipelineOf(seed)!;
  it('says how many items a request carries, how long each exporter retries and what its queue holds', () => {
    const loki = pipeline.exporters.find((e) => e.name === 'otlp_http/loki')!;
    expect(loki).toMatchObject({
      type: 'otlp_http',
      signals: ['logs'],
      endpoint: 'http://loki:3100/otlp',
      sink: false,
      retry: { enabled: true, maxElapsedMs: 300_000 },
      queue: { enabled: true, size: 10_000, sizer: 'requests', consumers: 10, persistent: true },
      maxItemsPerRequest: { logs: 15_000 },
      batchSize: { logs: 10_000 },
    });
    const prw = pipeline.exporters.find((e) => e.name === 'prometheus_remote_write')!;
    expect(prw.queue).toMatchObject({ enabled: true, size: 10_000, persistent: false });
  });

  it('tells which exporter feeds a backend, leaving sinks out, and says when it cannot tell', () => {
    const twoTraces = collectorPipelineOf(`
exporters:
  debug: {}
  otlp_grpc/tempo: { endpoint: tempo:4317 }
  otlp_grpc/other: { endpoint: 10.0.0.9:4317 }
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [debug, otlp_grpc/tempo, otlp_grpc/other] }
    traces/b: { receivers: [otlp], exporters: [otlp_grpc/tempo] }
`)!;
    expect(exportersFeeding(twoTraces, 'traces', { name: 'tempo' })?.map((e) => e.name)).toEqual(['otlp_grpc/tempo']);
    expect(exportersFeeding(twoTraces, 'traces', { name: 'jaeger' })).toBeUndefined();
    const one = collectorPipelineOf(`
exporters: { debug: {}, otlp_grpc/x: { endpoint: 'h:4317', retry_on_failure: { enabled: false } } }
service: { pipelines: { traces: { exporters: [debug, otlp_grpc/x] } } }
`)!;
    expect(exportersFeeding(one, 'traces', { name: 'jaeger' })?.map((e) => e.name)).toEqual(['otlp_grpc/x']);
    expect(one.exporters.find((e) => e.name === 'otlp_grpc/x')!.retry.enabled).toBe(false);
  });
});

describe("the collector's export failures, in words", () => {
  it('reads a message over the gRPC limit as a failure no retry fixes, with both sizes', () => {
    const failures = exportFailuresOf('otelcol', fixture('collector-0.158.0-loki-message-too-large.log').split('\n'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      collector: 'otelcol',
      exporter: 'otlp_http/loki',
      signal: 'logs',
      outcome: 'retrying',
      count: 58,
      cause: { kind: 'message-too-large', retryable: false, limitBytes: 4_194_304 },
    });
    expect(failures[0]!.cause.summary).toMatch(/^requests of 5\.\d\d MB exceed a 4 MiB gRPC message limit$/);
  });

  it('tells rate limits, refusals and outages apart', () => {
    const cases: [string, string, boolean][] = [
      [
        'Permanent error: rpc error: code = ResourceExhausted desc = error exporting items, request to http://loki:3100/otlp/v1/logs responded with HTTP Status Code 429, Message=Ingestion rate limit exceeded for user fake',
        'rate-limited',
        true,
      ],
      [
        'error exporting items, request to http://prometheus:9090/api/v1/write responded with HTTP Status Code 400, Message=out of order sample',
        'out-of-order',
        false,
      ],
      ['Permanent error: rpc error: code = InvalidArgument desc = bad payload', 'bad-request', false],
      [
        'rpc error: code = Unavailable desc = connection error: dial tcp 172.18.0.3:4317: connect: connection refused',
        'connection',
        true,
      ],
      ['HTTP Status Code 413, Message=request entity too large', 'payload-too-large', false],
      ['sending queue is full', 'queue-full', true],
      // grpc-go's wording when the receiving collector decompresses first (a node agent's 60,000-sample scrape).
      [
        'not retryable error: Permanent error: rpc error: code = ResourceExhausted desc = grpc: received message after decompression larger than max 4194304',
        'message-too-large',
        false,
      ],
    ];
    for (const [error, kind, retryable] of cases)
      expect(classifyExportError(error), error).toMatchObject({ kind, retryable });
    expect(classifyExportError(cases.at(-1)![0])).toMatchObject({
      limitBytes: 4_194_304,
      summary: 'requests exceed a 4 MiB gRPC message limit (after decompression)',
    });
  });

  it('leaves out lines from before the run and counts what a given-up line dropped', () => {
    const line = (ts: string, msg: string) =>
      JSON.stringify({
        level: 'error',
        ts,
        msg,
        'otelcol.component.id': 'otlp_grpc/jaeger',
        'otelcol.signal': 'traces',
        error: 'no more retries left: rpc error: code = Unavailable desc = connection refused',
        dropped_items: 500,
      });
    const lines = [
      line('2026-12-06T10:00:00.000Z', 'Exporting failed. Dropping data.'),
      line('2026-12-06T10:05:00.000Z', 'Exporting failed. Dropping data.'),
      line('2026-12-06T10:05:01.000Z', 'Exporting failed. Dropping data.'),
    ];
    const failures = exportFailuresOf('otelcol', lines, Date.parse('2026-12-06T10:01:00.000Z'));
    expect(failures).toEqual([
      expect.objectContaining({ outcome: 'given-up', count: 2, droppedItems: 1000, signal: 'traces' }),
    ]);
  });
});

describe('decisive verdicts from the evidence', () => {
  const tooLarge = exportFailuresOf('otelcol', fixture('collector-0.158.0-loki-message-too-large.log').split('\n'));
  const exporters = collectorPipelineOf(seed)!.exporters;
  const blocked = 'otlp_http/loki: requests of 5.28 MB exceed a 4 MiB gRPC message limit';

  it('fails at once when items wait behind an error no retry fixes, naming the cause and its fix', () => {
    const v = logs(1_000_000);
    const drain = drainOf({
      drained: false,
      blocked,
      reason: 'queued behind an error no retry fixes',
      stillQueued: [
        { component: 'otelcol', queue: 'otlp_http/loki', size: 88, unit: 'requests', maxItems: 88 * 15_000 },
      ],
    });
    const evidence = evidenceOf({
      absent: 1_000_000,
      drained: false,
      blocked,
      stillQueued: drain.stillQueued,
      unobservable: [],
      counters: counters(),
      causes: [],
    });
    evidence.causes = causesOf({
      signal: 'logs',
      backend: 'loki',
      failures: tooLarge,
      counters: counters(),
      exporters,
      backendCounters: {},
      doomed: evidence.doomed,
    });
    const decided = accountDrain(v, drain, evidence);
    expect(decided.outcome.status).toBe('fail');
    // Lost for certain plus queued behind the error: what gates and capacity trials count as lost.
    expect(decided.lost).toBe(1_000_000);
    expect(evidence).toMatchObject({ lostAtLeast: 102_407, doomed: 897_593, lowerBound: true });
    expect(evidence.causes[0]).toMatchObject({ hop: 'otelcol → loki', retryable: false });
    expect(evidence.causes[0]!.reason).toMatch(
      /^102,407 log records given up and 897,593 queued behind the same error: requests of 5\.\d\d MB exceed a 4 MiB gRPC message limit/,
    );
    // Retry lines name no item count: a full batch (10,000) is assumed, so the advised size is an upper bound.
    expect(evidence.causes[0]!.fix).toMatch(
      /send_batch_max_size \(now 15,000\) — at most about 6,000 items \(if the 5\.18 MB request held a full batch of 10,000; fewer items make each larger\).*grpc_server_max_recv_msg_size/,
    );
    const t = thresholds({
      verification: { logs: decided },
      load: {},
      latency: {},
      maxLoss: { kind: 'items', value: 0 },
      minAchievedRatio: 0,
      maxLatencyP99Ms: undefined,
    });
    expect(t[0]).toMatchObject({ pass: false, exitCode: 4 });
    expect(t[0]!.inconclusive).toBeUndefined();
    expect(t[0]!.actual).toMatch(
      /^at least 102407 of 1000000, 897593 queued behind an error no retry fixes .* — otelcol → loki: .*fix: /,
    );
    expect(verdict({ thresholds: t, partial: false }, false)).toMatchObject({ status: 'fail', exitCode: 4 });
    expect(lostCell(decided)).toBe('≥102407 +897593 queued');
  });

  it('bounds the loss from below when the drain timed out, and fails when the bound alone is over the budget', () => {
    const drain = drainOf({
      drained: false,
      reason: 'timeout',
      stillQueued: [{ component: 'otelcol', queue: 'x', size: 2, unit: 'requests' }],
    });
    const evidence = evidenceOf({
      absent: 30_000,
      drained: false,
      blocked: undefined,
      stillQueued: drain.stillQueued,
      unobservable: [],
      counters: counters({ givenUp: 29_725, pendingAtMost: 275 }),
      causes: [],
    });
    const v = accountDrain(logs(30_000), drain, evidence);
    expect(v.outcome).toMatchObject({ status: 'fail' });
    expect(v.lost).toBe(29_725);
    const t = thresholds({
      verification: { logs: v },
      load: {},
      latency: {},
      maxLoss: { kind: 'percent', value: 1 },
      minAchievedRatio: 0,
      maxLatencyP99Ms: undefined,
    });
    expect(t[0]).toMatchObject({ pass: false, actual: expect.stringMatching(/^at least 29725 of 1000000/) as unknown });
  });

  it('passes absence that fits the budget whatever the rest does, and stays inconclusive only when nothing decides', () => {
    const drain = drainOf({
      drained: false,
      reason: 'timeout',
      stillQueued: [{ component: 'otelcol', queue: 'x', size: 2, unit: 'requests' }],
    });
    const evidence = evidenceOf({
      absent: 300,
      drained: false,
      blocked: undefined,
      stillQueued: drain.stillQueued,
      unobservable: [],
      counters: counters({ givenUp: 0, pendingAtMost: 5_000 }),
      causes: [],
    });
    const v = accountDrain(logs(300), drain, evidence);
    expect(v.outcome.status).toBe('inconclusive');
    const within = thresholds({
      verification: { logs: v },
      load: {},
      latency: {},
      maxLoss: { kind: 'items', value: 500 },
      minAchievedRatio: 0,
      maxLatencyP99Ms: undefined,
    });
    expect(within[0]).toMatchObject({ pass: true, actual: 'at most 300 of 1000000 (absent; some may still arrive)' });
    const over = thresholds({
      verification: { logs: v },
      load: {},
      latency: {},
      maxLoss: { kind: 'items', value: 0 },
      minAchievedRatio: 0,
      maxLatencyP99Ms: undefined,
    });
    expect(over[0]).toMatchObject({ pass: false, inconclusive: true });
    expect(v.outcome).toMatchObject({ reason: expect.stringMatching(/at most 5000 still in the pipeline/) as unknown });
  });

  it('calls absence exact loss after a complete drain, with the cause in the reason', () => {
    const evidence = evidenceOf({
      absent: 12,
      drained: true,
      blocked: undefined,
      stillQueued: [],
      unobservable: [],
      counters: counters({ givenUp: 12, pendingAtMost: 0 }),
      causes: [{ hop: 'otelcol → loki', reason: '12 log records given up: x', retryable: true }],
    });
    const v = accountDrain(logs(12), drainOf(), evidence);
    expect(v.outcome).toMatchObject({
      status: 'fail',
      reason: expect.stringContaining('— otelcol → loki: 12 log records given up: x') as unknown,
    });
    expect(v.lost).toBe(12);
    expect(lostCell(v)).toBe('12');
  });

  it('keeps an unseen queue undecided without counters (attach mode without collector metrics)', () => {
    const why =
      'the collector exposes no metrics to the harness, so its sending queues cannot be seen (give --collector-metrics URL)';
    const drain = drainOf({ unobservable: [why] });
    const evidence = evidenceOf({
      absent: 40,
      drained: true,
      blocked: undefined,
      stillQueued: [],
      unobservable: [why],
      counters: undefined,
      causes: [],
    });
    const v = accountDrain(logs(40), drain, evidence);
    expect(v.outcome).toMatchObject({
      status: 'inconclusive',
      reason: expect.stringContaining('--collector-metrics') as unknown,
    });
    expect(evidence.lostAtLeast).toBeNull();
  });

  it('waits on nothing the pipeline declared rejected: absence all covered by partial success stays a pass', () => {
    const why =
      'the collector exposes no metrics to the harness, so its sending queues cannot be seen (give --collector-metrics URL)';
    const declared = logs(0, { found: 1_000_000 - 3_510, rejected: 3_524, rejectedAbsent: 3_510 });
    const v = accountDrain(declared, drainOf({ unobservable: [why] }));
    expect(v.outcome).toEqual({ status: 'pass' });
    expect(v.lost).toBe(0);
    // One silent absence besides the declared ones is still undecided on a queue nobody could see.
    const silent = accountDrain(
      { ...declared, lost: 1, outcome: { status: 'fail', expected: 1, actual: 0, reason: 'x' } },
      drainOf({ unobservable: [why] }),
    );
    expect(silent.outcome.status).toBe('inconclusive');
  });
});

describe('delivered more than once: only what a backend kept', () => {
  const v = logs(0, { found: 30_000, expected: 30_000 });
  it('is not observable when the backend counted items it then failed to store', () => {
    const d = accountDelivered(
      v,
      { value: 59_725, describe: 'lines received', unreliable: 'loki counted failed pushes: 12' },
      { value: 30_000, describe: 'sent' },
    );
    expect(d.duplicates).toMatchObject({
      delivered: null,
      deliveredNote: expect.stringMatching(/^not observable: loki counted failed pushes/) as unknown,
    });
  });
  it('never claims more than the backend holds of the run', () => {
    const d = accountDelivered(
      v,
      { value: 2_089_096 + 30_000, describe: 'lines received' },
      { value: 30_000, describe: 'sent' },
    );
    expect(d.duplicates.delivered).toBeNull();
    expect(d.duplicates.deliveredNote).toMatch(/more than loki holds of the run/);
  });
  it('after a collector restart, gives an upper bound or a proven 0', () => {
    const bound = accountDelivered(
      v,
      { value: 30_030, describe: 'r' },
      { value: 30_000, describe: 's', restarts: 1, gapMs: 40 },
    );
    expect(bound.duplicates).toMatchObject({ delivered: null, deliveredAtMost: 30 });
    const none = accountDelivered(
      v,
      { value: 29_990, describe: 'r' },
      { value: 30_000, describe: 's', restarts: 1, gapMs: 40 },
    );
    expect(none.duplicates.delivered).toBe(0);
    const backendRestarted = accountDelivered(
      v,
      { value: 30_030, describe: 'r', restarts: 1 },
      { value: 30_000, describe: 's' },
    );
    expect(backendRestarted.duplicates.delivered).toBeNull();
  });
});

describe('what limited a run', () => {
  const load: SignalLoadResult = {
    offeredRps: 8_333,
    achievedRps: 8_333,
    achievedRatio: 1,
    counts: {
      acknowledged: 1_000_000,
      refused: 0,
      failed: 0,
      dropped: 0,
      attempted: 1_000_000,
      offered: 1_000_000,
      rejected: 0,
    },
    answers: { '200': 1_000_000 },
    scheduleLagMs: { count: 1, min: 0, p50: 1, p90: 2, p99: 3, p999: 3, max: 3, mean: 1 },
    idRanges: { acknowledged: [], refused: [], failed: [], dropped: [] },
    idRangesTruncated: false,
    rejections: [],
    shape: {},
  };
  const resources = (hostMean: number, jaegerMean: number) => ({
    containers: {
      jaeger: { samples: 20, cpuMeanPct: jaegerMean, cpuMaxPct: 140, memoryMeanMiB: 2_000, memoryMaxMiB: 3_000 },
    },
    host: { cores: 2, cpuMeanPct: hostMean, cpuMaxPct: 99, samples: 20 },
    generator: {
      cpuMeanPct: 30,
      cpuMaxPct: 50,
      cpuSeconds: 30,
      memoryMaxMiB: 200,
      processes: ['otel-harness'],
      cores: 1,
    },
    timeline: [],
  });
  const canaries = {
    traces: {
      backend: 'jaeger',
      sent: 60,
      acknowledged: 60,
      found: 39,
      timedOut: 21,
      latencyMs: { count: 39, min: 1, p50: 2, p90: 3, p99: 59_000, p999: 59_000, max: 59_000, mean: 1 },
    },
  };
  it('never says "nothing" when a container or the machine saturated or canaries timed out', () => {
    const busy = assessLimits({ traces: load }, resources(88, 85), 0.95, { latency: canaries });
    expect(busy.limitedBy).toBe('machine');
    expect(busy.reasons).toEqual([
      expect.stringMatching(/2 cores were 88% busy on average \(at most 99%\)/),
      expect.stringMatching(/^jaeger used 85% of a core on average/),
      expect.stringMatching(/^traces: 21 of 60 canaries were not queryable in jaeger/),
    ]);
    expect(assessLimits({ traces: load }, resources(40, 86), 0.95).limitedBy).toBe('stack');
    expect(assessLimits({ traces: load }, resources(40, 20), 0.95, { latency: canaries }).limitedBy).toBe('stack');
    expect(
      assessLimits({ traces: load }, resources(40, 20), 0.95, {
        queue: [
          { tMs: 0, size: 0 },
          { tMs: 5_000, size: 40 },
          { tMs: 10_000, size: 88 },
        ],
        loadMs: 10_000,
      }),
    ).toMatchObject({
      limitedBy: 'stack',
      reasons: [expect.stringMatching(/sending queues grew through the load \(0 → 88, peak 88\)/) as unknown],
    });
    expect(assessLimits({ traces: load }, resources(40, 20), 0.95).limitedBy).toBe('nothing');
    // The few requests a busy exporter always has queued are no growth.
    const few = [0, 6, 2, 3].map((size, i) => ({ tMs: i * 2_500, size }));
    expect(assessLimits({ traces: load }, resources(40, 20), 0.95, { queue: few, loadMs: 10_000 }).limitedBy).toBe(
      'nothing',
    );
  });
});

describe('a queue gauge the collector does not expose (its sending queue off)', () => {
  it("is no reason to doubt when the collector's counters say nothing is left: the loss is exact", () => {
    const why =
      'otelcol exposes no otelcol_exporter_queue_size for logs (a queue that cannot be read is not taken as empty)';
    const evidence = evidenceOf({
      absent: 29_725,
      drained: true,
      blocked: undefined,
      stillQueued: [],
      unobservable: [why],
      counters: counters({ givenUp: 29_730, pendingAtMost: 0 }),
      causes: [],
    });
    const v = accountDrain(logs(29_725), drainOf({ unobservable: [why] }), evidence);
    expect(v.outcome.status).toBe('fail');
    expect(v.lost).toBe(29_725);
    expect(evidence.lowerBound).toBe(false);
    expect(lostCell(v)).toBe('29725');
  });
});

describe("a backend's own discard counters", () => {
  it('are a cause, with the fix of the limit they name', () => {
    const causes = causesOf({
      signal: 'logs',
      backend: 'loki',
      failures: [],
      counters: counters({
        givenUp: 29_725,
        exporters: [{ collector: 'otelcol', exporter: 'otlp_http/loki', sent: 275, givenUp: 29_725 }],
      }),
      exporters: collectorPipelineOf(
        'exporters: { otlp_http/loki: { retry_on_failure: { enabled: false }, sending_queue: { enabled: false } } }\nservice: { pipelines: { logs: { exporters: [otlp_http/loki] } } }',
      )!.exporters,
      backendCounters: {
        loki_distributor_lines_received_total: 30_000,
        loki_discarded_samples_total: 29_725,
        'loki_discarded_samples_total{reason=rate_limited}': 29_725,
        prometheus_tsdb_out_of_order_samples_total: 0,
      },
      doomed: 0,
    });
    expect(causes).toEqual([
      expect.objectContaining({
        hop: 'otelcol → loki',
        reason: expect.stringMatching(/^29,725 log records given up by otlp_http\/loki/) as unknown,
      }),
      expect.objectContaining({
        hop: 'loki',
        reason: 'loki counted items it discarded: loki_discarded_samples_total{reason=rate_limited} 29,725',
        fix: expect.stringMatching(
          /^turn otlp_http\/loki's retry_on_failure and sending_queue on .*ingestion_rate_mb/,
        ) as unknown,
      }),
    ]);
  });
});

describe("a processor's own counters", () => {
  it('name the processor that took items in and did not pass them on; a sampler or a memory_limiter refusal is no cause', () => {
    const causes = causesOf({
      signal: 'traces',
      backend: 'jaeger',
      failures: [],
      counters: counters({
        givenUp: 0,
        exporters: [],
        processorDrops: [
          { collector: 'otelcol', processor: 'filter/rule5', items: 392 },
          { collector: 'processor-1', processor: 'tail_sampling', items: 9_000 },
          { collector: 'processor-1', processor: 'probabilistic_sampler/ten', items: 100 },
          { collector: 'otelcol', processor: 'memory_limiter', items: 50 },
        ],
      }),
      exporters: [],
      backendCounters: {},
      doomed: 0,
    });
    expect(causes).toEqual([
      {
        hop: 'otelcol processor filter/rule5',
        reason: "392 spans taken in and not passed on (its incoming − outgoing items, all traffic in the run's window)",
        fix: "check filter/rule5's conditions: it drops what they match",
        retryable: false,
      },
    ]);
  });
});

describe('a dropped request that named its size and its items', () => {
  it('advises a batch size from its exact bytes per item, not from a full batch', () => {
    const line = (dropped: number, bytes: number) =>
      `2026-12-07T20:00:00.000Z\terror\t{"msg":"Exporting failed. Dropping data.","otelcol.component.id":"otlp_grpc/collector","otelcol.signal":"logs","error":"not retryable error: Permanent error: rpc error: code = ResourceExhausted desc = grpc: received message larger than max (${bytes} vs. 4194304)","dropped_items":${dropped}}`;
    // A batch cut by its timeout: 6,100 records of ~690 bytes (4.2 MB), and a larger one.
    const failures = exportFailuresOf('otel-agent', [line(6_100, 4_209_000), line(7_000, 4_830_000)]);
    expect(failures[0]).toMatchObject({ outcome: 'given-up', droppedItems: 13_100, largestBytes: 4_830_000 });
    expect(failures[0]!.bytesPerItem).toBeCloseTo(690, 0);
    const causes = causesOf({
      signal: 'logs',
      backend: 'loki',
      failures,
      counters: counters({
        exporters: [{ collector: 'otel-agent', exporter: 'otlp_grpc/collector', sent: 0, givenUp: 13_100 }],
      }),
      exporters: [],
      backendCounters: {},
      doomed: 0,
      forwarders: new Set(['otel-agent']),
    });
    expect(causes[0]!.fix).toMatch(
      /— about 4,500 items at the 690 bytes per item of the requests it dropped; or raise the next collector/,
    );
  });
});

describe("a scraping receiver's refusals", () => {
  it('name the samples an agent scraped and then refused (memory_limiter): nobody scrapes them again', () => {
    const causes = causesOf({
      signal: 'metrics',
      backend: 'prometheus',
      failures: [],
      counters: counters({
        givenUp: 0,
        exporters: [],
        scrapeRefusals: [{ collector: 'otel-agent', receiver: 'prometheus', items: 48_000 }],
      }),
      exporters: [],
      backendCounters: {},
      doomed: 0,
    });
    expect(causes).toEqual([
      {
        hop: 'otel-agent receiver prometheus',
        reason:
          '48,000 samples scraped and then refused inside otel-agent (its receiver\'s refused and failed counters: memory_limiter or a full pipeline; "Scrape commit failed" in its log): nobody scrapes them again',
        fix: "give otel-agent more memory (memory_limiter's limit_mib, the container's limit) or scrape fewer series per target",
        retryable: false,
      },
    ]);
  });
});

describe('a collector that forwards to another collector or to Kafka', () => {
  it('names the hop it failed on and the receiving side’s limit, not the backend', () => {
    // The same failure lines, logged by a node agent whose exporter sends to the next collector.
    const failures = exportFailuresOf(
      'otel-agent',
      fixture('collector-0.158.0-loki-message-too-large.log').split('\n'),
    );
    const causes = causesOf({
      signal: 'logs',
      backend: 'loki',
      failures,
      counters: counters({
        exporters: [{ collector: 'gateway-1', exporter: 'kafka/logs', sent: 10, givenUp: 5 }],
      }),
      exporters: collectorPipelineOf(seed)!.exporters,
      backendCounters: {},
      doomed: 0,
      forwarders: new Set(['otel-agent', 'gateway-1']),
    });
    expect(causes[0]).toMatchObject({ hop: 'otel-agent → the next collector (otlp_http/loki)' });
    expect(causes[0]!.fix).toMatch(/the next collector's OTLP receiver max_recv_msg_size_mib/);
    expect(causes[0]!.fix).not.toMatch(/Loki/);
    expect(causes[1]).toMatchObject({ hop: 'gateway-1 → kafka (kafka/logs)' });
  });
});
