import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/parse-args.js';
import { analyseChaos, ackTimeOf, explain, rateSeries, recoveryOf } from '../../src/chaos/chaos-analysis.js';
import { faultWindow, parseFault, planFaults } from '../../src/chaos/chaos-plan.js';
import type { ChaosEvent } from '../../src/chaos/chaos-runner.js';
import { listChaosPresets, loadChaosPreset } from '../../src/chaos/chaos-presets.js';
import { stackFactsOf } from '../../src/chaos/stack-facts.js';
import type { HarnessError } from '../../src/harness-error.js';
import { loadCatalog } from '../../src/images/catalog.js';
import type { LedgerEntry } from '../../src/load/ledger.js';
import { phase1Definition } from '../../src/stack/phase1/definition.js';
import { phase2Configs } from '../../src/stack/phase2/definition.js';
import { notQueryVisible, type SignalVerification } from '../../src/verify/verification.js';

const services = ['otelcol', 'jaeger', 'prometheus', 'loki'];

describe('fault grammar', () => {
  it('parses every action with its start, duration and value', () => {
    expect(parseFault('kill:collector@60s', services)).toMatchObject({
      action: 'kill',
      target: 'otelcol',
      atMs: 60_000,
      durationMs: 0,
    });
    expect(parseFault('restart:collector@1m', services)).toMatchObject({ action: 'restart', atMs: 60_000, value: 30 });
    expect(parseFault('restart:otelcol@10s=5', services).value).toBe(5);
    expect(parseFault('pause:loki@30s+20s', services)).toMatchObject({
      action: 'pause',
      target: 'loki',
      durationMs: 20_000,
    });
    expect(parseFault('partition:traces@10s+5s', services, { traces: 'jaeger' })).toMatchObject({ target: 'jaeger' });
    expect(parseFault('throttle:collector@10s+30s=0.25', services)).toMatchObject({ value: 0.25, durationMs: 30_000 });
    expect(faultWindow(parseFault('restart:collector@10s=5', services))).toEqual({ startMs: 10_000, endMs: 15_000 });
  });

  it('rejects what cannot run, one message each (exit 2)', () => {
    const msg = (spec: string) => {
      try {
        parseFault(spec, services);
      } catch (err) {
        expect((err as HarnessError).exitCode).toBe(2);
        return (err as HarnessError).message;
      }
      throw new Error(`accepted ${spec}`);
    };
    expect(msg('kill collector')).toMatch(/--chaos is invalid, expected faults like/);
    expect(msg('pause:loki@30s')).toMatch(/--chaos pause is invalid, expected a duration/);
    expect(msg('partition:collector@3s+1s')).toMatch(/partition target is invalid, expected a backend/);
    expect(msg('throttle:loki@3s+1s')).toMatch(/throttle is invalid, expected a CPU limit/);
    expect(msg('kill:loki@3s=2')).toMatch(/--chaos kill is invalid, expected no =value/);
    expect(msg('scale:gateway@10s=3')).toMatch(/--chaos scale is invalid, expected a topology with scalable roles/);
  });

  it('scales a role of a topology that can: to a whole number of instances, for good', () => {
    const scalable = ['gateway', 'processor'];
    expect(parseFault('scale:gateway@60s=3', services, {}, scalable)).toMatchObject({
      action: 'scale',
      target: 'gateway',
      atMs: 60_000,
      durationMs: 0,
      value: 3,
    });
    const bad = (spec: string) => () => parseFault(spec, services, {}, scalable);
    expect(bad('scale:kafka@10s=2')).toThrow(/scale target is invalid, expected one of gateway, processor/);
    expect(bad('scale:gateway@10s')).toThrow(/expected a number of instances/);
    expect(bad('scale:gateway@10s=0')).toThrow(/expected a number of instances/);
    expect(bad('scale:gateway@10s+5s=2')).toThrow(/expected no \+duration/);
  });

  it('orders faults and refuses late or overlapping ones', () => {
    expect(planFaults(['kill:loki@30s', 'pause:jaeger@10s+5s'], services, 60_000).map((f) => f.spec)).toEqual([
      'pause:jaeger@10s+5s',
      'kill:loki@30s',
    ]);
    expect(() => planFaults(['kill:loki@60s'], services, 60_000)).toThrow(/a start before the load ends/);
    expect(() => planFaults(['outage:loki@10s+20s', 'kill:loki@25s'], services, 60_000)).toThrow(
      /faults on loki that do not overlap/,
    );
    expect(() => planFaults(['restart:collector@10s=30', 'kill:collector@30s'], services, 60_000)).toThrow(
      /do not overlap/,
    );
    expect(planFaults(['outage:loki@10s+20s', 'kill:otelcol@15s'], services, 60_000).length).toBe(2); // different containers
  });
});

