import { hodgesLehmann, holm, mannWhitney, normalCdf, normalQuantile, type Shift } from '../stats/mann-whitney.js';
import { signedRank, smallestPairedP, walshHodgesLehmann } from '../stats/signed-rank.js';

/** A measured quantity of a trial and which way is better (CPU per item: smaller; a knee: bigger). */
export interface GateMetric {
  name: string;
  unit: string;
  better: 'smaller' | 'bigger';
}

export interface GateStatsOptions {
  /** Family-wise significance level across the metrics (Holm). */
  alpha: number;
  /** A significant change smaller than this (relative) is not a regression. */
  tolerance: number;
  /** The smallest change (relative) the gate must be able to see; below the power for it → inconclusive. */
  detect: number;
  /** Power asked for `detect` (0.8). */
  power: number;
  /** Confidence of the change's interval. */
  confidence: number;
  /** How the arms' trials are compared (unpaired when absent). */
  design?: GateDesign;
}

export const GATE_STATS_DEFAULTS: GateStatsOptions = {
  alpha: 0.05,
  tolerance: 0.05,
  detect: 0.1,
  power: 0.8,
  confidence: 0.95,
};

export interface ArmSummary {
  n: number;
  median: number;
  /** Coefficient of variation (sample standard deviation / mean); 0 for a constant arm. */
  cv: number;
}

export type MetricVerdict = 'pass' | 'regression' | 'inconclusive';

export interface MetricComparison extends GateMetric {
  baseline: ArmSummary;
  candidate: ArmSummary;
  /**
   * The candidate's change relative to the baseline (+0.1 = 10 % higher), with its interval: unpaired, the
   * Hodges-Lehmann shift over the baseline median (undefined when that is 0); paired, the Hodges-Lehmann
   * centre of the pairs' log ratios, as a ratio less one.
   */
  change: number | undefined;
  changeLow: number | undefined;
  changeHigh: number | undefined;
  /** The interval's exact coverage; undefined when the samples are too small for one. */
  coverage: number | undefined;
  /**
   * One-sided p for "the candidate is worse" (Mann-Whitney, or the signed-rank test on the pairs' log ratios
   * when paired), and Holm-adjusted across the gate's metrics.
   */
  p: number;
  pAdjusted: number;
  /** Power to see a `detect` change in the worse direction with these trials and this noise (normal approximation). */
  power: number;
  /** Trials per arm (pairs, when paired) that would give the asked power at the noise measured (when `power` falls short). */
  trialsNeeded: number | undefined;
  /**
   * Paired design only: the standard deviation of the pairs' log ratios ln(candidate / baseline) — the
   * noise left after what hit both arms of a pair cancelled; the power is figured at it.
   */
  pairNoise?: number;
  verdict: MetricVerdict;
  why: string;
  /** false: reported only, left out of the verdict (`gate --gate-on`); absent or true: it gates. */
  gated?: boolean;
  /**
   * Trials of each arm whose value is only a lower bound (a canary p99 censored at the canary timeout);
   * absent when none is.
   */
  censored?: { baseline: number; candidate: number };
  /** The trials that did not measure this metric: it is not tested, and inconclusive (see `unmeasuredComparison`). */
  unmeasured?: string;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length / 2;
  return s.length % 2 === 1 ? s[Math.floor(m)]! : (s[m - 1]! + s[m]!) / 2;
}

export function summarize(xs: readonly number[]): ArmSummary {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, median: median(xs), cv: mean === 0 ? 0 : sd / Math.abs(mean) };
}

/**
 * How the arms' trials are compared. `unpaired`: each trial on its own, baseline and candidate at different
 * moments — Mann-Whitney on the values, the Hodges-Lehmann shift of the candidate against the baseline.
 * `paired`: trial i of each arm ran at the same moment on the same machine — the Wilcoxon signed-rank test
 * on the pairs' log ratios ln(candidate / baseline) and their Hodges-Lehmann centre, so noise that hits
 * both arms of a pair cancels.
 */
export type GateDesign = 'unpaired' | 'paired';

/** Asymptotic relative efficiency of either rank test against its t-test under normal noise (3/π). */
const ARE = 3 / Math.PI;

