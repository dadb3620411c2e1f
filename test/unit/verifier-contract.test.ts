/**
 * The contract every verifier passes, on answers shaped like the ones recorded from the real backends
 * (support/backend-sims.ts): planted loss found exactly, zero on a clean run, an unacknowledged item that
 * arrived never cancels an acknowledged one that did not, disagreeing methods make the verdict inconclusive,
 * declared rejections are accounted apart from silent loss, and duplicates are counted or said to be not
 * observable — never a 0 that could not be anything else.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MetricShape, MetricTimeline } from '../../generators/index.js';
import { Ledger, type Outcome, type Signal } from '../../src/load/ledger.js';
import { thresholds } from '../../src/soak/assess.js';
import { accountDrain, accountRejections } from '../../src/verify/accounting.js';
import { backendOf } from '../../src/verify/backends/registry.js';
import { expectationOf, type Expectation, type TraceExpectation } from '../../src/verify/expectation.js';
import type { TraceSampling } from '../../src/verify/sampling/tail-sampling.js';
import type { SignalVerification } from '../../src/verify/verification.js';
import { startSim, type Sim, type World } from './support/backend-sims.js';

const LOAD_START = Date.UTC(2026, 11, 1, 10, 0, 0);
const RUN = 'oh-20261201-100000-0123456789abcdef';
const clock = { now: () => 0, sleep: () => Promise.resolve() };
const METRIC_SHAPE: MetricShape = { series: 10, intervalMs: 100 };
const METRIC_TIMELINE: MetricTimeline = {
  startMs: LOAD_START,
  profile: { kind: 'constant' },
  rate: 100,
  durationMs: 3_600_000,
};

interface Case {
  backend: 'jaeger' | 'tempo' | 'loki' | 'prometheus' | 'mimir';
  signal: Signal;
  spansPerTrace: number;
  units: number;
  batch: number;
  /** Unix ms a unit is stamped (the generator's clock). */
  timeOf: (seq: number) => number;
  /** A second, independent reading that can disagree with the evidence. */
  crossCheck: boolean;
  duplicatesVisible: boolean;
}

const metricTime = (seq: number) => LOAD_START + Math.floor(seq / METRIC_SHAPE.series) * 100;
const CASES: Case[] = [
  {
    backend: 'jaeger',
    signal: 'traces',
    spansPerTrace: 3,
    units: 2_500,
    batch: 50,
    timeOf: (s) => LOAD_START + s * 10,
    crossCheck: false,
    duplicatesVisible: false,
  },
  {
    backend: 'tempo',
    signal: 'traces',
    spansPerTrace: 3,
    units: 2_500,
    batch: 50,
    timeOf: (s) => LOAD_START + s * 10,
    crossCheck: true,
    duplicatesVisible: true,
  },
  {
    backend: 'loki',
    signal: 'logs',
    spansPerTrace: 1,
    units: 3_500,
    batch: 100,
    timeOf: (s) => LOAD_START + s * 10,
    crossCheck: true,
    duplicatesVisible: false,
  },
  {
    backend: 'prometheus',
    signal: 'metrics',
    spansPerTrace: 1,
    units: 3_500,
    batch: 100,
    timeOf: metricTime,
    crossCheck: false,
    duplicatesVisible: false,
  },
  {
    backend: 'mimir',
    signal: 'metrics',
    spansPerTrace: 1,
    units: 3_500,
    batch: 100,
    timeOf: metricTime,
    crossCheck: false,
    duplicatesVisible: false,
  },
];

/** A ledger of `units` sent in batches; `outcome` decides each batch by its first seq. */
function ledgerOf(c: Case, outcome: (first: number) => Outcome, rejected?: (first: number) => number): Ledger {
  const ledger = new Ledger({ traces: c.spansPerTrace, metrics: 1, logs: 1 });
  for (let first = 0; first < c.units; first += c.batch) {
    const count = Math.min(c.batch, c.units - first);
    const r = rejected?.(first) ?? 0;
    ledger.record(c.signal, {
      first,
      count,
      outcome: outcome(first),
      answer: '200',
      atMs: c.timeOf(first + count - 1) - LOAD_START + 5,
      ...(r > 0 ? { rejected: r, rejectMessage: 'planted rejection' } : {}),
    });
  }
  return ledger;
}