describe('presets', () => {
  it('provide the CI scenarios, each a valid schedule within its duration', () => {
    expect(listChaosPresets()).toEqual([
      'agent-kill',
      'agent-restart',
      'backend-outage',
      'collector-kill',
      'collector-restart',
      'mimir-outage',
      'network-partition',
      'object-store-outage',
      'prometheus-restart',
      'rotate-storm',
      'scrape-target-restart',
    ]);
    for (const name of listChaosPresets()) {
      const p = loadChaosPreset(name);
      const cmd = parseArgs(['chaos', '--scenario', name], {});
      expect(cmd.name).toBe('chaos');
      if (cmd.name !== 'chaos') continue;
      expect(cmd.plan.options.chaos).toBe(p.faults.length === 0 ? undefined : p.faults.join(','));
      expect(cmd.plan.options.durationMs).toBe(Number.parseInt(p.defaults.duration!, 10) * 1000);
    }
    // A preset's stack options reach the stack: the store's outage runs on the store, verified from it.
    const store = parseArgs(['chaos', '--scenario', 'object-store-outage'], {});
    expect(store).toMatchObject({
      name: 'chaos',
      plan: { options: { verifyFromStore: true, storeHandover: 'flush' }, stack: { options: { storage: 's3' } } },
    });
    const phase2 = parseArgs(['chaos', '--phase', '2', '--scenario', 'object-store-outage'], {});
    expect(phase2).toMatchObject({ plan: { stack: { options: { storage: 's3' } } } });
  });

  it('lets command-line options win over a preset', () => {
    const cmd = parseArgs(['chaos', '--scenario', 'collector-kill', '--variant', 'hardened', '--duration', '90s'], {});
    expect(cmd).toMatchObject({
      name: 'chaos',
      preset: 'collector-kill',
      plan: {
        options: { durationMs: 90_000, chaos: 'kill:collector@25s' },
        stack: { options: { variant: 'hardened' } },
      },
    });
  });
});

describe('stack facts', () => {
  it('reads the batch timeout, retry limit and in-memory exporters of the collector that ran', () => {
    const config = (variant: string) =>
      phase1Definition({ traces: 'jaeger', variant }, loadCatalog()).services.find((s) => s.name === 'otelcol')!
        .files[0]!.content;
    expect(stackFactsOf(config('seed'), 'seed')).toEqual({
      variant: 'seed',
      role: undefined,
      decisionWaitMs: undefined,
      readsKafka: false,
      batchTimeoutMs: 5_000,
      retryMaxElapsedMs: 300_000,
      inMemoryExporter: { metrics: 'prometheus_remote_write' },
    });
    expect(stackFactsOf(config('hardened'), 'hardened')).toMatchObject({
      variant: 'hardened',
      batchTimeoutMs: undefined,
      retryMaxElapsedMs: 300_000,
      inMemoryExporter: {},
    });
  });

  it('knows a Phase 2 processor reads Kafka and tail-samples, and says what its SIGKILL costs traces', () => {
    const processor = phase2Configs({ gateways: 1, processors: 1, kafkaPort: 1 }).processor;
    const facts = stackFactsOf(processor, 'seed', 'processor');
    expect(facts).toMatchObject({ role: 'processor', decisionWaitMs: 10_000, readsKafka: true });
    const kill = {
      spec: 'kill:processor@40s',
      action: 'kill' as const,
      target: 'processor-1',
      plannedAtMs: 40_000,
      startedAtMs: 40_000,
      endedAtMs: 40_800,
      readyAtMs: 41_000,
      error: undefined,
    };
    const [lost] = explain(kill, 'traces', { lost: 310, duplicates: 0, ackFromMs: -11_400, ackToMs: -1_200 }, facts);
    expect(lost).toBe(
      '310 spans lost at the SIGKILL of processor-1 (acknowledged from 11.4 s before to 1.2 s before the fault): its tail sampler held these traces for decision_wait (10 s) and returns as soon as a trace is buffered, so their Kafka offsets were already committed — traces through a tail sampler are at-most-once across a crash.',
    );
    const [dup] = explain(
      kill,
      'logs',
      { lost: 0, duplicates: 7_689, ackFromMs: undefined, ackToMs: undefined },
      facts,
    );
    expect(dup).toMatch(/Kafka delivered again the records after the last offset it had committed/);
  });
});

