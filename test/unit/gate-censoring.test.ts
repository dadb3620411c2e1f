import { describe, expect, it } from 'vitest';
import type { GateResult, GateTrial } from '../../src/gate/gate.js';
import { canaryP99, trialMetrics } from '../../src/gate/gate-metrics.js';
import { judgeTrials } from '../../src/gate/gate-verdict.js';
import { emptyStep, type StepResult } from '../../src/step/step-types.js';

const TIMEOUT_MS = 10_000;

const latency = (p99: number, p999 = p99, max = p999) => ({
  count: 0,
  min: 800,
  p50: 1000,
  p90: 1200,
  p99,
  p999,
  max,
  mean: 1000,
});

/** A 30 s step at 1,000 spans/s, CPU per 1k items `cpu`; `found` canaries with p99 `p99Ms`, `timedOut` more. */
function step(cpu: number, canaries: { found: number; timedOut: number; p99Ms: number }): StepResult {
  const s = emptyStep();
  s.load.elapsedMs = 30_000;
  s.load.signals = {
    traces: { counts: { acknowledged: 30_000, refused: 0, failed: 0 } },
  } as unknown as StepResult['load']['signals'];
  s.resources = {
    containers: {},
    host: { cores: 2, cpuMeanPct: 50, cpuMaxPct: 60, samples: 2 },
    generator: { cpuMeanPct: 10, cpuMaxPct: 12, cpuSeconds: 3, memoryMaxMiB: 90, processes: ['node'], cores: 1 },
    timeline: [
      {
        tMs: 12_000,
        hostCpuPct: 50,
        generatorCpuPct: 10,
        components: { otelcol: [50, 100] },
        counters: { otelcol: { cpuSeconds: 100, atMs: 12_000 } },
      },
      {
        tMs: 20_000,
        hostCpuPct: 50,
        generatorCpuPct: 10,
        components: { otelcol: [50, 100] },
        counters: { otelcol: { cpuSeconds: 100 + 8 * cpu, atMs: 20_000 } },
      },
    ],
  };
  const { found, timedOut, p99Ms } = canaries;
  s.latency = {
    traces: {
      backend: 'jaeger',
      sent: found + timedOut,
      acknowledged: found + timedOut,
      found,
      timedOut,
      latencyMs: found === 0 ? latency(0, 0, 0) : latency(p99Ms),
    },
  };
  return s;
}

/** A trial of `arm` from a step, as the gate records it (its figures from trialMetrics, 10 s canary timeout). */
function trialOf(n: number, arm: 'baseline' | 'candidate', s: StepResult): GateTrial {
  const { metrics, censored, notes } = trialMetrics(s, 10_000, TIMEOUT_MS);
  return {
    n,
    arm,
    runId: `oh-trial-${n}`,
    elapsedMs: 60_000,
    loss: { traces: { expected: 30_000, lost: 0, status: 'pass', examples: [] } },
    refused: 0,
    metrics,
    censored,
    notes,
    stack: {
      topology: 'phase1',
      title: 'Phase 1',
      images: {},
      versions: {},
      configHashes: {},
      manifestHash: undefined,
      bootSeconds: 1,
    },
  };
}

function gate(trials: GateTrial[], gateOn = ['*']): GateResult {
  const result: GateResult = {
    schemaVersion: 2,
    tool: { name: 'otel-harness', version: '0.0.0' },
    command: 'gate',
    runId: 'oh-test',
    partial: false,
    startedAt: '2026-12-03T12:00:00.000Z',
    endedAt: '2026-12-03T12:20:00.000Z',
    plan: {
      baseline: { spec: 'seed.yaml', topology: 'phase1', title: 'Phase 1' },
      candidate: { spec: 'candidate.yaml', topology: 'phase1', title: 'Phase 1' },
      rateRps: 1000,
      durationMs: 30_000,
      signals: 'traces',
      options: {
        trials: 5,
        auto: false,
        maxTrials: 5,
        warmupMs: 10_000,
        tolerance: 0.05,
        detect: 0.1,
        alpha: 0.05,
        atKneeFraction: undefined,
        gateOn,
      },
      looks: [{ trialsPerArm: 5, alpha: 0.05, confidence: 0.95 }],
    },
    headline: '',
    trials,
    metrics: [],
    comparison: [],
    verdict: { status: 'error', exitCode: 1, reasons: [] },
  };
  judgeTrials(result);
  return result;
}

const CPU = [0.4, 0.41, 0.39, 0.405, 0.395];
const P99 = [1000, 1010, 990, 1005, 995];

/** 5 + 5 interleaved trials, CPU alike in both arms; each arm's canaries as given per trial. */
function trials(
  baseline: (i: number) => { found: number; timedOut: number; p99Ms: number },
  candidate: (i: number) => { found: number; timedOut: number; p99Ms: number },
): GateTrial[] {
  return CPU.flatMap((cpu, i) => [
    trialOf(2 * i + 1, 'baseline', step(cpu, baseline(i))),
    trialOf(2 * i + 2, 'candidate', step(cpu, candidate(i))),
  ]);
}

const healthy = (i: number) => ({ found: 20, timedOut: 0, p99Ms: P99[i]! });
const allTimedOut = () => ({ found: 0, timedOut: 20, p99Ms: 0 });

