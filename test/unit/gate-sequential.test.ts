import { describe, expect, it } from 'vitest';
import { runRounds, type Arm, type GateResult, type GateTrial } from '../../src/gate/gate.js';
import { lookFor, plannedLooks, type GateLook } from '../../src/gate/gate-sequential.js';
import { smallestP } from '../../src/gate/gate-stats.js';

/** Deterministic normal noise (mulberry32 + Box-Muller). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

const AUTO = { trials: 4, auto: true, maxTrials: 10, alpha: 0.05 };
const METRIC = 'otelcol CPU-s per 1k items';

/** A gate of `--trials auto` (4 to 10 trials per arm, α 0.05) judged at `looks`, before its first trial. */
function gateAt(looks: GateLook[]): GateResult {
  return {
    schemaVersion: 2,
    tool: { name: 'otel-harness', version: '0.0.0' },
    command: 'gate',
    runId: 'oh-sim',
    partial: true,
    startedAt: '2026-12-03T12:00:00.000Z',
    endedAt: '2026-12-03T12:00:00.000Z',
    plan: {
      baseline: { spec: 'seed.yaml', topology: 'phase1', title: 'Phase 1' },
      candidate: { spec: 'candidate.yaml', topology: 'phase1', title: 'Phase 1' },
      rateRps: 1000,
      durationMs: 30_000,
      signals: 'traces',
      options: {
        ...AUTO,
        warmupMs: 10_000,
        tolerance: 0.05,
        detect: 0.1,
        atKneeFraction: undefined,
        gateOn: ['*'],
      },
      looks,
    },
    headline: '',
    trials: [],
    metrics: [],
    comparison: [],
    verdict: { status: 'error', exitCode: 1, reasons: [] },
  };
}

/**
 * Simulated gates run through the gate's own rounds (`runRounds`: interleaved trials, compared at each
 * look, stopped at the first that decides): each trial's one gated metric is 1 + cv·N(0, 1), × (1 + shift)
 * in the candidate. Returns the share of gates that found a regression.
 */
async function simulate(
  looks: GateLook[],
  o: { gates: number; cv: number; shift: number; seed: number },
): Promise<{ regression: number }> {
  const normal = rng(o.seed);
  const trial = (arm: Arm, n: number): Promise<GateTrial> =>
    Promise.resolve({
      n,
      arm,
      runId: `oh-sim-${n}`,
      elapsedMs: 0,
      loss: {},
      refused: 0,
      metrics: { [METRIC]: (arm === 'candidate' ? 1 + o.shift : 1) * (1 + o.cv * normal()) },
      notes: [],
      stack: {
        topology: 'phase1',
        title: '',
        images: {},
        versions: {},
        configHashes: {},
        manifestHash: undefined,
        bootSeconds: 0,
      },
    });
  let regression = 0;
  for (let g = 0; g < o.gates; g++) {
    const result = gateAt(looks);
    await runRounds(result, trial, () => undefined);
    if (result.comparison.some((c) => c.verdict === 'regression')) regression++;
  }
  return { regression: regression / o.gates };
}

/** Wilson score bounds of a proportion `p` observed in `n` trials; z 2.326 gives one-sided 99 % bounds. */
function wilson(p: number, n: number, z = 2.326): { low: number; high: number } {
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return { low: centre - half, high: centre + half };
}

/**
 * The procedure `--trials auto` used before: every look from 4 to 10 trials per arm at the full α and 95 %.
 * With one gated metric the stopping rule is the same as before (a regression leaves nothing undecided).
 */
const EVERY_LOOK_AT_FULL_ALPHA: GateLook[] = [4, 5, 6, 7, 8, 9, 10].map((n) => ({
  trialsPerArm: n,
  alpha: 0.05,
  confidence: 0.95,
}));

describe('gate: --trials auto spends α over its looks', () => {
  it('plans the looks: a fixed gate once at α; auto from 4 to 10 with shares that sum to α', () => {
    expect(plannedLooks({ ...AUTO, auto: false, trials: 5 }, 0.95)).toEqual([
      { trialsPerArm: 5, alpha: 0.05, confidence: 0.95 },
    ]);
    const looks = plannedLooks(AUTO, 0.95);
    // 4 + 4 trials cannot reach the 0.0032 due there (smallest p 1/70): it is carried to the look after 5.
    expect(looks.map((l) => l.trialsPerArm)).toEqual([5, 6, 7, 8, 9, 10]);
    const alphas = [0.00625, 0.00455, 0.00635, 0.00845, 0.01085, 0.01355]; // 0.05 × (t³ − t'³), t = n / 10
    looks.forEach((l, i) => expect(l.alpha, `look after ${l.trialsPerArm}`).toBeCloseTo(alphas[i]!, 12));
    expect(looks.reduce((s, l) => s + l.alpha, 0)).toBeCloseTo(0.05, 12);
    // The intervals' one-sided error, 0.025 in all, is spent alike; too little for 5 + 5 is carried to 6 + 6.
    expect(looks[0]!.confidence).toBe(1);
    expect(looks.reduce((s, l) => s + (1 - l.confidence) / 2, 0)).toBeCloseTo(0.025, 12);
    for (const l of looks) expect(l.alpha).toBeGreaterThanOrEqual(smallestP(l.trialsPerArm));
    expect(lookFor(looks, 7)).toBe(looks[2]);
    expect(lookFor(looks, 3)).toBe(looks[0]); // a gate stopped before its first look is judged at it
  });

  // Under H0 each look's test depends on the order of the values only; the noise decides how early gates
  // pass and stop. At 20 % per trial no look can rule out a 10 % change, so almost no A/A gate stops early
  // and each may look all six (or seven) times: the case where looking more often costs most. 2,000 gates
  // each: the share observed has a binomial error of about 0.5 %, allowed for by Wilson's one-sided 99 %
  // bounds (the new rate must be below α even at its upper bound, the old above α even at its lower).
  const GATES = 2000;
  const NOISY = { gates: GATES, cv: 0.2, shift: 0, seed: 20261203 };

  it('A/A: the false-positive rate of the sequential gate stays within α (its 99 % upper bound ≤ 0.05)', async () => {
    const { regression } = await simulate(plannedLooks(AUTO, 0.95), NOISY);
    expect(wilson(regression, GATES).high).toBeLessThanOrEqual(0.05);
  });

  it('A/A: every look at the full α, as before, exceeded α (its 99 % lower bound > 0.05)', async () => {
    const { regression } = await simulate(EVERY_LOOK_AT_FULL_ALPHA, NOISY);
    expect(wilson(regression, GATES).low).toBeGreaterThan(0.05);
  });

  it('still finds a 10 % regression at 5 % noise in at least 90 % of gates', async () => {
    const { regression } = await simulate(plannedLooks(AUTO, 0.95), { gates: 500, cv: 0.05, shift: 0.1, seed: 7 });
    expect(regression).toBeGreaterThanOrEqual(0.9);
  });
});