const entry = (
  first: number,
  count: number,
  atMs: number,
  outcome: LedgerEntry['outcome'] = 'acknowledged',
): LedgerEntry => ({ first, count, atMs, outcome });

describe('recovery', () => {
  // 100 items/s offered; acknowledgements stop between 10 s and 14 s (the collector is down).
  const entries: LedgerEntry[] = [];
  for (let s = 0; s < 30; s++)
    entries.push(entry(s * 100, 100, s * 1000 + 500, s >= 10 && s < 14 ? 'failed' : 'acknowledged'));
  const series = rateSeries(entries, 1);

  it('measures the time until the acknowledged rate is back to 95 % of offered', () => {
    expect(recoveryOf(series, 10_000, 10_500)).toEqual({ minRatio: 0, recoveredAtMs: 14_000, seconds: 4 });
  });

  it('reports zero when the acknowledged rate never dropped', () => {
    expect(recoveryOf(series, 20_000, 25_000)).toEqual({ minRatio: 1, recoveredAtMs: 20_000, seconds: 0 });
  });

  it('finds the acknowledgement time of a sequence number', () => {
    const sorted = entries.filter((e) => e.outcome === 'acknowledged');
    expect(ackTimeOf(sorted, 250)).toBe(2_500);
    expect(ackTimeOf(sorted, 1050)).toBeUndefined(); // failed, never acknowledged
  });
});