describe('gate: canaries that time out count as at least the timeout', () => {
  it('the p99 over every acknowledged canary: found ones as measured, timed-out ones censored at the timeout', () => {
    // None timed out: the found canaries' p99.
    expect(canaryP99({ found: 200, timedOut: 0, latencyMs: latency(1500, 1800, 2000) }, TIMEOUT_MS)).toEqual({
      valueMs: 1500,
      censored: false,
    });
    // 1 of 51 timed out: the ⌈0.99 × 51⌉ = 51st value is the one that timed out.
    expect(canaryP99({ found: 50, timedOut: 1, latencyMs: latency(1500) }, TIMEOUT_MS)).toEqual({
      valueMs: TIMEOUT_MS,
      censored: true,
    });
    // 1 of 301 timed out: the 298th value, found; the found p99 is the 297th of 300, p99.9 the 300th.
    expect(canaryP99({ found: 300, timedOut: 1, latencyMs: latency(1500, 1800, 2000) }, TIMEOUT_MS)).toEqual({
      valueMs: 1800,
      censored: false,
    });
    // Every canary timed out: a p99 all the same, at least the timeout.
    expect(canaryP99({ found: 0, timedOut: 12, latencyMs: latency(0) }, TIMEOUT_MS)).toEqual({
      valueMs: TIMEOUT_MS,
      censored: true,
    });
    // Found at or past the timeout cannot be told from timed out.
    expect(canaryP99({ found: 10, timedOut: 0, latencyMs: latency(10_250) }, TIMEOUT_MS)).toEqual({
      valueMs: TIMEOUT_MS,
      censored: true,
    });
    // No canary acknowledged: not measured.
    expect(canaryP99({ found: 0, timedOut: 0, latencyMs: latency(0) }, TIMEOUT_MS)).toBeUndefined();
  });

  it('a trial where no canary was found still has a p99, marked censored, with a note', () => {
    const { metrics, censored, notes } = trialMetrics(step(0.4, allTimedOut()), 10_000, TIMEOUT_MS);
    expect(metrics['traces canary p99']).toBe(TIMEOUT_MS);
    expect(censored).toEqual(['traces canary p99']);
    expect(notes).toContain(
      'traces: 20 of 20 canaries timed out: its p99 is censored at the 10 s canary timeout (recorded as the timeout, a lower bound)',
    );
  });

  it('every candidate canary timing out does not pass: the p99 is compared, and found worse', () => {
    const r = gate(trials(healthy, allTimedOut));
    expect(r.verdict.status).not.toBe('pass');
    expect(r.verdict.exitCode).not.toBe(0);
    // Each candidate trial ranks above every baseline trial: the exact one-sided p is 1/252.
    const p99 = r.comparison.find((c) => c.name === 'traces canary p99')!;
    expect(p99).toMatchObject({ verdict: 'regression', censored: { baseline: 0, candidate: 5 } });
    expect(p99.p).toBeCloseTo(1 / 252, 12);
    expect(p99.why).toMatch(/0\+5 trials censored at the canary timeout \(tied there in the test\)$/);
    expect(r.verdict).toMatchObject({ status: 'regression', exitCode: 3 });
  });

  it('when every canary of both arms times out, the p99 cannot pass: the gate is inconclusive', () => {
    const r = gate(trials(allTimedOut, allTimedOut));
    const p99 = r.comparison.find((c) => c.name === 'traces canary p99')!;
    expect(p99.verdict).toBe('inconclusive');
    expect(p99.why).toMatch(/^5 of 5 candidate trials reached the canary timeout/);
    expect(r.verdict).toMatchObject({ status: 'inconclusive', exitCode: 6 });
  });

  it('a gated metric a trial did not measure makes the gate inconclusive; it is never dropped', () => {
    const t = trials(healthy, healthy);
    delete t[5]!.metrics['otelcol peak RSS']; // candidate trial 6: no RSS reading
    const r = gate(t);
    const rss = r.comparison.find((c) => c.name === 'otelcol peak RSS')!;
    expect(rss).toMatchObject({ verdict: 'inconclusive', unmeasured: 'candidate trial 6' });
    expect(rss.candidate.n).toBe(4);
    expect(r.metrics.map((m) => m.name)).toContain('otelcol peak RSS');
    expect(r.verdict).toMatchObject({ status: 'inconclusive', exitCode: 6 });
    expect(r.verdict.reasons).toEqual([
      'otelcol peak RSS: not measured in candidate trial 6: a trial without it cannot be compared (its notes say why)',
    ]);
    // Not gated (--gate-on leaves it out): shown, decides nothing.
    const tracesGated = gate(
      trials(healthy, healthy).map((x, i) => (i === 5 ? { ...x, metrics: {} } : x)),
      ['traces *'],
    );
    expect(tracesGated.comparison.find((c) => c.name === 'otelcol CPU-s per 1k items')).toMatchObject({
      verdict: 'inconclusive',
      gated: false,
    });
    const p99Gated = tracesGated.comparison.find((c) => c.name === 'traces canary p99')!;
    expect(p99Gated).toMatchObject({ verdict: 'inconclusive', unmeasured: 'candidate trial 6' });
  });
});
