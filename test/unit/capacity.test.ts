import { describe, expect, it } from 'vitest';
import {
  passes,
  roundRate,
  searchRate,
  TrialBook,
  type Criterion,
  type SearchOptions,
  type TrialOutcome,
} from '../../src/capacity/capacity-search.js';
import { componentCosts, ingestCosts, linearFit, type IngestCost } from '../../src/capacity/capacity-cost.js';
import { publishedFigures, sizeFor } from '../../src/capacity/capacity-sizing.js';
import { failureCauses, stackFindings, whoLimited, type TrialRecord } from '../../src/capacity/capacity.js';
import { capacityHtml, capacityJunit, renderCapacitySummary } from '../../src/capacity/capacity-report.js';
import { renderHtml } from '../../src/report/render-html.js';
import type { SignalVerification } from '../../src/verify/verification.js';

const NDR: Criterion = { name: 'NDR', maxLossRatio: 0 };
const OPTIONS: SearchOptions = {
  fromRps: 1_000,
  toRps: 100_000,
  trialMs: 20_000,
  confirmMs: 60_000,
  precision: 0.05,
  factor: 2,
  maxTrials: 30,
};

/** A seeded PRNG (mulberry32), so every simulated search is repeatable. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A simulated stack: it holds `knee` items/s for a full-length trial; a short trial sees a knee up to
 * `shortBonus` higher (queues absorb a burst) and each trial's effective knee moves by ±`noise` at random.
 * Above its knee it loses a share of what it is offered.
 */
function simulatedStack(knee: number, noise: number, shortBonus: number, seed: number) {
  const random = prng(seed);
  return (rateRps: number, durationMs: number): Promise<TrialOutcome> => {
    const effective = knee * (durationMs < OPTIONS.confirmMs ? 1 + shortBonus : 1) * (1 + (random() * 2 - 1) * noise);
    const expected = Math.round((rateRps * durationMs) / 1000);
    const lost = rateRps <= effective ? 0 : Math.ceil(((rateRps - effective) / rateRps) * expected);
    return Promise.resolve({
      conclusive: true,
      lost,
      expected,
      sloMisses: [],
      limitedBy: lost > 0 ? 'stack' : 'nothing',
      reasons: lost > 0 ? ['collector: sending queue full'] : [],
    });
  };
}