describe('attribution', () => {
  const kill: ChaosEvent = {
    spec: 'kill:collector@10s',
    action: 'kill',
    target: 'otelcol',
    plannedAtMs: 10_000,
    startedAtMs: 10_000,
    endedAtMs: 10_400,
    readyAtMs: 11_500,
    error: undefined,
  };
  const facts = {
    variant: 'seed',
    batchTimeoutMs: 5_000,
    retryMaxElapsedMs: 300_000,
    inMemoryExporter: { metrics: 'prometheus_remote_write' },
  };
  const entries = Array.from({ length: 30 }, (_, s) => entry(s * 10, 10, s * 1000 + 500));
  const lostLogs: SignalVerification = {
    signal: 'logs',
    backend: 'loki',
    method: 'm',
    expected: 300,
    found: 280,
    lost: 20,
    rejected: 0,
    rejectedAbsent: 0,
    duplicates: notQueryVisible('Loki keeps one copy'),
    unacknowledgedFound: 0,
    lostRanges: [{ first: 80, count: 20 }],
    lostExamples: [],
    figures: {},
    outcome: { status: 'pass' },
    notes: [],
  };

  it('ties each lost item to the fault near its acknowledgement and explains it', () => {
    const report = analyseChaos({
      events: [kill],
      ledger: { logs: { entries, itemsPerSeq: 1 } },
      verification: { logs: lostLogs },
      queue: [
        { tMs: 9_000, size: 0 },
        { tMs: 11_000, size: 40 },
        { tMs: 13_000, size: 0 },
      ],
      facts,
    });
    const f = report.faults[0]!;
    expect(f.attributed.logs).toEqual({ lost: 20, duplicates: 0, ackFromMs: -1_500, ackToMs: -500 });
    expect(f.queuePeak).toBe(40);
    expect(f.queueDrainSeconds).toBe(1.5);
    expect(f.explanations).toEqual([
      '20 log records lost at the SIGKILL (acknowledged from 1.5 s before to 0.5 s before the fault): the batch processor acknowledges before the persistent queue sees the data and held it in memory (up to its 5 s timeout) when the process died.',
    ]);
    expect(report.unattributed).toEqual({});
  });

  it('says what a scale did, and gives the records Kafka delivered again to the one fault that moved partitions', () => {
    const scale = {
      spec: 'scale:processor@50s=3',
      action: 'scale' as const,
      target: 'processor',
      plannedAtMs: 50_000,
      startedAtMs: 50_000,
      endedAtMs: 52_400,
      readyAtMs: 52_400,
      error: undefined,
      scaled: { started: ['processor-3'], removed: [], settledAtMs: 52_400 },
    };
    const replayed: SignalVerification = {
      ...lostLogs,
      lost: 0,
      lostRanges: [],
      duplicates: {
        ...notQueryVisible('Loki keeps one copy'),
        delivered: 0,
        deliveredNote: 'counted',
        redelivered: {
          value: 7_001,
          note: 'the collectors reading Kafka accepted 52,001, the ones writing it sent 45,000',
        },
      },
    };
    const report = analyseChaos({
      events: [scale],
      ledger: { logs: { entries, itemsPerSeq: 1 } },
      verification: { logs: replayed },
      queue: [],
      facts,
    });
    expect(report.faults[0]!.explanations).toEqual([
      'processor: started processor-3; every consumer group Stable with the new members 2.4 s after the change.',
      '7001 log records read again from Kafka in the run: when partitions moved, the records after the last committed offset were delivered again (at-least-once; the collectors reading Kafka accepted 52,001, the ones writing it sent 45,000) — duplicates, not loss.',
    ]);
  });

  it("never gives a signal's loss to a fault on another signal's backend: a trace backend's outage loses no log line", () => {
    const outage: ChaosEvent = { ...kill, spec: 'outage:traces@10s+2s', action: 'outage', target: 'jaeger' };
    const signalsOf = (target: string) => ({ jaeger: ['traces' as const], loki: ['logs' as const] })[target];
    const report = analyseChaos({
      events: [outage],
      ledger: { logs: { entries, itemsPerSeq: 1 } },
      verification: { logs: lostLogs },
      queue: [],
      facts,
      signalsOf,
    });
    expect(report.faults[0]!.attributed).toEqual({});
    expect(report.unattributed).toEqual({ logs: { lost: 20, duplicates: 0 } });
    // The same loss near a Loki outage is the Loki outage's.
    const onLoki = analyseChaos({
      events: [{ ...outage, spec: 'outage:loki@10s+2s', target: 'loki' }],
      ledger: { logs: { entries, itemsPerSeq: 1 } },
      verification: { logs: lostLogs },
      queue: [],
      facts,
      signalsOf,
    });
    expect(onLoki.faults[0]!.attributed.logs).toMatchObject({ lost: 20 });
  });

  it('counts loss far from every fault as unattributed, and spans per trace exactly', () => {
    const traces: SignalVerification = {
      ...lostLogs,
      signal: 'traces',
      lost: 7,
      lostRanges: [{ first: 290, count: 2 }],
      itemsBySeq: { lost: { '290': 5, '291': 2 }, duplicates: {} },
    };
    const report = analyseChaos({
      events: [kill],
      ledger: { traces: { entries, itemsPerSeq: 5 } },
      verification: { traces },
      queue: [],
      facts,
    });
    expect(report.unattributed).toEqual({ traces: { lost: 7, duplicates: 0 } });
  });

  it('never calls undecided absence or a declared rejection "lost at the fault"', () => {
    const undecided: SignalVerification = {
      ...lostLogs,
      outcome: { status: 'inconclusive', reason: '20 not in loki yet, 75 requests still queued' },
    };
    const a = analyseChaos({
      events: [kill],
      ledger: { logs: { entries, itemsPerSeq: 1 } },
      verification: { logs: undecided },
      queue: [],
      facts,
    });
    expect(a.faults[0]!.attributed.logs).toMatchObject({ lost: 0, absent: 20 });
    expect(a.faults[0]!.explanations[0]).toMatch(
      /^20 log records acknowledged around the kill of otelcol are absent .* could not call them lost/,
    );
    const declared = analyseChaos({
      events: [kill],
      ledger: {
        logs: { entries, itemsPerSeq: 1, rejections: [{ first: 80, count: 10, rejected: 10, message: 'dropped' }] },
      },
      verification: { logs: { ...lostLogs, outcome: { status: 'fail', expected: 300, actual: 280, reason: 'r' } } },
      queue: [],
      facts,
    });
    expect(declared.faults[0]!.attributed.logs).toMatchObject({ lost: 10, rejected: 10 });
  });

  it('explains metrics lost at a collector kill by the in-memory remote-write queue, and duplicates by redelivery', () => {
    expect(explain(kill, 'metrics', { lost: 3, duplicates: 0, ackFromMs: -2000, ackToMs: -100 }, facts)[0]).toMatch(
      /prometheus_remote_write exporter has no persistent sending queue/,
    );
    expect(
      explain(
        kill,
        'traces',
        { lost: 0, duplicates: 12, ackFromMs: undefined, ackToMs: undefined },
        { ...facts, variant: 'hardened', batchTimeoutMs: undefined, inMemoryExporter: {} },
      ),
    ).toEqual([
      '12 spans stored twice after the kill of otelcol: the persistent queue re-sent batches whose export had completed but was not yet marked done (at-least-once delivery).',
    ]);
  });
});
