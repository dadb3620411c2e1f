import { describe, expect, it } from 'vitest';
import {
  compareMetrics,
  GATE_STATS_DEFAULTS,
  powerOf,
  smallestP,
  trialsFor,
  type GateMetric,
} from '../../src/gate/gate-stats.js';

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

const METRICS: GateMetric[] = [
  { name: 'otelcol CPU-s per 1k items', unit: 's', better: 'smaller' },
  { name: 'jaeger CPU-s per 1k items', unit: 's', better: 'smaller' },
  { name: 'otelcol peak memory', unit: 'MiB', better: 'smaller' },
  { name: 'traces canary p99', unit: 'ms', better: 'smaller' },
  { name: 'knee', unit: 'items/s', better: 'bigger' },
];

function arm(normal: () => number, n: number, mean: number, cv: number): number[] {
  return Array.from({ length: n }, () => mean * (1 + cv * normal()));
}

describe('gate statistics', () => {
  it('the smallest p and the power arithmetic', () => {
    expect(smallestP(4)).toBeCloseTo(1 / 70, 12);
    expect(smallestP(5)).toBeCloseTo(1 / 252, 12);
    // 5 + 5 cannot reach α/5 = 0.01 with 4 + 4 (1/70 = 0.014): no power at all.
    expect(powerOf(4, 0.01, 0.1, 0.01)).toBe(0);
    expect(powerOf(7, 0.05, 0.1, 0.05)).toBeGreaterThan(0.9);
    expect(trialsFor(0.05, 0.1, 0.05, 0.8)).toBe(4);
    expect(trialsFor(0.5, 0.01, 0.05, 0.8)).toBeUndefined();
  });

  it('A/A: at most 5 % of gates report any regression (2,000 simulated gates, 5 metrics, 3 % noise)', () => {
    const normal = rng(42);
    let falseAlarms = 0;
    let inconclusive = 0;
    const gates = 2000;
    for (let g = 0; g < gates; g++) {
      const means = [0.4, 0.9, 120, 5000, 9000];
      const a = means.map((m) => arm(normal, 5, m, 0.03));
      const b = means.map((m) => arm(normal, 5, m, 0.03));
      const rows = compareMetrics(METRICS, a, b);
      if (rows.some((r) => r.verdict === 'regression')) falseAlarms++;
      if (rows.some((r) => r.verdict === 'inconclusive')) inconclusive++;
    }
    expect(falseAlarms / gates).toBeLessThanOrEqual(0.05);
    // At 3 % noise five trials per arm are enough to see 10 %: nearly never inconclusive.
    expect(inconclusive / gates).toBeLessThan(0.1);
  });

  it('detects a 10 % CPU regression with 5 + 5 trials at 3 % noise in at least 90 % of gates', () => {
    const normal = rng(7);
    let found = 0;
    const gates = 1000;
    for (let g = 0; g < gates; g++) {
      const means = [0.4, 0.9, 120, 5000, 9000];
      const a = means.map((m) => arm(normal, 5, m, 0.03));
      const b = means.map((m, i) => arm(normal, 5, i === 0 ? m * 1.1 : m, 0.03));
      const rows = compareMetrics(METRICS, a, b);
      if (rows[0]!.verdict === 'regression') found++;
    }
    expect(found / gates).toBeGreaterThanOrEqual(0.9);
  });

  it('says inconclusive, with the trials needed, when the noise is too high; a smaller knee is a regression', () => {
    const normal = rng(3);
    const a = [arm(normal, 5, 100, 0.15)];
    const b = [arm(normal, 5, 100, 0.15)];
    const [row] = compareMetrics([METRICS[0]!], a, b);
    expect(row!.verdict).toBe('inconclusive');
    expect(row!.trialsNeeded).toBeGreaterThan(5);
    expect(row!.why).toMatch(/about \d+ trials per arm would give 0.8/);

    const [knee] = compareMetrics([METRICS[4]!], [[9000, 9100, 8950, 9050, 9020]], [[7000, 7100, 6900, 7050, 7020]]);
    expect(knee!.verdict).toBe('regression');
    expect(knee!.change).toBeCloseTo(-0.222, 2);
    expect(knee!.p).toBeCloseTo(1 / 252, 12);

    // A clear improvement is a pass, whatever the power.
    const [better] = compareMetrics([METRICS[0]!], [[10, 12, 11, 13, 9]], [[5, 6, 5.5, 6.5, 4.5]]);
    expect(better!.verdict).toBe('pass');
  });

  it('a significant change within the tolerance is not a regression', () => {
    const [row] = compareMetrics(
      [METRICS[0]!],
      [[100, 100.1, 100.2, 100.3, 100.4]],
      [[102, 102.1, 102.2, 102.3, 102.4]],
    );
    expect(row!.pAdjusted).toBeLessThan(0.05);
    expect(row!.verdict).toBe('pass');
    expect(row!.why).toMatch(/within the tolerance of 5.0 %/);
  });
});

describe('gate statistics, paired, on values that are not all positive', () => {
  const PAIRED = { ...GATE_STATS_DEFAULTS, design: 'paired' as const };
  const REFUSED: GateMetric = { name: 'items refused', unit: 'items', better: 'smaller' };

  it('zeros in the baseline: the differences over its median, the change relative to it', () => {
    // No log ratio of 0: each pair's difference over the baseline's median (10) instead.
    const [row] = compareMetrics([REFUSED], [[10, 0, 10, 12, 8, 10]], [[15, 4, 14, 18, 13, 15]], PAIRED);
    expect(row!.p).toBeCloseTo(1 / 64, 12); // every pair worse
    expect(row!.change!).toBeCloseTo(0.5, 6); // the Hodges-Lehmann centre of (5, 4, 4, 6, 5, 5) / 10
    expect(row!.verdict).toBe('regression');
  });

  it('a baseline of zeros: significantly worse is a regression, with no relative change claimed', () => {
    const [row] = compareMetrics([REFUSED], [[0, 0, 0, 0, 0, 0]], [[3, 1, 2, 5, 1, 2]], PAIRED);
    expect(row!.p).toBeCloseTo(1 / 64, 12);
    expect(row!.change).toBeUndefined();
    expect(row!.changeHigh).toBeUndefined();
    expect(row!.verdict).toBe('regression');
    expect(row!.why).toMatch(/from a baseline median of 0: no relative change/);
    // The same without a significant difference: neither a pass nor a regression.
    const [flat] = compareMetrics([REFUSED], [[0, 0, 0, 0, 0, 0]], [[0, 1, 0, 0, 0, 0]], PAIRED);
    expect(flat!.verdict).toBe('inconclusive');
  });
});
