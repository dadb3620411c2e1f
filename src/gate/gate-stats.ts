import { hodgesLehmann, holm, mannWhitney, normalCdf, normalQuantile } from '../stats/mann-whitney.js';

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
   * The candidate's change relative to the baseline median (Hodges-Lehmann shift / baseline median; +0.1 =
   * 10 % higher), with its interval; undefined when the baseline median is 0.
   */
  change: number | undefined;
  changeLow: number | undefined;
  changeHigh: number | undefined;
  /** The interval's exact coverage; undefined when the samples are too small for one. */
  coverage: number | undefined;
  /** One-sided Mann-Whitney p for "the candidate is worse", and Holm-adjusted across the gate's metrics. */
  p: number;
  pAdjusted: number;
  /** Power to see a `detect` change in the worse direction with these trials and this noise (normal approximation). */
  power: number;
  /** Trials per arm that would give the asked power at the noise measured (when `power` falls short). */
  trialsNeeded: number | undefined;
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

/** Asymptotic relative efficiency of Mann-Whitney against the t-test under normal noise (3/π). */
const ARE = 3 / Math.PI;

/**
 * Power of a one-sided Mann-Whitney test at level `level` to see a relative shift `shift` with `n` trials
 * per arm when the trials' coefficient of variation is `cv` (normal approximation, t-test power scaled by the
 * ARE); 0 when even the most extreme outcome of the exact test could not reach `level`.
 */
export function powerOf(n: number, cv: number, shift: number, level: number): number {
  if (smallestP(n) > level) return 0;
  if (cv === 0) return 1;
  return normalCdf(Math.sqrt((n * ARE) / 2) * (shift / cv) - normalQuantile(1 - level));
}

/** The smallest one-sided p-value the exact test can give with n + n trials: 1 / C(2n, n). */
export function smallestP(n: number): number {
  let c = 1;
  for (let i = 1; i <= n; i++) c = (c * (n + i)) / i;
  return 1 / c;
}

/**
 * The fewest trials per arm (from 2) for `power` at level `level`: at most `cap`, undefined beyond it.
 * `powerOf` grows with n, so the search starts where the normal approximation puts it and settles on the
 * first n that reaches `power`.
 */
export function trialsFor(cv: number, shift: number, level: number, power: number, cap = 100): number | undefined {
  let n = 2;
  while (n <= cap && smallestP(n) > level) n++;
  if (n > cap) return undefined;
  if (cv > 0 && power > 0 && power < 1) {
    const z = normalQuantile(1 - level) + normalQuantile(power);
    n = Math.max(n, Math.floor((2 / ARE) * ((z * cv) / shift) ** 2));
    if (!(n <= cap)) return undefined;
  }
  while (n > 2 && powerOf(n - 1, cv, shift, level) >= power) n--;
  while (n <= cap && powerOf(n, cv, shift, level) < power) n++;
  return n <= cap ? n : undefined;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/**
 * Compares baseline and candidate trials metric by metric: one-sided Mann-Whitney toward "worse", Holm
 * across the metrics, the Hodges-Lehmann change with its interval, and the power the noise leaves.
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
  const rows = metrics.map((metric, i): MetricComparison & { cvPooled: number } => {
    const a = baseline[i] ?? [];
    const b = candidate[i] ?? [];
    if (a.length === 0 || b.length === 0) throw new Error(`gate: no trials for ${metric.name}`);
    const sa = summarize(a);
    const sb = summarize(b);
    const test = mannWhitney(b, a);
    const p = metric.better === 'smaller' ? test.pGreater : test.pLess;
    const shift = hodgesLehmann(a, b, options.confidence);
    const rel = (x: number | undefined) => (x === undefined || sa.median === 0 ? undefined : x / Math.abs(sa.median));
    const cv = Math.sqrt((sa.cv ** 2 + sb.cv ** 2) / 2);
    const n = Math.min(a.length, b.length);
    const power = powerOf(n, cv, options.detect, level);
    return {
      ...metric,
      baseline: sa,
      candidate: sb,
      change: rel(shift?.estimate ?? sb.median - sa.median),
      changeLow: rel(shift?.low),
      changeHigh: rel(shift?.high),
      coverage: shift?.coverage,
      p,
      pAdjusted: p,
      power,
      trialsNeeded: undefined,
      verdict: 'pass',
      why: '',
      cvPooled: cv,
    };
  });
  const adjusted = holm(rows.map((r) => r.p));
  return rows.map(({ cvPooled, ...r }, i) => {
    const pAdjusted = adjusted[i]!;
    const worse = r.change === undefined ? undefined : r.better === 'smaller' ? r.change : -r.change;
    const out: MetricComparison = { ...r, pAdjusted };
    if (pAdjusted < options.alpha && worse !== undefined && worse >= options.tolerance) {
      out.verdict = 'regression';
      out.why = `${pct(worse)} worse (p ${fmtP(pAdjusted)} after Holm, tolerance ${pct(options.tolerance)})`;
    } else if (pAdjusted < options.alpha) {
      out.verdict = 'pass';
      out.why = `a significant change of ${worse === undefined ? '?' : pct(worse)} in the worse direction, within the tolerance of ${pct(options.tolerance)}`;
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
        out.why = `no significant change, but the interval of the change ${reach}, past the ${pct(options.detect)} to rule out; at ${pct(cvPooled)} run-to-run noise a few more trials per arm narrow it`;
      } else {
        out.trialsNeeded = trialsFor(cvPooled, options.detect, level, options.power);
        out.why =
          `no significant change, but the interval of the change ${reach}: with ${r.baseline.n}+${r.candidate.n} trials and ${pct(cvPooled)} run-to-run noise a ${pct(options.detect)} regression would be seen with power ${r.power.toFixed(2)} only` +
          (out.trialsNeeded === undefined
            ? ' (more than 100 trials per arm would be needed)'
            : ` (about ${out.trialsNeeded} trials per arm would give ${options.power})`);
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
