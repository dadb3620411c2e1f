/**
 * Two-sample rank statistics for regression gates: the Mann-Whitney U test (exact distribution, ties
 * included, for the small samples a gate has), the Hodges-Lehmann shift with its confidence interval, and
 * Holm's step-down correction across metrics.
 */

/** Mid-ranks (1-based) of `values`; tied values share the mean of their ranks. */
export function midRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]!.v === order[start]!.v) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k]!.i] = rank;
    start = end + 1;
  }
  return ranks;
}

export interface MannWhitney {
  /** U of `a`: pairs (x in a, y in b) with x > y, ties counting one half. */
  u: number;
  /** P(U ≥ observed) under H0 — the one-sided p-value for "a tends to be larger than b". */
  pGreater: number;
  /** P(U ≤ observed) under H0 — for "a tends to be smaller than b". */
  pLess: number;
  /** 'exact' (permutation distribution of the observed ranks, ties included) or 'normal' (large samples). */
  method: 'exact' | 'normal';
}

/** Above this many values in total, the normal approximation with tie correction is used. */
const EXACT_LIMIT = 60;

/**
 * The Mann-Whitney U test of `a` against `b`. Exact for up to 60 values: without ties, the classic
 * distribution of U (`uDistribution`, kept per pair of sample sizes); with ties, the distribution of the
 * rank sum of `a` over every way of choosing |a| of the pooled mid-ranks, counted by dynamic programming
 * on doubled ranks so ties stay integers.
 */
