import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadCatalog } from '../../src/images/catalog.js';
import { collectorDrainCondition } from '../../src/drain/collector-condition.js';
import { drain } from '../../src/drain/drain.js';
import { parsePrometheusText } from '../../src/observe/prometheus-text.js';
import { renderSummary } from '../../src/report/render-summary.js';
import { renderTable } from '../../src/report/render-table.js';
import type { SignalLoadResult, SoakResult } from '../../src/report/result.js';
import { junitOfRun } from '../../src/report/junit.js';
import { htmlOfRun, renderHtml } from '../../src/report/render-html.js';
import { allowedLoss, assessLimits, thresholds, verdict } from '../../src/soak/assess.js';
import { applyVariant, listVariants, loadVariant, parseVariant } from '../../src/stack/collector-variant.js';
import { phase1Definition, phase1Dir } from '../../src/stack/phase1/definition.js';
import { notQueryVisible, type SignalVerification } from '../../src/verify/verification.js';

const lag = { count: 1, min: 0, p50: 1, p90: 2, p99: 3, p999: 3, max: 3, mean: 1 };
function load(over: Partial<SignalLoadResult> = {}): SignalLoadResult {
  return {
    offeredRps: 1000,
    achievedRps: 1000,
    achievedRatio: 1,
    counts: { acknowledged: 60000, refused: 0, failed: 0, dropped: 0, attempted: 60000, offered: 60000, rejected: 0 },
    answers: { '200': 60000 },
    scheduleLagMs: lag,
    idRanges: { acknowledged: [{ first: 0, count: 60000 }], refused: [], failed: [], dropped: [] },
    idRangesTruncated: false,
    rejections: [],
    shape: {},
    ...over,
  };
}
function verification(lost: number, over: Partial<SignalVerification> = {}): SignalVerification {
  return {
    signal: 'logs',
    backend: 'loki',
    method: 'm',
    expected: 60000,
    found: 60000 - lost,
    lost,
    rejected: 0,
    rejectedAbsent: 0,
    duplicates: notQueryVisible('Loki keeps one copy of identical timestamp and line in a stream'),
    unacknowledgedFound: 0,
    lostRanges: lost > 0 ? [{ first: 100, count: 1 }] : [],
    lostExamples: lost > 0 ? ['log record seq 100'] : [],
    figures: {},
    outcome:
      lost > 0
        ? {
            status: 'fail',
            expected: 60000,
            actual: 60000 - lost,
            reason: `${lost} log records acknowledged and absent after drain`,
          }
        : { status: 'pass' },
    notes: [],
    ...over,
  };
}