function expectation(c: Case, ledger: Ledger): Expectation {
  const base = expectationOf(ledger, c.signal, { runId: RUN, serviceName: 'otel-harness-soak' }, LOAD_START, 10_000);
  if (c.signal === 'traces') return { ...base, spansPerTrace: c.spansPerTrace } as Expectation;
  if (c.signal === 'logs') return { ...base, seqBlockSize: 1_000 } as Expectation;
  return { ...base, shape: METRIC_SHAPE, timeline: METRIC_TIMELINE } as Expectation;
}

let sims: Sim[] = [];
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
});

async function verify(
  c: Case,
  ledger: Ledger,
  copies: (seq: number, index: number) => number,
  world: Partial<World> = {},
  traceSample?: number,
  extra: Partial<TraceExpectation> = {},
): Promise<SignalVerification> {
  const sim = await startSim(c.backend, {
    runId: RUN,
    units: c.units,
    copies,
    timeOf: c.timeOf,
    spansPerTrace: c.spansPerTrace,
    metricShape: METRIC_SHAPE,
    metricTimeline: METRIC_TIMELINE,
    ...world,
  });
  sims.push(sim);
  const backend = backendOf(c.backend, { query: sim.url });
  const v = await backend.verify(
    { ...expectation(c, ledger), ...extra },
    {
      progress: () => undefined,
      clock,
      requestTimeoutMs: 10_000,
      ...(traceSample === undefined ? {} : { traceSample }),
    },
  );
  return accountRejections(v, ledger.rejections(c.signal));
}

const all = () => 'acknowledged' as Outcome;