/**
 * Power of the design's one-sided rank test at level `level` to see a relative change `shift` with `n`
 * trials per arm (pairs, when paired) at noise `noise` (normal approximation, t-test power scaled by the
 * ARE); 0 when even the most extreme outcome of the exact test could not reach `level`.
 *
 * - unpaired: `noise` is the trials' coefficient of variation; the two-sample t statistic is √(n/2)·shift/cv.
 * - paired: `noise` is the standard deviation of the pairs' log ratios; the one-sample t statistic is
 *   √n·ln(1 + shift)/sd.
 */
export function powerOf(
  n: number,
  noise: number,
  shift: number,
  level: number,
  design: GateDesign = 'unpaired',
): number {
  if (smallestP(n, design) > level) return 0;
  if (noise === 0) return 1;
  const effect =
    design === 'paired' ? Math.sqrt(n * ARE) * (Math.log1p(shift) / noise) : Math.sqrt((n * ARE) / 2) * (shift / noise);
  return normalCdf(effect - normalQuantile(1 - level));
}

/** The smallest one-sided p-value the exact test can give with n trials per arm: 1 / C(2n, n), or 1 / 2^n paired. */
export function smallestP(n: number, design: GateDesign = 'unpaired'): number {
  if (design === 'paired') return smallestPairedP(n);
  let c = 1;
  for (let i = 1; i <= n; i++) c = (c * (n + i)) / i;
  return 1 / c;
}

/**
 * The fewest trials per arm (from 2) for `power` at level `level`: at most `cap`, undefined beyond it.
 * `powerOf` grows with n, so the search starts where the normal approximation puts it and settles on the
 * first n that reaches `power`.
 */
export function trialsFor(
  noise: number,
  shift: number,
  level: number,
  power: number,
  cap = 100,
  design: GateDesign = 'unpaired',
): number | undefined {
  let n = 2;
  while (n <= cap && smallestP(n, design) > level) n++;
  if (n > cap) return undefined;
  if (noise > 0 && power > 0 && power < 1) {
    const z = normalQuantile(1 - level) + normalQuantile(power);
    const guess =
      design === 'paired' ? (1 / ARE) * ((z * noise) / Math.log1p(shift)) ** 2 : (2 / ARE) * ((z * noise) / shift) ** 2;
    n = Math.max(n, Math.floor(guess));
    if (!(n <= cap)) return undefined;
  }
  while (n > 2 && smallestP(n - 1, design) <= level && powerOf(n - 1, noise, shift, level, design) >= power) n--;
  while (n <= cap && powerOf(n, noise, shift, level, design) < power) n++;
  return n <= cap ? n : undefined;
}

/**
 * A design's test, change and noise for one metric: the one-sided p toward "the candidate is larger" and
 * toward "smaller", the change relative to the baseline with its interval, and the noise its power is
 * figured at (see `powerOf`).
 */
interface DesignTest {
  pGreater: number;
  pLess: number;
  change: number | undefined;
  low: number | undefined;
  high: number | undefined;
  coverage: number | undefined;
  noise: number;
}

function unpairedTest(a: readonly number[], b: readonly number[], confidence: number): DesignTest {
  const sa = summarize(a);
  const sb = summarize(b);
  const test = mannWhitney(b, a);
  const shift = hodgesLehmann(a, b, confidence);
  const rel = (x: number | undefined) => (x === undefined || sa.median === 0 ? undefined : x / Math.abs(sa.median));
  return {
    pGreater: test.pGreater,
    pLess: test.pLess,
    change: rel(shift?.estimate ?? sb.median - sa.median),
    low: rel(shift?.low),
    high: rel(shift?.high),
    coverage: shift?.coverage,
    noise: Math.sqrt((sa.cv ** 2 + sb.cv ** 2) / 2),
  };
}

/**
 * Paired: the log ratio of each pair. A pair with a value ≤ 0 has no log ratio: then every pair's difference
 * relative to the baseline median is used instead (its noise the differences' deviation over that median).
 */