describe('capacity search', () => {
  it.each([
    [12_000, 0.0, 0.0, 1],
    [12_000, 0.01, 0.0, 2],
    [7_300, 0.01, 0.08, 3],
    [41_000, 0.015, 0.03, 4],
    [1_900, 0.01, 0.0, 5],
  ])(
    'finds a knee of %i items/s (noise ±%f, short-trial bonus %f) inside an interval no wider than asked',
    async (knee, noise, bonus, seed) => {
      const book = new TrialBook(simulatedStack(knee, noise, bonus, seed));
      const bound = await searchRate(book, NDR, OPTIONS);
      expect(bound.kind).toBe('interval');
      // The lower end passed a full-length trial, so it is at most the full-length knee (plus its noise).
      const lowerTrial = book.trials.find((t) => t.n === bound.lowerTrial)!;
      expect(lowerTrial.durationMs).toBe(OPTIONS.confirmMs);
      expect(lowerTrial.lost).toBe(0);
      expect(bound.lowerRps!).toBeLessThanOrEqual(knee * (1 + noise));
      expect(bound.upperRps!).toBeGreaterThan(bound.lowerRps!);
      expect(bound.relativeWidth!).toBeLessThanOrEqual(OPTIONS.precision + 0.01);
      // The upper end failed, so it is above the knee of its trial (short or full length).
      expect(bound.upperRps!).toBeGreaterThan(knee * (1 - noise));
      expect(book.trials.length).toBeLessThanOrEqual(14);
    },
  );

  it('a short pass that fails its confirmation becomes the upper end; the search goes on with full-length trials', async () => {
    const book = new TrialBook(simulatedStack(10_000, 0, 0.3, 7));
    const bound = await searchRate(book, NDR, OPTIONS);
    expect(bound.kind).toBe('interval');
    const confirmations = book.trials.filter((t) => t.phase === 'confirm');
    expect(confirmations.length).toBeGreaterThanOrEqual(2);
    expect(confirmations[0]!.lost).toBeGreaterThan(0);
    expect(bound.lowerRps!).toBeLessThanOrEqual(10_000);
    expect(bound.upperRps!).toBeGreaterThan(10_000);
  });

  it('reports a stack that fails at the lower end as below the range, with the trial that showed it', async () => {
    const book = new TrialBook(simulatedStack(500, 0, 0, 1));
    const bound = await searchRate(book, NDR, OPTIONS);
    expect(bound).toMatchObject({ kind: 'below-range', lowerRps: undefined, upperRps: 1_000, upperTrial: 1 });
    expect(bound.note).toMatch(/fails at the lower end of the range \(1000 items\/s\)/);
    expect(book.trials).toHaveLength(1);
  });

  it('says "above the range" when the upper end passes, and never offers more than it', async () => {
    const book = new TrialBook(simulatedStack(1_000_000, 0, 0, 1));
    const bound = await searchRate(book, NDR, { ...OPTIONS, toRps: 20_000 });
    expect(bound).toMatchObject({ kind: 'above-range', lowerRps: 20_000, upperRps: undefined });
    expect(Math.max(...book.trials.map((t) => t.rateRps))).toBe(20_000);
  });

  it('stops at the trial budget and says the interval is unfinished', async () => {
    const book = new TrialBook(simulatedStack(12_000, 0, 0, 1));
    const bound = await searchRate(book, NDR, { ...OPTIONS, maxTrials: 4 });
    expect(bound.kind).toBe('unfinished');
    expect(bound.note).toMatch(/--max-trials 4/);
    expect(book.trials).toHaveLength(4);
  });

  it('an inconclusive trial never passes, and PDR reuses the trials NDR ran', async () => {
    expect(
      passes({ conclusive: false, lost: 0, expected: 10, sloMisses: [], limitedBy: 'nothing', reasons: ['x'] }, NDR),
    ).toBe(false);
    expect(
      passes({ conclusive: true, lost: 0, expected: 10, sloMisses: ['p99'], limitedBy: 'nothing', reasons: [] }, NDR),
    ).toBe(false);
    let runs = 0;
    const stack = simulatedStack(12_000, 0, 0, 1);
    const book = new TrialBook((rate, ms) => {
      runs++;
      return stack(rate, ms);
    });
    const ndr = await searchRate(book, NDR, OPTIONS);
    const before = runs;
    const pdr = await searchRate(book, { name: 'PDR', maxLossRatio: 0.005 }, OPTIONS);
    expect(pdr.lowerRps!).toBeGreaterThanOrEqual(ndr.lowerRps!);
    // The bracket of PDR replays NDR's trials from the book: fewer new runs than a search from scratch.
    expect(runs - before).toBeLessThan(before);
  });

  it('rounds rates to a grid of about 0.5 %', () => {
    expect(roundRate(1_234)).toBe(1_230);
    expect(roundRate(12_345)).toBe(12_350);
    expect(roundRate(123_456)).toBe(123_500);
    expect(roundRate(3)).toBe(10);
  });
});