describe('thresholds and verdict', () => {
  const base = { load: { logs: load() }, latency: {}, minAchievedRatio: 0.95, maxLatencyP99Ms: undefined };
  it('passes a clean run (exit 0)', () => {
    const t = thresholds({ ...base, verification: { logs: verification(0) }, maxLoss: { kind: 'items', value: 0 } });
    expect(t.every((x) => x.pass)).toBe(true);
    expect(verdict({ thresholds: t, partial: false }, false)).toEqual({ status: 'pass', exitCode: 0, reasons: [] });
  });

  it('never passes a run whose verification from object storage could not decide (exit 4, inconclusive)', () => {
    const v = verification(0);
    const undecided = {
      ...v,
      fromStore: {
        service: 'loki',
        bucket: 'loki-data',
        found: 0,
        lost: 0,
        lostRanges: [],
        restartSeconds: 0,
        steps: [],
        outcome: { status: 'inconclusive' as const, reason: 'the handover to the object store failed: HTTP 503' },
      },
    };
    const t = thresholds({ ...base, verification: { logs: undecided }, maxLoss: { kind: 'items', value: 0 } });
    expect(t.find((x) => x.name === 'logs verified again from object storage')).toMatchObject({
      pass: false,
      inconclusive: true,
      actual: 'inconclusive: the handover to the object store failed: HTTP 503',
    });
    expect(verdict({ thresholds: t, partial: false }, false)).toMatchObject({ status: 'inconclusive', exitCode: 4 });
    const decided = {
      ...undecided,
      fromStore: { ...undecided.fromStore, found: 60_000, outcome: { status: 'pass' as const } },
    };
    const clean = thresholds({ ...base, verification: { logs: decided }, maxLoss: { kind: 'items', value: 0 } });
    expect(verdict({ thresholds: clean, partial: false }, false)).toMatchObject({ status: 'pass', exitCode: 0 });
  });

  it('fails with exit 4 on loss over the budget, 3 on a rate below the floor, 4 wins', () => {
    const lossy = thresholds({
      ...base,
      verification: { logs: verification(5) },
      maxLoss: { kind: 'items', value: 0 },
    });
    expect(verdict({ thresholds: lossy, partial: false }, false)).toMatchObject({ status: 'fail', exitCode: 4 });
    const budget = thresholds({
      ...base,
      verification: { logs: verification(5) },
      maxLoss: { kind: 'percent', value: 0.01 },
    });
    expect(verdict({ thresholds: budget, partial: false }, false).exitCode).toBe(0); // 0.01 % of 60000 = 6
    const slow = thresholds({
      ...base,
      load: { logs: load({ achievedRps: 900, achievedRatio: 0.9 }) },
      verification: { logs: verification(0) },
      maxLoss: { kind: 'items', value: 0 },
    });
    expect(verdict({ thresholds: slow, partial: false }, false)).toMatchObject({
      exitCode: 3,
      reasons: ['logs achieved/offered rate: 0.900 (900/1000 items/s) (limit ≥ 0.95)'],
    });
    const both = thresholds({
      ...base,
      load: { logs: load({ achievedRatio: 0.5 }) },
      verification: { logs: verification(1) },
      maxLoss: { kind: 'items', value: 0 },
    });
    expect(verdict({ thresholds: both, partial: false }, false).exitCode).toBe(4);
    expect(verdict({ thresholds: both, partial: true }, true)).toMatchObject({ status: 'interrupted', exitCode: 130 });
  });

  it('treats an inconclusive verifier as a failure (exit 4), and checks latency when asked', () => {
    const t = thresholds({
      ...base,
      verification: { logs: verification(0, { outcome: { status: 'inconclusive', reason: 'Loki answered 500' } }) },
      latency: {
        logs: { backend: 'loki', sent: 10, acknowledged: 10, found: 9, timedOut: 1, latencyMs: { ...lag, p99: 7000 } },
      },
      maxLatencyP99Ms: 5000,
      maxLoss: { kind: 'items', value: 0 },
    });
    expect(t.filter((x) => !x.pass).map((x) => [x.exitCode, x.actual])).toEqual([
      [4, 'inconclusive: Loki answered 500'],
      [3, '7000 ms, 1 timed out'],
    ]);
    expect(allowedLoss({ kind: 'percent', value: 1 }, 250)).toBe(2);
  });
});

describe('limit assessment', () => {
  const res = (genMax: number, hostMean: number, processes = ['otel-harness'], cores = 1) => ({
    containers: {},
    host: { cores: 2, cpuMeanPct: hostMean, cpuMaxPct: hostMean, samples: 5 },
    generator: { cpuMeanPct: genMax / 2, cpuMaxPct: genMax, cpuSeconds: 3, memoryMaxMiB: 100, processes, cores },
    timeline: [],
  });
  it('holds a single-threaded generator to one core and k6 to every core it can use', () => {
    expect(assessLimits({ logs: load() }, res(95, 50), 0.95)).toEqual({
      limitedBy: 'generator',
      reasons: ['the generator used up to 95% of a core'],
    });
    expect(assessLimits({ logs: load() }, res(120, 80, ['otel-harness', 'k6'], 2), 0.95).limitedBy).toBe('nothing');
    expect(assessLimits({ logs: load() }, res(185, 80, ['otel-harness', 'k6'], 2), 0.95)).toEqual({
      limitedBy: 'generator',
      reasons: ['the generator (otel-harness + k6) used up to 185% of a core, of 2 cores it can use'],
    });
  });
  it('blames the machine, then the generator, then the stack', () => {
    expect(assessLimits({ logs: load() }, res(20, 30), 0.95)).toEqual({ limitedBy: 'nothing', reasons: [] });
    expect(
      assessLimits({ logs: load({ counts: { ...load().counts, refused: 10 } }) }, res(20, 30), 0.95).limitedBy,
    ).toBe('stack');
    const gen = assessLimits({ logs: load({ counts: { ...load().counts, dropped: 400 } }) }, res(20, 30), 0.95);
    expect(gen).toMatchObject({
      limitedBy: 'generator',
      reasons: ['logs: the generator dropped 400 items (requests in flight at the limit)'],
    });
    expect(assessLimits({ logs: load({ scheduleLagMs: { ...lag, p99: 2500 } }) }, res(20, 30), 0.95).limitedBy).toBe(
      'generator',
    );
    expect(assessLimits({ logs: load() }, res(20, 97), 0.95)).toMatchObject({
      limitedBy: 'machine',
      reasons: [expect.stringMatching(/2 cores were 97% busy/) as unknown],
    });
  });
});