describe.each(CASES)('verifier contract: $backend', (c) => {
  const items = c.units * c.spansPerTrace;

  it('reports zero on a clean run, every item counted', async () => {
    const v = await verify(c, ledgerOf(c, all), () => 1);
    expect(v).toMatchObject({
      backend: c.backend,
      expected: items,
      found: items,
      lost: 0,
      outcome: { status: 'pass' },
    });
    expect(v.lostRanges).toEqual([]);
    expect(v.sample).toBeUndefined();
  });

  it('finds planted loss exactly, by a rule that is not the sequence number, and names it', async () => {
    // Absent: items whose (seq × 7 + index × 13) mod 211 is 5 — scattered over blocks, series and spans.
    const planted = (seq: number, index: number) => (seq * 7 + index * 13) % 211 === 5;
    let absent = 0;
    const absentSeqs = new Set<number>();
    for (let s = 0; s < c.units; s++)
      for (let i = 0; i < c.spansPerTrace; i++)
        if (planted(s, i)) {
          absent++;
          absentSeqs.add(s);
        }
    const v = await verify(c, ledgerOf(c, all), (s, i) => (planted(s, i) ? 0 : 1));
    expect(absent).toBeGreaterThan(10);
    expect(v.lost).toBe(absent);
    expect(v.found).toBe(items - absent);
    expect(v.lostRanges.flatMap((r) => Array.from({ length: r.count }, (_, k) => r.first + k))).toEqual(
      [...absentSeqs].sort((a, b) => a - b),
    );
    expect(v.outcome).toMatchObject({ status: 'fail', expected: items });
    expect(v.lostExamples.length).toBeGreaterThan(0);
  });

  it('never lets an unacknowledged item that arrived cancel an acknowledged one that did not', async () => {
    // Every 7th batch timed out (not acknowledged) but reached the backend; one acknowledged item is absent.
    const failed = (first: number) => (first / c.batch) % 7 === 3;
    const ledger = ledgerOf(c, (first) => (failed(first) ? 'failed' : 'acknowledged'));
    const lostSeq = 4 * c.batch + 2; // next to the first unacknowledged batch (3 × batch)
    const v = await verify(c, ledger, (s) => (s === lostSeq ? 0 : 1));
    expect(v.lost).toBe(c.spansPerTrace);
    expect(v.lostRanges).toEqual([{ first: lostSeq, count: 1 }]);
    expect(v.unacknowledgedFound).toBeGreaterThan(0);
    expect(v.outcome.status).toBe('fail');
  });

  it('accounts declared rejections (OTLP partial success) apart from silent loss', async () => {
    // The batch at seq 500 declared 2 items rejected; 2 of its items are absent, and one more elsewhere.
    const ledger = ledgerOf(c, all, (first) => (first === 500 ? 2 : 0));
    const absent = (s: number, i: number) => (s === 501 || s === 503 || s === 1_703) && i === 0;
    const v = await verify(c, ledger, (s, i) => (absent(s, i) ? 0 : 1));
    expect(v.rejected).toBe(2);
    expect(v.rejectedAbsent).toBe(2);
    expect(v.lost).toBe(1);
    expect(v.outcome).toMatchObject({ status: 'fail' });
    expect(v.notes.join(' ')).toMatch(/declared 2 item\(s\) rejected/);
    const t = thresholds({
      verification: { [c.signal]: v },
      load: {},
      latency: {},
      maxLoss: { kind: 'items', value: 0 },
      minAchievedRatio: 0,
      maxLatencyP99Ms: undefined,
    });
    expect(t.map((x) => [x.name, x.pass])).toEqual([
      [`${c.signal} lost in ${c.backend}`, false],
      [`${c.signal} rejected by the pipeline (OTLP partial success)`, false],
    ]);
  });

  it('says how duplicates were observed, or that they cannot be', async () => {
    const v = await verify(c, ledgerOf(c, all), (s) => (s % 100 === 1 ? 2 : 1));
    if (c.duplicatesVisible) {
      expect(v.duplicates.queryVisible).toBe(25 * c.spansPerTrace);
      expect(v.duplicates.queryVisibleNote).toMatch(/lower bound/);
    } else {
      expect(v.duplicates.queryVisible).toBeNull();
      expect(v.duplicates.queryVisibleNote).toMatch(/^not observable: /);
    }
    expect(v.lost).toBe(0);
  });

  it('turns absence into "inconclusive" when the drain did not finish', async () => {
    const v = await verify(c, ledgerOf(c, all), (s) => (s === 10 ? 0 : 1));
    const drained = accountDrain(v, {
      drained: false,
      elapsedMs: 300_000,
      collectorIdleAtMs: undefined,
      backendsStableAtMs: undefined,
      finalCounts: {},
      reason: 'the pipeline did not become idle before the drain timeout',
      stillQueued: [{ component: 'otelcol', queue: 'otlp_grpc/x', size: 75, unit: 'requests' }],
      unobservable: [],
    });
    expect(drained.outcome).toMatchObject({
      status: 'inconclusive',
      reason: expect.stringMatching(
        /75 requests in otelcol \(otlp_grpc\/x\) still queued.*not counted as lost/,
      ) as unknown,
    });
  });

  if (c.crossCheck) {
    it('makes a disagreement between its two methods inconclusive, with both figures', async () => {
      const world: Partial<World> = c.backend === 'tempo' ? { tempoCount: () => items - 7 } : { lokiMetadata: false };
      const v = await verify(c, ledgerOf(c, all), () => 1, world);
      expect(v.outcome.status).toBe('inconclusive');
      if (c.backend === 'tempo') {
        expect(v.crossCheck).toMatchObject({ value: items - 7, compared: items, agrees: false });
        expect(v.outcome).toMatchObject({ reason: expect.stringContaining(`says ${items - 7}`) as unknown });
      } else {
        expect(v.outcome).toMatchObject({ reason: expect.stringMatching(/structured metadata/) as unknown });
      }
    });
  } else {
    it('has one exact method (nothing to cross-check), and says so by carrying no cross-check', async () => {
      const v = await verify(c, ledgerOf(c, all), () => 1);
      expect(v.crossCheck).toBeUndefined();
    });
  }
});