describe('capacity cost and sizing', () => {
  it('fits a line with its R² and finds the cost per 1,000 items/s of each component', () => {
    const fit = linearFit([1, 2, 3, 4], [110, 210, 310, 410])!;
    expect(fit.slope).toBeCloseTo(100, 9);
    expect(fit.intercept).toBeCloseTo(10, 9);
    expect(fit.r2).toBeCloseTo(1, 9);
    expect(linearFit([2, 2], [1, 3])).toBeUndefined(); // one rate: no slope
    const noisy = linearFit([1, 2, 3, 4], [100, 230, 290, 420])!;
    expect(noisy.r2!).toBeGreaterThan(0.9);
    expect(noisy.r2!).toBeLessThan(1);

    const usage = (cpuMeanPct: number, memoryMeanMiB: number) => ({
      samples: 10,
      cpuMeanPct,
      cpuMaxPct: cpuMeanPct,
      memoryMeanMiB,
      memoryMaxMiB: memoryMeanMiB,
    });
    const costs = componentCosts([
      { rateRps: 2_000, containers: { collector: usage(22, 120), loki: usage(5, 80) } },
      { rateRps: 4_000, containers: { collector: usage(42, 140), loki: usage(5, 80) } },
      { rateRps: 8_000, containers: { collector: usage(82, 180), loki: usage(5, 80) } },
    ]);
    const collector = costs.find((c) => c.component === 'collector')!;
    // 10 percentage points of a core per 1,000 items/s = 100 millicores; 2 % idle = 20 millicores.
    expect(collector.cpuMillicoresPer1k).toBeCloseTo(100, 6);
    expect(collector.cpuIdleMillicores).toBeCloseTo(20, 6);
    expect(collector.memoryMiBPer1k).toBeCloseTo(10, 6);
    expect(collector.points).toBe(3);
    const loki = costs.find((c) => c.component === 'loki')!;
    expect(loki.cpuMillicoresPer1k).toBeCloseTo(0, 9);
    expect(loki.cpuR2).toBeUndefined(); // flat: nothing to explain

    const sizing = sizeFor({
      targetRps: 25_000,
      headroom: 0.5,
      kneeRps: 9_000,
      shares: { traces: 1 / 3, metrics: 1 / 3, logs: 1 / 3 },
      costs,
      ingest: [{ backend: 'tempo', signal: 'traces', bytesPerSecPer1k: 400_000, idleBytesPerSec: 0, r2: 1, points: 3 }],
      fittedUpToRps: 8_000,
      tailSampling: false,
    });
    // Tempo's ingest at the target, without headroom: 400 kB/s × 25 = 10 MB/s = 9.54 MiB/s.
    expect(sizing.ingest).toEqual([{ backend: 'tempo', signal: 'traces', mibPerSec: 9.54 }]);
    // 25,000 × 1.5 = 37,500 items/s at 9,000 per stack → 5 copies.
    expect(sizing.stackCopies).toBe(5);
    // collector: (20 + 100 × 25) millicores × 1.5 = 3.78 cores; (100 + 10 × 25) MiB × 1.5 = 525 MiB.
    expect(sizing.components.find((c) => c.component === 'collector')).toEqual({
      component: 'collector',
      cores: 3.78,
      memoryMiB: 525,
    });
    expect(sizing.extrapolated).toMatch(/fitted up to 8000 items\/s/);
    // A component whose fit falls with the rate (it idles here) is sized at no less than it used.
    const falling = sizeFor({
      targetRps: 25_000,
      headroom: 0.5,
      kneeRps: 9_000,
      shares: { logs: 1 },
      costs: componentCosts([
        { rateRps: 2_000, containers: { kafka: usage(30, 400) } },
        { rateRps: 8_000, containers: { kafka: usage(20, 380) } },
      ]),
      fittedUpToRps: 8_000,
      tailSampling: false,
    });
    // Fitted: 333 − 16.7 × 25 < 0 millicores; measured up to 300 millicores → 0.45 cores; 400 MiB → 600 MiB.
    expect(falling.components).toEqual([{ component: 'kafka', cores: 0.45, memoryMiB: 600 }]);
    const published = publishedFigures({
      targetRps: 25_000,
      headroom: 0.5,
      shares: { traces: 1 / 3, metrics: 1 / 3, logs: 1 / 3 },
      tailSampling: false,
    });
    expect(published.map((p) => p.source)).toEqual([
      'OpenTelemetry Collector docs/performance.md',
      'Splunk OpenTelemetry Collector sizing',
      'Grafana Mimir planning-capacity',
      'seed 000 (collector HPA)',
      'seed 001 (Phase 1)',
    ]);
    // 8,333 spans/s at 10,000 per core.
    expect(published[0]!.forTarget).toBe('0.83 collector cores for 8333 spans/s');
  });
});