describe('collector variants', () => {
  it('lists seed and the variants directory', () => {
    expect(listVariants(phase1Dir())).toEqual([
      'seed',
      'costly-filter',
      'hardened',
      'planted-loss',
      'slight-filter',
      'sparse-loss',
    ]);
  });

  it('plants a filter right after memory_limiter in every pipeline (metrics: the histogram only)', () => {
    const def = phase1Definition({ traces: 'tempo', variant: 'planted-loss' }, loadCatalog());
    const config = parse(def.services.find((s) => s.name === 'otelcol')!.files[0]!.content) as {
      processors: Record<
        string,
        { traces?: { span: string[] }; logs?: { log_record: string[] }; metrics?: { datapoint: string[] } }
      >;
      service: { pipelines: Record<string, { processors: string[]; exporters: string[] }> };
    };
    expect(config.service.pipelines.traces!.processors).toEqual([
      'memory_limiter',
      'filter/planted-loss',
      'resource',
      'batch',
    ]);
    expect(config.service.pipelines.logs!.processors).toEqual([
      'memory_limiter',
      'filter/planted-loss',
      'resource',
      'batch',
    ]);
    expect(config.service.pipelines.metrics!.processors).toEqual([
      'memory_limiter',
      'filter/planted-loss',
      'resource',
      'batch',
    ]);
    expect(config.processors['filter/planted-loss']!.traces!.span).toEqual([
      'IsMatch(attributes["otel_harness.span_seq"], "^[1-9][0-9]*00$")',
    ]);
    // The default gauge is never matched: runs without --metric-types lose no metric.
    expect(config.processors['filter/planted-loss']!.metrics!.datapoint).toEqual([
      'metric.name == "otel_harness_soak_hist" and IsMatch(attributes["series"], "^[0-9]*10$")',
    ]);
    expect(def.title).toBe('Phase 1 (traces: tempo, collector variant: planted-loss)');
  });

  it('hardens the collector: no batch processor, batching in the persistent queue, metrics over OTLP', () => {
    const def = phase1Definition({ traces: 'tempo', variant: 'hardened' }, loadCatalog());
    type Exporter = { endpoint?: string; sending_queue?: { storage?: string; batch?: { max_size: number } } };
    const config = parse(def.services.find((s) => s.name === 'otelcol')!.files[0]!.content) as {
      exporters: Record<string, Exporter>;
      service: { pipelines: Record<string, { processors: string[]; exporters: string[] }> };
    };
    for (const p of Object.values(config.service.pipelines))
      expect(p.processors).toEqual(['memory_limiter', 'resource']);
    for (const name of ['otlp_grpc/tempo', 'otlp_http/loki', 'otlp_http/prometheus']) {
      expect(config.exporters[name]!.sending_queue).toMatchObject({
        storage: 'file_storage',
        batch: { max_size: 5000 },
      });
    }
    expect(config.exporters['otlp_http/prometheus']!.endpoint).toBe('http://prometheus:9090/api/v1/otlp');
    expect(config.service.pipelines.metrics!.exporters).toEqual(['otlp_http/prometheus']);
    expect(config.exporters['otlp_grpc/{{traces.backend}}']).toBeUndefined();
  });

  it('removes processors, swaps exporters and rejects edits of unknown pipelines, anchors or exporters', () => {
    const base = 'service:\n  pipelines:\n    traces:\n      processors: [a, batch, c]\n';
    const v = parseVariant('x', 'description: d\npipelines:\n  traces:\n    remove: [batch]\n', 'x.yaml');
    expect(parse(applyVariant(base, v))).toEqual({ service: { pipelines: { traces: { processors: ['a', 'c'] } } } });
    expect(() =>
      applyVariant(base, parseVariant('y', 'description: d\npipelines:\n  logs:\n    add: [z]\n', 'y.yaml')),
    ).toThrow(/pipelines\.logs is invalid/);
    expect(() =>
      applyVariant(
        base,
        parseVariant('z', 'description: d\npipelines:\n  traces:\n    insertAfter: q\n    add: [z]\n', 'z.yaml'),
      ),
    ).toThrow(/insertAfter is invalid, expected one of a, batch, c/);
    const withExporters =
      'exporters:\n  e1: {}\n  e2: {}\n' + base.replace('[a, batch, c]', '[a]\n      exporters: [e1]');
    const swap = (to: string) =>
      applyVariant(
        withExporters,
        parseVariant('w', `description: d\npipelines:\n  traces:\n    exporters: [${to}]\n`, 'w.yaml'),
      );
    expect(parse(swap('e2'))).toMatchObject({ service: { pipelines: { traces: { exporters: ['e2'] } } } });
    expect(() => swap('e3')).toThrow(/variant w pipelines\.traces\.exporters is invalid.*e3/);
    expect(loadVariant(phase1Dir(), 'seed')).toBeUndefined();
  });
});

