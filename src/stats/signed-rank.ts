/**
 * One-sample rank statistics for paired gates: the Wilcoxon signed-rank test on the differences of pairs
 * (exact, ties included, for the few pairs a gate has) and the Hodges-Lehmann estimate of their centre (the
 * median of the Walsh averages) with its distribution-free interval.
 */
import { midRanks, normalCdf, medianWithInterval, type Shift } from './mann-whitney.js';

export interface SignedRank {
  /** W+: the sum of the ranks of |d| over the positive differences (zeros dropped, ties at mid-ranks). */
  wPlus: number;
  /** Differences left after dropping the zeros. */
  n: number;
  /** P(W+ ≥ observed) under H0 (each sign equally likely): one-sided p for "the differences tend to be positive". */
  pGreater: number;
  /** P(W+ ≤ observed): for "the differences tend to be negative". */
  pLess: number;
  method: 'exact' | 'normal';
}

/** Above this many non-zero differences, the normal approximation with tie correction is used. */
const EXACT_LIMIT = 60;

/**
 * The Wilcoxon signed-rank test of the differences `d` (candidate − baseline of each pair, or their log
 * ratio). Zeros carry no sign and are dropped (Wilcoxon's convention). Exact up to 60 differences: the
 * distribution of W+ over the 2^n sign assignments of the observed mid-ranks, counted on doubled ranks so
 * ties stay integers. With no differences left, both p-values are 1.
 */
export function signedRank(d: readonly number[]): SignedRank {
  const nonZero = d.filter((x) => x !== 0);
  const n = nonZero.length;
  if (n === 0) return { wPlus: 0, n: 0, pGreater: 1, pLess: 1, method: 'exact' };
  const ranks = midRanks(nonZero.map(Math.abs));
  const wPlus = nonZero.reduce((s, x, i) => (x > 0 ? s + ranks[i]! : s), 0);
  if (n <= EXACT_LIMIT) {
    const doubled = ranks.map((r) => Math.round(r * 2));
    const observed = Math.round(wPlus * 2);
    const dist = subsetSums(doubled);
    let atLeast = 0;
    let atMost = 0;
    for (let s = 0; s < dist.length; s++) {
      if (s >= observed) atLeast += dist[s]!;
      if (s <= observed) atMost += dist[s]!;
    }
    return { wPlus, n, pGreater: atLeast, pLess: atMost, method: 'exact' };
  }
  const counts = new Map<number, number>();
  for (const r of ranks) counts.set(r, (counts.get(r) ?? 0) + 1);
  const tie = [...counts.values()].reduce((s, t) => s + (t ** 3 - t), 0);
  const mean = (n * (n + 1)) / 4;
  const sd = Math.sqrt((n * (n + 1) * (2 * n + 1)) / 24 - tie / 48);
  return {
    wPlus,
    n,
    pGreater: sd === 0 ? 1 : 1 - normalCdf((wPlus - mean - 0.5) / sd),
    pLess: sd === 0 ? 1 : normalCdf((wPlus - mean + 0.5) / sd),
    method: 'normal',
  };
}

/** P(sum = s) when each of `values` joins the sum with probability 1/2, independently. */
function subsetSums(values: readonly number[]): Float64Array {
  const max = values.reduce((s, v) => s + v, 0);
  const p = new Float64Array(max + 1);
  p[0] = 1;
  let reach = 0;
  for (const v of values) {
    reach += v;
    for (let s = reach; s >= 0; s--) p[s] = (p[s]! + (s >= v ? p[s - v]! : 0)) / 2;
  }
  return p;
}

const distributions = new Map<number, readonly number[]>();

/** Cumulative distribution of W+ for n differences without ties: cdf[w] = P(W+ ≤ w). Kept per n. */
export function signedRankCdf(n: number): readonly number[] {
  let cdf = distributions.get(n);
  if (cdf === undefined) {
    const p = subsetSums(Array.from({ length: n }, (_, i) => i + 1));
    let acc = 0;
    cdf = Array.from(p, (x) => (acc += x));
    distributions.set(n, cdf);
  }
  return cdf;
}

/** The smallest one-sided p-value the exact test can give with n pairs: 1 / 2^n. */
export function smallestPairedP(n: number): number {
  return 2 ** -n;
}

/**
 * Hodges-Lehmann estimate of the centre of the differences `d` (the median of the n(n+1)/2 Walsh averages
 * (dᵢ + dⱼ)/2, i ≤ j) with a distribution-free confidence interval: the k-th smallest and k-th largest Walsh
 * average, k the largest count whose two tails under H0 stay within 1 − confidence (exact distribution of
 * W+ without ties). Undefined when there are too few pairs for any interval at that confidence (fewer than
 * 6 at 95 %).
 */
export function walshHodgesLehmann(d: readonly number[], confidence = 0.95): Shift | undefined {
  const n = d.length;
  if (n === 0) return undefined;
  const walsh: number[] = [];
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) walsh.push((d[i]! + d[j]!) / 2);
  return medianWithInterval(walsh, signedRankCdf(n), confidence);
}
