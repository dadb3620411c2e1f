import { describe, expect, it } from 'vitest';
import { compareMetrics, powerOf, smallestP, trialsFor } from '../../src/gate/gate-stats.js';
import { signedRank, walshHodgesLehmann } from '../../src/stats/signed-rank.js';
import { midRanks } from '../../src/stats/mann-whitney.js';

/** P(W+ ≥ observed) and P(W+ ≤ observed) by enumerating all 2^n sign assignments of the mid-ranks. */
function bruteForce(d: number[]): { pGreater: number; pLess: number } {
  const nonZero = d.filter((x) => x !== 0);
  const ranks = midRanks(nonZero.map(Math.abs));
  const observed = nonZero.reduce((s, x, i) => (x > 0 ? s + ranks[i]! : s), 0);
  let ge = 0;
  let le = 0;
  const total = 2 ** ranks.length;
  for (let mask = 0; mask < total; mask++) {
    const w = ranks.reduce((s, r, i) => ((mask >> i) & 1 ? s + r : s), 0);
    if (w >= observed - 1e-9) ge++;
    if (w <= observed + 1e-9) le++;
  }
  return { pGreater: ge / total, pLess: le / total };
}

describe('Wilcoxon signed-rank and the paired Hodges-Lehmann interval', () => {
  it('exact p-values match an enumeration of every sign assignment, ties and zeros included', () => {
    expect(signedRank([1, 2, 3, 4, 5])).toMatchObject({ wPlus: 15, n: 5, pGreater: 1 / 32, pLess: 1 });
    expect(signedRank([-1, 2, 3, 4, 5]).pGreater).toBeCloseTo(2 / 32, 12);
    const cases = [
      [0.1, -0.05, 0.2, 0.2, -0.1, 0.03, 0, 0.07],
      [-0.3, -0.1, 0.05, -0.2, -0.05, 0.1],
      [1, 1, 1, -1, 2, -2, 3, 0.5, 0.25, -0.25],
    ];
    for (const d of cases) {
      const exact = signedRank(d);
      const brute = bruteForce(d);
      expect(exact.pGreater, JSON.stringify(d)).toBeCloseTo(brute.pGreater, 12);
      expect(exact.pLess, JSON.stringify(d)).toBeCloseTo(brute.pLess, 12);
    }
    expect(signedRank([0, 0])).toMatchObject({ n: 0, pGreater: 1, pLess: 1 });
  });

  it('the interval of the centre: Walsh averages between the order statistics the exact distribution allows', () => {
    // 5 pairs cannot give a 95 % interval (2/32 > 5 %); 6 can: the extremes, coverage 1 − 2/64.
    expect(walshHodgesLehmann([0.1, 0.2, 0.3, 0.4, 0.5])).toBeUndefined();
    const six = walshHodgesLehmann([0.01, 0.02, 0.03, 0.04, 0.05, 0.06])!;
    expect(six.estimate).toBeCloseTo(0.035, 12);
    expect(six.low).toBeCloseTo(0.01, 12);
    expect(six.high).toBeCloseTo(0.06, 12);
    expect(six.coverage).toBeCloseTo(1 - 2 / 64, 12);
    // 10 pairs: P(W+ ≤ 8) = 0.0244 ≤ 2.5 % < P(W+ ≤ 9), so the 9th smallest and 9th largest of 55 averages.
    const ten = Array.from({ length: 10 }, (_, i) => i + 1);
    const walsh = ten.flatMap((x, i) => ten.slice(i).map((y) => (x + y) / 2)).sort((a, b) => a - b);
    const iv = walshHodgesLehmann(ten)!;
    expect([iv.low, iv.high]).toEqual([walsh[8], walsh[46]]);
    expect(iv.coverage).toBeCloseTo(1 - 2 * (25 / 1024), 12);
  });

  it('paired arithmetic: 1 / 2^n, power on the log ratio, pairs needed', () => {
    expect(smallestP(5, 'paired')).toBe(1 / 32);
    expect(powerOf(4, 0.01, 0.1, 0.05, 'paired')).toBe(0); // 1/16 > 0.05
    // 3 % pair noise, 10 % change, 6 pairs at α 0.05: √(6·3/π)·ln 1.1/0.03 − 1.645 ≈ 6.6 → power ≈ 1.
    expect(powerOf(6, 0.03, 0.1, 0.05, 'paired')).toBeGreaterThan(0.99);
    expect(trialsFor(0.03, 0.1, 0.05, 0.8, 100, 'paired')).toBe(5);
    // At 8 % pair noise, more pairs.
    const n = trialsFor(0.08, 0.1, 0.05, 0.8, 100, 'paired')!;
    expect(powerOf(n, 0.08, 0.1, 0.05, 'paired')).toBeGreaterThanOrEqual(0.8);
    expect(powerOf(n - 1, 0.08, 0.1, 0.05, 'paired')).toBeLessThan(0.8);
  });

  it('paired A/A: at most 5 % of 2,000 simulated gates report a regression when moments move both arms by ±15 % (tolerance 5 %)', () => {
    let state = 7;
    const uniform = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
    let alarms = 0;
    const metrics = [{ name: 'otelcol CPU-s per 1k items', unit: 's', better: 'smaller' as const }];
    for (let g = 0; g < 2000; g++) {
      const moment = Array.from({ length: 6 }, () => 1 + 0.15 * normal());
      const a = moment.map((m) => 0.4 * m * (1 + 0.03 * normal()));
      const b = moment.map((m) => 0.4 * m * (1 + 0.03 * normal()));
      const [c] = compareMetrics(metrics, [a], [b], {
        alpha: 0.05,
        tolerance: 0.05,
        detect: 0.1,
        power: 0.8,
        confidence: 0.95,
        design: 'paired',
      });
      if (c!.verdict === 'regression') alarms++;
    }
    // The exact test's size with 6 pairs is 3/64 = 4.7 %; a regression also needs a change of 5 % or more.
    expect(alarms / 2000).toBeLessThanOrEqual(0.05);
  });
});