describe('drain (fake clock, recorded metric text)', () => {
  const clock = () => {
    let now = 0;
    return { now: () => now, sleep: (ms: number) => ((now += ms), Promise.resolve()) };
  };
  const metrics = (queue: number, sent: number) =>
    parsePrometheusText(
      `otelcol_exporter_queue_size{data_type="logs",exporter="x"} ${queue}\notelcol_exporter_sent_log_records{exporter="x"} ${sent}\n`,
    );

  it('waits for an empty queue and still sent counters, then for stable backend counts', async () => {
    const scrapes = [metrics(50, 100), metrics(0, 150), metrics(0, 160), metrics(0, 160)];
    const counts = [100, 150, 160, 160];
    const report = await drain({
      conditions: [
        collectorDrainCondition({
          name: 'otelcol',
          metricsUrl: 'unused',
          read: () => Promise.resolve(scrapes.shift() ?? metrics(0, 160)),
          signals: ['logs'],
          pollMs: 6_000,
        }),
      ],
      signals: ['logs'],
      backendCount: () => Promise.resolve(counts.shift() ?? 160),
      timeoutMs: 120_000,
      backendPollMs: 3_000,
      clock: clock(),
    });
    expect(report).toMatchObject({
      drained: true,
      collectorIdleAtMs: 18_000,
      backendsStableAtMs: 27_000,
      finalCounts: { logs: 160 },
      reason: undefined,
    });
  });

  it('gives up at the timeout and says which condition failed', async () => {
    let sent = 0;
    const report = await drain({
      conditions: [
        collectorDrainCondition({
          name: 'otelcol',
          metricsUrl: 'unused',
          read: () => Promise.resolve(metrics(5, (sent += 10))),
          signals: ['logs'],
          pollMs: 6_000,
        }),
      ],
      signals: ['logs'],
      backendCount: () => Promise.resolve(0),
      timeoutMs: 30_000,
      backendPollMs: 3_000,
      clock: clock(),
    });
    expect(report).toMatchObject({
      drained: false,
      reason: 'the pipeline did not become idle before the drain timeout: 5 requests in otelcol (x) still queued',
      stillQueued: [{ component: 'otelcol', queue: 'x', size: 5, unit: 'requests' }],
    });
  });

  it('with a stall bound, ends early when a queue holds still, but waits out a queue that moves', async () => {
    const run = (read: () => Promise<ReturnType<typeof metrics>>) =>
      drain({
        conditions: [
          collectorDrainCondition({ name: 'otelcol', metricsUrl: 'unused', read, signals: ['logs'], pollMs: 6_000 }),
        ],
        signals: ['logs'],
        backendCount: () => Promise.resolve(0),
        timeoutMs: 120_000,
        stallMs: 20_000,
        backendPollMs: 3_000,
        clock: clock(),
      });
    const stuck = await run(() => Promise.resolve(metrics(3, 100)));
    expect(stuck).toMatchObject({
      drained: false,
      elapsedMs: 24_000,
      reason: 'the pipeline stalled: nothing moved for 24 s while 3 requests in otelcol (x) stayed queued',
    });
    let sent = 0;
    const slow = await run(() => Promise.resolve(metrics(3, (sent += 1))));
    expect(slow.reason).toBe(
      'the pipeline did not become idle before the drain timeout: 3 requests in otelcol (x) still queued',
    );
    expect(slow.elapsedMs).toBeGreaterThanOrEqual(114_000);
  });

  it('never reads a missing queue gauge as empty: the queue is reported not observable', async () => {
    const noGauge = parsePrometheusText('otelcol_exporter_sent_log_records{exporter="x"} 10\n');
    const report = await drain({
      conditions: [
        collectorDrainCondition({
          name: 'otelcol',
          metricsUrl: 'unused',
          read: () => Promise.resolve(noGauge),
          signals: ['logs'],
          pollMs: 6_000,
        }),
      ],
      signals: ['logs'],
      backendCount: () => Promise.resolve(10),
      timeoutMs: 60_000,
      backendPollMs: 3_000,
      clock: clock(),
    });
    expect(report.unobservable).toEqual([
      'otelcol exposes no otelcol_exporter_queue_size for logs (a queue that cannot be read is not taken as empty)',
    ]);
  });

  it('an unreachable collector keeps the drain from ending idle', async () => {
    const report = await drain({
      conditions: [
        collectorDrainCondition({
          name: 'otelcol',
          metricsUrl: 'unused',
          read: () => Promise.reject(new Error('ECONNREFUSED')),
          signals: ['logs'],
          pollMs: 6_000,
        }),
      ],
      signals: ['logs'],
      backendCount: () => Promise.resolve(10),
      timeoutMs: 30_000,
      backendPollMs: 3_000,
      clock: clock(),
    });
    expect(report.drained).toBe(false);
    expect(report.unobservable).toEqual(['otelcol could not be read (ECONNREFUSED)']);
  });
});