describe.each(CASES.filter((c) => c.signal === 'traces'))(
  'a tail sampler between acknowledgement and $backend',
  (c) => {
    // A prediction as the oracle gives one: keep traces whose seq × 37 mod 10 is 3 (10 %, scattered).
    const keep = (seq: number) => (seq * 37) % 10 === 3;
    const predicted: TraceSampling = { kind: 'predict', describe: 'test policy (10 %)', decisionWaitMs: 10_000, keep };
    const kept = Array.from({ length: c.units }, (_, s) => s).filter(keep);
    const run = (copies: (seq: number, index: number) => number, sampling: TraceSampling = predicted) =>
      verify(c, ledgerOf(c, all), copies, {}, undefined, { sampling });

    it('expects exactly the traces predicted kept, and checks every predicted-dropped one absent', async () => {
      const v = await run((s) => (keep(s) ? 1 : 0));
      expect(v).toMatchObject({
        expected: kept.length * c.spansPerTrace,
        found: kept.length * c.spansPerTrace,
        lost: 0,
        outcome: { status: 'pass' },
        sampling: { predictedKept: kept.length, predictedDropped: c.units - kept.length, keptUnpredicted: 0 },
      });
      if (c.crossCheck) expect(v.crossCheck?.agrees).toBe(true);
    });

    it('counts a missing span of a predicted-kept trace as lost, and nothing for dropped ones', async () => {
      const victim = kept[7]!;
      const v = await run((s, i) => (keep(s) && !(s === victim && i === 1) ? 1 : 0));
      expect(v.lost).toBe(1);
      expect(v.lostRanges).toEqual([{ first: victim, count: 1 }]);
      expect(v.outcome.status).toBe('fail');
    });

    it('reports traces kept against the prediction apart, and does not pass', async () => {
      const extra = [0, 1, 2].map((k) => k * 10 + 4).filter((s) => !keep(s)); // predicted dropped
      const v = await run((s) => (keep(s) || extra.includes(s) ? 1 : 0));
      expect(v.lost).toBe(0);
      expect(v.sampling).toMatchObject({
        keptUnpredicted: extra.length,
        keptUnpredictedSpans: extra.length * c.spansPerTrace,
      });
      expect(v.outcome).toMatchObject({ status: 'inconclusive' });
      if (c.crossCheck) expect(v.crossCheck?.agrees).toBe(true);
    });

    it('with sampling it cannot predict: absence is not loss, a partial trace is, and a clean run is inconclusive', async () => {
      const unsupported: TraceSampling = {
        kind: 'unsupported',
        reason: 'policy type rate_limiting cannot be predicted',
      };
      const clean = await run((s) => (keep(s) ? 1 : 0), unsupported);
      expect(clean.lost).toBe(0);
      expect(clean.sampling).toMatchObject({ oracle: null, absentUndecided: c.units - kept.length });
      expect(clean.outcome).toMatchObject({ status: 'inconclusive' });
      expect((clean.outcome as { reason: string }).reason).toContain('rate_limiting');
      const victim = kept[3]!;
      const partial = await run((s, i) => (keep(s) && !(s === victim && i === 0) ? 1 : 0), unsupported);
      expect(partial.lost).toBe(1);
      expect(partial.outcome.status).toBe('fail');
      // Every acknowledged trace found whole: nothing was sampled out or lost, whatever the sampler does.
      const all = await run(() => 1, unsupported);
      expect(all.sampling).toMatchObject({ oracle: null, absentUndecided: 0 });
      expect(all.outcome.status).toBe('pass');
    });
  },
);

describe('sampling is an opt-in, and a clean sample passes only within its bound', () => {
  const c = CASES[0]!;
  it('a clean sample is inconclusive against a zero budget, and passes a budget above its 95 % bound', async () => {
    const v = await verify(c, ledgerOf(c, all), () => 1, {}, 300);
    expect(v.sample).toMatchObject({ population: 2_500, sampleSize: 300, missingInSample: 0 });
    const against = (value: number) =>
      thresholds({
        verification: { traces: v },
        load: {},
        latency: {},
        maxLoss: { kind: 'items', value },
        minAchievedRatio: 0,
        maxLatencyP99Ms: undefined,
      })[0]!;
    expect(against(0)).toMatchObject({ pass: false, inconclusive: true, exitCode: 4 });
    expect(against(v.sample!.lostUpper95)).toMatchObject({ pass: true });
  });

  it('loss in the sample fails, estimated', async () => {
    const v = await verify(c, ledgerOf(c, all), (s) => (s % 10 === 0 ? 0 : 1), {}, 500);
    expect(v.outcome.status).toBe('fail');
    expect(v.sample!.missingInSample).toBeGreaterThan(0);
  });
});

describe('the Jaeger verifier asks for many traces per request', () => {
  it('1,000 trace ids per /api/traces request', async () => {
    const c = CASES[0]!;
    const sim = await startSim('jaeger', {
      runId: RUN,
      units: c.units,
      copies: () => 1,
      timeOf: c.timeOf,
      spansPerTrace: 3,
    });
    sims.push(sim);
    await backendOf('jaeger', { query: sim.url }).verify(expectation(c, ledgerOf(c, all)), {
      progress: () => undefined,
      clock,
      requestTimeoutMs: 10_000,
    });
    expect(sim.requests.length).toBe(3);
    expect(sim.requests[0]!.split('traceID=').length - 1).toBe(1_000);
  });
});