export function mannWhitney(a: readonly number[], b: readonly number[]): MannWhitney {
  const m = a.length;
  const n = b.length;
  if (m === 0 || n === 0) throw new Error('mannWhitney: both samples need at least one value');
  const ranks = midRanks([...a, ...b]);
  const rankSumA = ranks.slice(0, m).reduce((s, r) => s + r, 0);
  const u = rankSumA - (m * (m + 1)) / 2;
  if (m + n <= EXACT_LIMIT && new Set(ranks).size === m + n) {
    // No ties: the classic distribution of U, the same for every sample of these sizes; it is symmetric,
    // so P(U ≥ u) = P(U ≤ mn − u), both read from the lower tail.
    const cdf = uDistributionCached(m, n);
    return { u, pGreater: cdf[m * n - u]!, pLess: cdf[u]!, method: 'exact' };
  }
  if (m + n <= EXACT_LIMIT) {
    const doubled = ranks.map((r) => Math.round(r * 2));
    const observed = Math.round(rankSumA * 2);
    const maxSum = doubled.reduce((s, r) => s + r, 0);
    // ways[k][s]: subsets of size k of the ranks seen so far with doubled rank sum s; updated in place, k
    // downward, so each rank joins a subset at most once.
    const ways: Float64Array[] = Array.from({ length: m + 1 }, () => new Float64Array(maxSum + 1));
    ways[0]![0] = 1;
    let reach = 0;
    doubled.forEach((r, seen) => {
      reach += r;
      for (let k = Math.min(m, seen + 1); k >= 1; k--) {
        const from = ways[k - 1]!;
        const to = ways[k]!;
        for (let s = reach; s >= r; s--) if (from[s - r]! > 0) to[s]! += from[s - r]!;
      }
    });
    const dist = ways[m]!;
    let total = 0;
    let atLeast = 0;
    let atMost = 0;
    for (let s = 0; s <= maxSum; s++) {
      total += dist[s]!;
      if (s >= observed) atLeast += dist[s]!;
      if (s <= observed) atMost += dist[s]!;
    }
    return { u, pGreater: atLeast / total, pLess: atMost / total, method: 'exact' };
  }
  // Normal approximation with tie correction and continuity correction.
  const N = m + n;
  const counts = new Map<number, number>();
  for (const r of ranks) counts.set(r, (counts.get(r) ?? 0) + 1);
  const tie = [...counts.values()].reduce((s, t) => s + (t ** 3 - t), 0);
  const variance = ((m * n) / 12) * (N + 1 - tie / (N * (N - 1)));
  const mean = (m * n) / 2;
  const sd = Math.sqrt(variance);
  const pGreater = sd === 0 ? 1 : 1 - normalCdf((u - mean - 0.5) / sd);
  const pLess = sd === 0 ? 1 : normalCdf((u - mean + 0.5) / sd);
  return { u, pGreater, pLess, method: 'normal' };
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 via erf; |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** Inverse of normalCdf (Acklam's rational approximation; relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

export interface Shift {
  /** Hodges-Lehmann estimate of b − a: the median of all pairwise differences. */
  estimate: number;
  /** Confidence interval of the shift from the order statistics of the pairwise differences. */
  low: number;
  high: number;
  /** The interval's actual coverage (discrete for small samples: at least the asked confidence). */
  coverage: number;
}

/**
 * Hodges-Lehmann shift of `b` relative to `a` (b − a) with a distribution-free confidence interval: the
 * k-th smallest and k-th largest of the m·n pairwise differences, k the largest count whose two tails under
 * H0 stay within 1 − confidence (from the exact distribution of U without ties). Undefined when the samples
 * are too small for any interval at that confidence (e.g. fewer than 4 + 4 at 95 %).
 */
export function hodgesLehmann(a: readonly number[], b: readonly number[], confidence = 0.95): Shift | undefined {
  const m = a.length;
  const n = b.length;
  if (m === 0 || n === 0) return undefined;
  const diffs: number[] = [];
  for (const x of a) for (const y of b) diffs.push(y - x);
  return medianWithInterval(diffs, uDistributionCached(m, n), confidence);
}

/**
 * A Hodges-Lehmann estimate and its distribution-free interval from the values whose median it is (pairwise
 * differences, or Walsh averages) and the null distribution of the rank statistic counting them (cdf[k] =
 * P(statistic ≤ k)): the median, and the k-th smallest and k-th largest value, k the largest count whose two
 * tails stay within 1 − confidence. Undefined when no k does (too few values for that confidence).
 */
export function medianWithInterval(values: number[], cdf: readonly number[], confidence: number): Shift | undefined {
  values.sort((p, q) => p - q);
  const alphaHalf = (1 - confidence) / 2;
  // P(statistic ≤ k − 1) ≤ α/2: the interval [v(k), v(N − k + 1)].
  let k = 0;
  while (k < cdf.length && cdf[k]! <= alphaHalf) k++;
  if (k === 0) return undefined;
  const mid = values.length / 2;
  const estimate = values.length % 2 === 1 ? values[Math.floor(mid)]! : (values[mid - 1]! + values[mid]!) / 2;
  return { estimate, low: values[k - 1]!, high: values[values.length - k]!, coverage: 1 - 2 * cdf[k - 1]! };
}

const uDistributions = new Map<string, readonly number[]>();

/** uDistribution, kept per sample sizes (a gate asks for the same few again at every look). */
function uDistributionCached(m: number, n: number): readonly number[] {
  const key = `${m}:${n}`;
  let cdf = uDistributions.get(key);
  if (cdf === undefined) uDistributions.set(key, (cdf = uDistribution(m, n)));
  return cdf;
}

/** Cumulative distribution of U (no ties) for sample sizes m and n: cdf[u] = P(U ≤ u). */
export function uDistribution(m: number, n: number): number[] {
  // f[i][j][u] by the recurrence f(m, n, u) = f(m − 1, n, u − n) + f(m, n − 1, u), as counts.
  const max = m * n;
  let prev: number[][] = Array.from({ length: n + 1 }, () => {
    const row = new Array<number>(max + 1).fill(0);
    row[0] = 1;
    return row;
  }); // m = 0: only U = 0
  for (let i = 1; i <= m; i++) {
    const cur: number[][] = [];
    for (let j = 0; j <= n; j++) {
      const row = new Array<number>(max + 1).fill(0);
      if (j === 0) row[0] = 1;
      else
        for (let u = 0; u <= max; u++) {
          row[u] = (u - j >= 0 ? prev[j]![u - j]! : 0) + cur[j - 1]![u]!;
        }
      cur.push(row);
    }
    prev = cur;
  }
  const counts = prev[n]!;
  const total = counts.reduce((s, c) => s + c, 0);
  const cdf: number[] = [];
  let acc = 0;
  for (const c of counts) cdf.push((acc += c) / total);
  return cdf;
}

/** Holm's step-down adjustment: adjusted p-values in the input order (family-wise error ≤ α). */
export function holm(pValues: readonly number[]): number[] {
  const order = pValues.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p);
  const adjusted = new Array<number>(pValues.length);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (pValues.length - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}