describe('renderers', () => {
  const result: SoakResult = {
    schemaVersion: 2,
    tool: { name: 'otel-harness', version: '0.1.0' },
    command: 'soak',
    runId: 'oh-20261121-120000-ab12',
    partial: false,
    startedAt: '2026-11-21T12:00:00.000Z',
    endedAt: '2026-11-21T12:02:00.000Z',
    plan: {
      topology: 'phase1',
      stackOptions: { traces: 'tempo', variant: 'planted-loss' },
      source: 'local',
      target: undefined,
      stackSpec: undefined,
      verifySample: undefined,
      driver: 'native',
      profile: 'constant',
      durationMs: 60000,
      rateRps: 1000,
      signals: { logs: 1000 },
      maxLoss: '0 items',
      minAchievedRatio: 0.95,
      maxLatencyP99Ms: undefined,
    },
    stack: {
      topology: 'phase1',
      title: 'Phase 1 (traces: tempo, collector variant: planted-loss)',
      images: {},
      versions: {},
      configHashes: {},
      manifestHash: undefined,
      bootSeconds: 20,
      endpoints: [],
    },
    load: { elapsedMs: 60000, interrupted: false, signals: { logs: load() } },
    drain: {
      drained: true,
      elapsedMs: 12000,
      collectorIdleAtMs: 6000,
      backendsStableAtMs: 12000,
      finalCounts: {},
      reason: undefined,
      stillQueued: [],
      unobservable: [],
    },
    verification: {
      signals: { logs: verification(599) },
      collectors: {},
      collectorQueuePeak: 0,
      backendCounters: {
        loki: { loki_discarded_samples_total: 0, 'loki_discarded_samples_total{reason=rate_limited}': 0 },
      },
      ingestBytes: {
        logs: { backend: 'loki', bytes: 31_457_280, describe: "uncompressed bytes received by Loki's distributor" },
      },
      collectorLog: [
        {
          count: 12,
          component: 'otlp_http/loki',
          message: 'Exporting failed. Will retry the request after interval.',
          example: 'HTTP Status Code 503, grpc: received message larger than max',
        },
      ],
    },
    latency: {},
    k6: undefined,
    chaos: undefined,
    resources: undefined,
    timeline: { bucketMs: 1000, signals: {}, queue: [] },
    observations: [
      {
        name: 'kafka-lag',
        title: 'Kafka consumer lag',
        lines: ['trace-processors/otlp-traces: peak 102 message(s) at 58 s into the load'],
        figures: { 'trace-processors/otlp-traces peak': 102 },
        series: [],
      },
    ],
    limits: { limitedBy: 'nothing', reasons: [] },
    thresholds: [
      { name: 'logs lost in loki', limit: '≤ 0 (0 items)', actual: '599 of 60000', pass: false, exitCode: 4 },
    ],
    verdict: { status: 'fail', exitCode: 4, reasons: ['logs lost in loki: 599 of 60000 (limit ≤ 0 (0 items))'] },
  };

  it('puts the verdict first in summary.md and names what was lost', () => {
    const md = renderSummary(result);
    expect(md.split('\n')[0]).toBe('# otel-harness soak oh-20261121-120000-ab12: FAIL (exit 4)');
    expect(md).toContain('- log records seq 100'.replace('records', 'record'));
    // Loki collapses duplicates and no ingest counter was read: 'n/a', never a 0 that could not be otherwise.
    expect(md).toContain('| logs | 1,000 | 1,000 | 60,000 | 0 | 0 | 0 | loki | 59,401 | **599** | n/a | 0 |');
    expect(md).not.toContain('{reason=rate_limited}'); // zero breakdowns are left out
    expect(md).toContain(
      "- **loki** (logs): 30.0 MiB, 0.50 MiB/s over the load — uncompressed bytes received by Loki's distributor",
    );
    expect(md).toContain(
      '| 12 | otlp_http/loki | Exporting failed. Will retry the request after interval. | HTTP Status Code 503, grpc: received message larger than max |',
    );
    // A topology's own observation (Phase 2: Kafka lag) gets its section.
    expect(md).toContain(
      '## Kafka consumer lag\n\n- trace-processors/otlp-traces: peak 102 message(s) at 58 s into the load\n',
    );
  });

  it('says a steps or ramp profile offers its rate at the peak, a constant one throughout', () => {
    expect(renderSummary(result)).toContain(
      'native driver, constant profile, 1,000 items/s offered for 60 s (logs 1,000/s)',
    );
    const steps = renderSummary({ ...result, plan: { ...result.plan, profile: 'steps:4' } });
    expect(steps).toContain('native driver, steps:4 profile, up to 1,000 items/s offered for 60 s (logs 1,000/s)');
  });

  it('writes junit.xml with a test case per threshold; a failed one carries its figures', () => {
    const xml = junitOfRun(result);
    expect(xml).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="otel-harness" tests="1" failures="1" errors="0" time="120.000">/,
    );
    expect(xml).toContain(
      '<testcase name="logs lost in loki" classname="otel-harness.soak.logs" time="0.000">\n      <failure message="599 of 60000 (limit ≤ 0 (0 items))" type="failure">',
    );
    expect(xml).toContain('<property name="verdict" value="fail"/>');
    const interrupted = junitOfRun({
      ...result,
      thresholds: [],
      verdict: { status: 'interrupted', reasons: ['SIGINT <now>'] },
    });
    expect(interrupted).toContain('errors="1"');
    expect(interrupted).toContain('<error message="SIGINT &lt;now&gt;" type="error">');
  });

  it('writes one self-contained report.html: the chart library and the data inlined, nothing fetched', () => {
    const html = renderHtml(htmlOfRun(result));
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/);
    expect(html).toContain('uPlot');
    const data = JSON.parse(/<script id="chart-data" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!) as {
      id: string;
    }[];
    expect(data.map((c) => c.id)).toEqual(['chart-rate', 'chart-queue', 'chart-cpu', 'chart-memory', 'chart-latency']);
    expect(html).toContain('<p class="headline fail">FAIL: logs lost in loki: 599 of 60000 (limit ≤ 0 (0 items))</p>');
  });

  it('prints a compact table with the verdict', () => {
    const text = renderTable(result);
    expect(text).toMatch(
      /^SIGNAL +OFFERED\/S +ACHIEVED\/S +ACKED +REFUSED +FAILED +DROPPED +LOST +DUPS +P99 LATENCY\nlogs +1000 +1000 +60000 +0 +0 +0 +599 +n\/a +-\n/,
    );
    expect(text).toContain('verdict: FAIL (exit 4); limited by: nothing');
  });
});
