import { describe, expect, it } from 'vitest';
import {
  hodgesLehmann,
  holm,
  mannWhitney,
  midRanks,
  normalCdf,
  normalQuantile,
  uDistribution,
} from '../../src/stats/mann-whitney.js';

describe('Mann-Whitney U', () => {
  it('gives mid-ranks to ties', () => {
    expect(midRanks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
  });

  it('matches the published critical values of the exact distribution', () => {
    // Mann & Whitney (1947) / standard tables: P(U ≤ u) for small samples.
    expect(uDistribution(3, 3)[0]).toBeCloseTo(1 / 20, 12); // 0.05
    expect(uDistribution(4, 4)[0]).toBeCloseTo(1 / 70, 12); // 0.0143: the smallest p with 4 + 4
    const five = uDistribution(5, 5);
    expect(five[2]).toBeCloseTo(4 / 252, 12); // 0.0159
    expect(five[4]).toBeCloseTo(12 / 252, 12); // 0.0476: U = 4 is the one-sided 5 % critical value of 5 + 5
    expect(five[5]).toBeCloseTo(19 / 252, 12); // 0.0754
    // n = 10 + 10: one-sided 5 % critical U is 27 (P = 0.0446), 28 is not (P = 0.0526).
    const ten = uDistribution(10, 10);
    expect(ten[27]).toBeCloseTo(0.0446, 4);
    expect(ten[28]).toBeCloseTo(0.0526, 4);
    expect(ten[ten.length - 1]).toBeCloseTo(1, 12);
  });

  it('one-sided exact p-values for separated and overlapping samples, ties included', () => {
    const slow = [110, 112, 115, 118, 120];
    const fast = [100, 101, 103, 104, 106];
    const r = mannWhitney(slow, fast);
    expect(r).toMatchObject({ u: 25, method: 'exact' });
    expect(r.pGreater).toBeCloseTo(1 / 252, 12);
    expect(r.pLess).toBe(1);
    // Identical samples: p = 1 both ways is impossible; U sits at its mean, both tails above 0.5.
    const same = mannWhitney([1, 2, 3, 4], [1, 2, 3, 4]);
    expect(same.u).toBe(8);
    expect(same.pGreater).toBeGreaterThan(0.5);
    expect(same.pLess).toBeGreaterThan(0.5);
    // All values tied: no evidence either way.
    expect(mannWhitney([5, 5, 5], [5, 5, 5])).toMatchObject({ u: 4.5, pGreater: 1, pLess: 1 });
  });

  it('agrees with the normal approximation for large samples', () => {
    const a = Array.from({ length: 40 }, (_, i) => i * 1.01 + 3);
    const b = Array.from({ length: 40 }, (_, i) => i);
    const big = mannWhitney([...a, ...a], [...b, ...b]);
    expect(big.method).toBe('normal');
    const exact = mannWhitney(a.slice(0, 25), b.slice(0, 25));
    expect(exact.method).toBe('exact');
    expect(exact.pGreater).toBeGreaterThan(0);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalQuantile(0.95)).toBeCloseTo(1.644854, 5);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326348, 5);
  });
});

describe('Hodges-Lehmann shift', () => {
  it('estimates the median pairwise difference with an exact-coverage interval', () => {
    const a = [100, 102, 104, 106, 108];
    const b = a.map((x) => x + 10);
    const s = hodgesLehmann(a, b)!;
    expect(s.estimate).toBe(10);
    // 5 + 5 at 95 %: k = 3 (P(U ≤ 2) = 0.0159 ≤ 0.025), coverage 1 − 2 × 4/252.
    expect(s.coverage).toBeCloseTo(1 - 8 / 252, 12);
    expect(s.low).toBe(4);
    expect(s.high).toBe(16);
    // Too few trials for any 95 % interval.
    expect(hodgesLehmann([1, 2, 3], [4, 5, 6])).toBeUndefined();
  });
});

describe('Holm', () => {
  it('adjusts step-down and keeps the input order', () => {
    expect(holm([0.01, 0.04, 0.03, 0.005])).toEqual([0.03, 0.06, 0.06, 0.02]);
    expect(holm([0.5, 0.9])).toEqual([1, 1]);
  });
});