describe('capacity findings and reports', () => {
  const usage = (cpuMeanPct: number) => ({
    samples: 5,
    cpuMeanPct,
    cpuMaxPct: cpuMeanPct + 2,
    memoryMeanMiB: 100,
    memoryMaxMiB: 110,
  });
  const resources = (containers: Record<string, number>, generatorMaxPct: number, cores = 1) => ({
    containers: Object.fromEntries(Object.entries(containers).map(([k, v]) => [k, usage(v)])),
    host: { cores: 2, cpuMeanPct: 40, cpuMaxPct: 50, samples: 5 },
    generator: {
      cpuMeanPct: generatorMaxPct - 2,
      cpuMaxPct: generatorMaxPct,
      cpuSeconds: 1,
      memoryMaxMiB: 100,
      processes: ['node'],
      cores,
    },
    timeline: [],
  });
  const verification = {
    signals: {},
    collectors: {},
    collectorQueuePeak: 3,
    backendCounters: {},
    collectorLog: undefined,
    ingestBytes: {},
  };

  it('puts what failed before the busiest container: the cause of the loss, who refused, canaries', () => {
    const lost = {
      signal: 'logs',
      backend: 'loki',
      expected: 1000,
      found: 0,
      outcome: { status: 'fail', expected: 1000, actual: 0, reason: 'r' },
      evidence: {
        causes: [
          {
            hop: 'otelcol → loki',
            reason: '1,000 log records given up: requests of 5.28 MB exceed a 4 MiB gRPC message limit',
            fix: 'set send_batch_max_size',
            retryable: false,
          },
        ],
      },
    } as unknown as SignalVerification;
    const causes = failureCauses(
      {
        verification: { ...verification, signals: { logs: lost } },
        load: { elapsedMs: 10_000, interrupted: false, signals: {} },
        latency: {
          traces: {
            backend: 'jaeger',
            sent: 10,
            acknowledged: 10,
            found: 7,
            timedOut: 3,
            latencyMs: { count: 7, min: 1, p50: 1, p90: 1, p99: 1, p999: 1, max: 1, mean: 1 },
          },
        },
      },
      ['traces write→queryable p99 unmeasured'],
    );
    expect(causes).toEqual({
      causes: [
        'logs: otelcol → loki: 1,000 log records given up: requests of 5.28 MB exceed a 4 MiB gRPC message limit (fix: set send_batch_max_size)',
      ],
      symptoms: ['traces: 3 of 10 canaries not queryable in jaeger before their timeout'],
    });
  });

  it('names the component at its CPU limit first, and one near a whole core without a limit', () => {
    const findings = stackFindings(
      { resources: resources({ otelcol: 9.9, jaeger: 90, loki: 20 }, 15), verification },
      { otelcol: 0.1, jaeger: 2 },
    );
    expect(findings).toEqual([
      'otelcol at 99% of its CPU limit of 0.1 cores (9.9% of a core on average)',
      "the collectors' sending queues held up to 3 batches",
    ]);
    // The collector's export failures come right after a saturated CPU, before the queues.
    expect(
      stackFindings({ resources: resources({ otelcol: 9.9 }, 15), verification }, { otelcol: 0.1 }, [
        'otelcol logged 5× otlp_http/loki: Exporting failed (… grpc: received message larger than max)',
      ]),
    ).toEqual([
      'otelcol at 99% of its CPU limit of 0.1 cores (9.9% of a core on average)',
      'otelcol logged 5× otlp_http/loki: Exporting failed (… grpc: received message larger than max)',
      "the collectors' sending queues held up to 3 batches",
    ]);
    // The queues emptied but a backend was still ingesting when the drain ended: it lags behind.
    const lagging = stackFindings({
      resources: resources({}, 15),
      verification: {
        ...verification,
        collectorQueuePeak: 0,
        signals: { logs: { signal: 'logs', backend: 'loki', expected: 1000, found: 900 } as SignalVerification },
      },
      drain: {
        drained: false,
        elapsedMs: 60_400,
        collectorIdleAtMs: 6_000,
        backendsStableAtMs: undefined,
        finalCounts: {},
        reason: 'backend counts were still changing at the drain timeout',
        stillQueued: [],
        unobservable: [],
      },
    });
    expect(lagging).toEqual([
      "loki had not made 100 of the 1000 logs items queryable 60 s after the load, its count still growing (the pipeline's queues were empty)",
    ]);
    // Without limits: a container near a whole core.
    expect(
      stackFindings({
        resources: resources({ loki: 95 }, 15),
        verification: { ...verification, collectorQueuePeak: 0 },
      }),
    ).toEqual(['loki used 95% of a core on average (peak 97%)']);
  });

  it('blames the generator only when its own CPU was saturated; drops while it idled are the stack’s backpressure', () => {
    expect(whoLimited('generator', { resources: resources({}, 15) }, true)).toBe('stack');
    expect(whoLimited('generator', { resources: resources({}, 98) }, true)).toBe('generator');
    expect(whoLimited('generator', { resources: resources({}, 120, 2) }, true)).toBe('stack');
    expect(whoLimited('machine', { resources: resources({}, 15) }, true)).toBe('machine');
    expect(whoLimited('nothing', { resources: resources({}, 15) }, false)).toBe('nothing');
  });

  it('renders the summary, junit.xml and report.html of a search', () => {
    const trial = (n: number, rateRps: number, lost: number, durationMs = 10_000): TrialRecord => ({
      n,
      rateRps,
      durationMs,
      phase: 'bracket' as const,
      elapsedMs: 30_000,
      conclusive: true,
      lost,
      expected: rateRps * 10,
      sloMisses: [],
      limitedBy: lost > 0 ? 'stack' : 'nothing',
      reasons: lost > 0 ? ['otelcol at 100% of its CPU limit of 0.1 cores (10% of a core on average)'] : [],
      runId: `oh-20261203-000000-000000000000000${n}`,
      ingest: { loki: { signal: 'logs', bytesPerSec: 2048 + rateRps * 0.4 * 1024 } },
      signals: {
        logs: {
          backend: 'loki',
          offeredRps: rateRps,
          achievedRps: rateRps,
          expected: rateRps * 10,
          lost,
          refused: 0,
          status: lost > 0 ? 'fail' : 'pass',
          p99Ms: 5000,
        },
      },
      drainSeconds: 10,
      collectorQueuePeak: 1,
      host: { cpuMeanPct: 30, cpuMaxPct: 40 },
      generator: { cpuMeanPct: 10, cpuMaxPct: 12 },
      containers: { otelcol: { cpuMeanPct: rateRps / 1000, cpuMaxPct: 10, memoryMeanMiB: 100, memoryMaxMiB: 110 } },
      timeline: { bucketMs: 1000, signals: {}, queue: [] },
      resourceTimeline: [],
    });
    const result = {
      schemaVersion: 1 as const,
      tool: { name: 'otel-harness' as const, version: '0.1.0' },
      command: 'capacity' as const,
      runId: 'oh-20261203-000000-0123456789abcdef',
      partial: false,
      startedAt: '2026-12-03T00:00:00.000Z',
      endedAt: '2026-12-03T00:05:00.000Z',
      plan: {
        topology: 'phase1',
        stackOptions: {},
        driver: 'native',
        shares: { logs: 1 },
        search: {
          fromRps: 2000,
          toRps: 32000,
          trialMs: 10_000,
          confirmMs: 20_000,
          precision: 0.2,
          maxTrials: 20,
          settleMs: 2000,
          trialDrainMs: 30_000,
          settleTimeoutMs: 90_000,
        },
        slo: { achieved: 0.99, p99Ms: undefined, refusals: 0 },
        pdr: undefined,
      },
      stack: {
        topology: 'phase1',
        title: 'Phase 1 (traces: jaeger)',
        images: {},
        versions: {},
        configHashes: {},
        manifestHash: undefined,
        bootSeconds: 20,
        endpoints: [],
      },
      headline:
        'NDR ∈ [4000, 4500] items/s (width 11.1 %), limited by the stack: otelcol at 100% of its CPU limit of 0.1 cores',
      ndr: {
        criterion: { name: 'NDR' as const, maxLossRatio: 0 },
        kind: 'interval' as const,
        lowerRps: 4000,
        upperRps: 4500,
        lowerTrial: 4,
        upperTrial: 3,
        relativeWidth: 0.111,
        note: undefined,
      },
      pdr: undefined,
      limitedBy: { who: 'stack' as const, reasons: ['12 of 45000 items lost'] },
      trials: [trial(1, 2000, 0), trial(2, 4000, 0), trial(3, 4500, 12), trial(4, 4000, 0, 20_000)],
      cost: [],
      ingest: [] as IngestCost[],
      sizing: undefined,
      verdict: { status: 'found' as const, exitCode: 0, reasons: [] },
    };
    // The passing trials' ingest, fitted: 400 KiB/s per 1k items/s over 2 KiB/s idle.
    result.ingest = ingestCosts(
      result.trials.filter((t) => t.lost === 0).map((t) => ({ rateRps: t.rateRps, ingest: t.ingest })),
    );
    expect(result.ingest).toMatchObject([{ backend: 'loki', signal: 'logs', r2: 1, points: 2 }]);
    expect(result.ingest[0]!.bytesPerSecPer1k).toBeCloseTo(409_600, 3);
    expect(result.ingest[0]!.idleBytesPerSec).toBeCloseTo(2048, 3);
    const md = renderCapacitySummary(result);
    expect(md).toContain('| loki | logs | 400.0 | 2.0 | 1.00 | 2 |');
    expect(md.split('\n')[0]).toBe(`# otel-harness capacity ${result.runId}: ${result.headline}`);
    expect(md).toContain(
      '| 3 | bracket | 4,500 | 10 s | ✗ fail | 12 / 45,000 | logs 5000 ms | 30% | stack | 12 of 45000 items lost |',
    );
    expect(md).toContain('**NDR (zero loss)**: interval, lower 4,000 items/s (trial 4), upper 4,500 items/s (trial 3)');
    const xml = capacityJunit(result);
    expect(xml).toContain('tests="5" failures="0" errors="0"');
    expect(xml).toContain('<property name="ndrLower" value="4000"/>');
    const failed = capacityJunit({ ...result, verdict: { status: 'below-range', exitCode: 3, reasons: ['x'] } });
    expect(failed).toContain('<failure message="NDR ∈ [4000, 4500]');
    const html = renderHtml(capacityHtml(result));
    const charts = JSON.parse(/<script id="chart-data" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!) as {
      id: string;
      band?: { from: number; to: number };
      x: number[];
    }[];
    expect(charts.map((c) => c.id)).toEqual(['chart-loss', 'chart-latency', 'chart-cpu', 'chart-achieved']);
    expect(charts[0]!.band).toMatchObject({ from: 4000, to: 4500 });
    expect(charts[0]!.x).toEqual([2000, 4000, 4000, 4500]);
  });
});