function pairedTest(a: readonly number[], b: readonly number[], confidence: number): DesignTest {
  if (a.length !== b.length)
    throw new Error(`gate: ${a.length} baseline values for ${b.length} candidate values in pairs`);
  const positive = [...a, ...b].every((x) => x > 0);
  const scale = Math.abs(median(a));
  const d = positive
    ? a.map((x, i) => Math.log(b[i]! / x))
    : a.map((x, i) => (scale === 0 ? b[i]! - x : (b[i]! - x) / scale));
  const test = signedRank(d);
  const shift: Shift | undefined = walshHodgesLehmann(d, confidence);
  const back = (x: number | undefined) =>
    x === undefined || (!positive && scale === 0) ? undefined : positive ? Math.expm1(x) : x;
  const mean = d.reduce((s, x) => s + x, 0) / d.length;
  const sd = d.length > 1 ? Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (d.length - 1)) : 0;
  return {
    pGreater: test.pGreater,
    pLess: test.pLess,
    change: back(shift?.estimate ?? median(d)),
    low: back(shift?.low),
    high: back(shift?.high),
    coverage: shift?.coverage,
    // On the log scale the deviation is that of the ratio; on differences over the median, it already is relative.
    noise: sd,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/**
 * Compares baseline and candidate trials metric by metric: a one-sided rank test toward "worse" (by
 * `options.design`: Mann-Whitney on the values, or, paired, the signed-rank test on the pairs' log ratios —
 * baseline[i][j] and candidate[i][j] are pair j), Holm across the metrics, the Hodges-Lehmann change with
 * its interval, and the power the noise leaves.
 *
 * - regression: significant after Holm and the estimated change is at least `tolerance` in the worse direction;
 * - pass: significant but smaller than `tolerance`, or not significant and the change's interval excludes
 *   a `detect` regression (its worse end below `detect`);
 * - inconclusive: neither — too noisy or too few trials to rule a `detect` regression out; with the trials
 *   per arm that would give `power` to see one (figured at α / metrics, Holm's strictest step).
 */
export function compareMetrics(
  metrics: readonly GateMetric[],
  baseline: readonly (readonly number[])[],
  candidate: readonly (readonly number[])[],
  options: GateStatsOptions = GATE_STATS_DEFAULTS,
): MetricComparison[] {
  const level = options.alpha / Math.max(1, metrics.length);
  const design = options.design ?? 'unpaired';
  const rows = metrics.map((metric, i): MetricComparison & { cvPooled: number } => {
    const a = baseline[i] ?? [];
    const b = candidate[i] ?? [];
    if (a.length === 0 || b.length === 0) throw new Error(`gate: no trials for ${metric.name}`);
    const test = design === 'paired' ? pairedTest(a, b, options.confidence) : unpairedTest(a, b, options.confidence);
    const p = metric.better === 'smaller' ? test.pGreater : test.pLess;
    const n = Math.min(a.length, b.length);
    return {
      ...metric,
      baseline: summarize(a),
      candidate: summarize(b),
      change: test.change,
      changeLow: test.low,
      changeHigh: test.high,
      coverage: test.coverage,
      p,
      pAdjusted: p,
      power: powerOf(n, test.noise, options.detect, level, design),
      trialsNeeded: undefined,
      ...(design === 'paired' ? { pairNoise: test.noise } : {}),
      verdict: 'pass',
      why: '',
      cvPooled: test.noise,
    };
  });
  const adjusted = holm(rows.map((r) => r.p));
  const noiseName = design === 'paired' ? 'pair-to-pair noise of the ratio' : 'run-to-run noise';
  const unit = design === 'paired' ? 'pairs' : 'trials per arm';
  return rows.map(({ cvPooled, ...r }, i) => {
    const pAdjusted = adjusted[i]!;
    const worse = r.change === undefined ? undefined : r.better === 'smaller' ? r.change : -r.change;
    const out: MetricComparison = { ...r, pAdjusted };
    if (pAdjusted < options.alpha && worse !== undefined && worse >= options.tolerance) {
      out.verdict = 'regression';
      out.why = `${pct(worse)} worse (p ${fmtP(pAdjusted)} after Holm, tolerance ${pct(options.tolerance)})`;
    } else if (pAdjusted < options.alpha && worse === undefined) {
      // Significantly worse from a baseline median of 0: no relative change exists, and no rise from 0 is
      // within a relative tolerance.
      out.verdict = 'regression';
      out.why = `worse (p ${fmtP(pAdjusted)} after Holm) from a baseline median of 0: no relative change can be given, so none is within the tolerance`;
    } else if (pAdjusted < options.alpha) {
      out.verdict = 'pass';
      out.why = `a significant change of ${pct(worse!)} in the worse direction, within the tolerance of ${pct(options.tolerance)}`;
    } else if (worseBound(r) !== undefined && worseBound(r)! < options.detect) {
      out.verdict = 'pass';
      out.why = `no significant change; the interval of the change excludes a ${pct(options.detect)} regression (at worst ${pct(worseBound(r)!)})`;
    } else {
      out.verdict = 'inconclusive';
      const reach =
        worseBound(r) === undefined ? 'cannot be bounded with so few trials' : `reaches ${pct(worseBound(r)!)}`;
      if (r.power >= options.power) {
        // Noise low enough, but this interval still reaches past `detect`: more trials narrow it.
        out.trialsNeeded = Math.min(r.baseline.n, r.candidate.n) + 1;
        out.why = `no significant change, but the interval of the change ${reach}, past the ${pct(options.detect)} to rule out; at ${pct(cvPooled)} ${noiseName} a few more ${unit} narrow it`;
      } else {
        out.trialsNeeded = trialsFor(cvPooled, options.detect, level, options.power, 100, design);
        out.why =
          `no significant change, but the interval of the change ${reach}: with ${r.baseline.n}+${r.candidate.n} trials${design === 'paired' ? ' in pairs' : ''} and ${pct(cvPooled)} ${noiseName} a ${pct(options.detect)} regression would be seen with power ${r.power.toFixed(2)} only` +
          (out.trialsNeeded === undefined
            ? ` (more than 100 ${unit} would be needed)`
            : ` (about ${out.trialsNeeded} ${unit} would give ${options.power})`);
      }
    }
    return out;
  });
}

/**
 * A metric some trials did not measure (`where` names them): summarised over the trials that did, not
 * tested (p 1), and inconclusive — a figure missing from a trial is never left out silently, since what
 * it would have shown is unknown. Not part of a Holm family.
 */
export function unmeasuredComparison(
  metric: GateMetric,
  baseline: readonly number[],
  candidate: readonly number[],
  where: string,
): MetricComparison {
  const arm = (xs: readonly number[]): ArmSummary => (xs.length === 0 ? { n: 0, median: 0, cv: 0 } : summarize(xs));
  return {
    ...metric,
    baseline: arm(baseline),
    candidate: arm(candidate),
    change: undefined,
    changeLow: undefined,
    changeHigh: undefined,
    coverage: undefined,
    p: 1,
    pAdjusted: 1,
    power: 0,
    trialsNeeded: undefined,
    verdict: 'inconclusive',
    why: `not measured in ${where}: a trial without it cannot be compared (its notes say why)`,
    unmeasured: where,
  };
}

/**
 * A comparison in which some trials' values are censored: known only to be at least the value recorded (a
 * canary p99 recorded as the canary timeout). The rank test sees every censored trial tied at the
 * censoring point — above each trial measured below it, unordered among themselves (mid-ranks; the exact
 * test counts ties). A candidate censored in any trial may be worse than recorded, so neither "no
 * significant change" nor "within the tolerance" can be shown: such a pass becomes inconclusive. A
 * regression stands; its reason names the censored trials.
 */
export function withCensoring(
  c: MetricComparison,
  censored: { baseline: number; candidate: number },
): MetricComparison {
  if (censored.baseline === 0 && censored.candidate === 0) return c;
  const out: MetricComparison = { ...c, censored };
  const note = `${censored.baseline}+${censored.candidate} trials censored at the canary timeout (tied there in the test)`;
  if (censored.candidate > 0 && c.verdict === 'pass') {
    out.verdict = 'inconclusive';
    out.trialsNeeded = undefined;
    out.why = `${censored.candidate} of ${c.candidate.n} candidate trials reached the canary timeout: the candidate's value is only known to be at least the one recorded, so a regression cannot be ruled out (${note})`;
  } else out.why = `${c.why}; ${note}`;
  return out;
}

/** The interval's end on the worse side, as a worsening (positive = worse). */
function worseBound(r: Pick<MetricComparison, 'better' | 'changeLow' | 'changeHigh'>): number | undefined {
  if (r.better === 'smaller') return r.changeHigh;
  return r.changeLow === undefined ? undefined : -r.changeLow;
}

export function fmtP(p: number): string {
  return p < 0.001 ? '<0.001' : p.toFixed(3);
}
