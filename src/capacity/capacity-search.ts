/**
 * The knee search, in the spirit of RFC 2544 §26.1 and RFC 9971 (MLRsearch): a short geometric ramp
 * brackets the highest passing rate, a bisection with short trials narrows it to the asked precision, and
 * the lower bound is confirmed by a full-length trial. A failed confirmation moves the upper bound down to
 * it and the search goes on with full-length trials only. The answer is an interval [lower, upper] with the
 * trials that bound it, never a point.
 *
 * Pure: trials are run through the function given, so the search is tested on a simulated stack.
 */

/** What one trial measured, as the search needs it. */
export interface TrialOutcome {
  /** Verification decided every signal (a drain that did not finish, a sample: not conclusive). */
  conclusive: boolean;
  /** Items lost over every signal (0 when not conclusive: then `conclusive` decides). */
  lost: number;
  /** Items acknowledged and expected at the backends. */
  expected: number;
  /** SLOs the trial missed (achieved/offered, canary p99, refusals), one line each. */
  sloMisses: string[];
  /** What limited the trial: the stack, the generator or the machine (or nothing). */
  limitedBy: 'nothing' | 'stack' | 'generator' | 'machine';
  /** One line per finding that explains a failure (component saturated, queue growth, …). */
  reasons: string[];
  /** Why verification could not decide, when not conclusive. */
  undecided?: string;
}

export type TrialPhase = 'bracket' | 'bisect' | 'confirm';

export interface Trial extends TrialOutcome {
  /** 1-based order of the trial in the search. */
  n: number;
  rateRps: number;
  durationMs: number;
  phase: TrialPhase;
  /** Wall time of the trial (load, drain, verification). */
  elapsedMs: number;
}

/** A criterion: NDR (zero loss) or PDR (loss ratio ≤ a bound), both under the SLOs. */
export interface Criterion {
  name: 'NDR' | 'PDR';
  /** Largest loss ratio accepted: 0 for NDR. */
  maxLossRatio: number;
}

export function passes(outcome: TrialOutcome, criterion: Criterion): boolean {
  if (!outcome.conclusive || outcome.sloMisses.length > 0) return false;
  if (criterion.maxLossRatio === 0) return outcome.lost === 0;
  return outcome.expected > 0 && outcome.lost / outcome.expected <= criterion.maxLossRatio;
}

export interface SearchOptions {
  /** Lower end of the range: the first trial. */
  fromRps: number;
  /** Upper end: the search never offers more. */
  toRps: number;
  /** Short trials (bracket and bisection). */
  trialMs: number;
  /** Full-length trials (confirmation). */
  confirmMs: number;
  /** Goal for the interval's relative width, (upper − lower) / upper. */
  precision: number;
  /** Ramp factor of the bracket. */
  factor: number;
  /** No more trials than this (the interval is then reported wider than asked, with the reason). */
  maxTrials: number;
}

export interface SearchBound {
  criterion: Criterion;
  /**
   * - `interval`: lower passed a full-length trial, upper failed (short or full);
   * - `above-range`: even `toRps` passed (a lower bound only);
   * - `below-range`: `fromRps` already failed;
   * - `unfinished`: the trial budget ran out or the search was stopped before the lower end was confirmed.
   */
  kind: 'interval' | 'above-range' | 'below-range' | 'unfinished';
  lowerRps: number | undefined;
  upperRps: number | undefined;
  /** Trials (their `n`) that set each end. */
  lowerTrial: number | undefined;
  upperTrial: number | undefined;
  /** (upper − lower) / upper when both ends are known. */
  relativeWidth: number | undefined;
  /** Why the interval is wider than asked, or why there is none. */
  note: string | undefined;
}

/**
 * Memoises trials by rate and length, so a second criterion (PDR after NDR) reuses what the first ran, and
 * numbers them in the order they ran.
 */
export class TrialBook {
  readonly trials: Trial[] = [];
  private readonly byKey = new Map<string, Trial>();

  constructor(
    private readonly run: (rateRps: number, durationMs: number, phase: TrialPhase, n: number) => Promise<TrialOutcome>,
    private readonly now: () => number = Date.now,
  ) {}

  readonly trial = async (rateRps: number, durationMs: number, phase: TrialPhase): Promise<Trial> => {
    const key = `${rateRps}@${durationMs}`;
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    const n = this.trials.length + 1;
    const started = this.now();
    const outcome = await this.run(rateRps, durationMs, phase, n);
    const trial: Trial = { ...outcome, n, rateRps, durationMs, phase, elapsedMs: this.now() - started };
    this.trials.push(trial);
    this.byKey.set(key, trial);
    return trial;
  };
}

/** Rates are whole items/s, on a grid of about 0.5 % of the rate (at least 10/s) so trials are reusable. */
export function roundRate(rateRps: number): number {
  const grid = Math.max(10, 10 ** Math.floor(Math.log10(Math.max(1, rateRps * 0.005))));
  return Math.max(grid, Math.round(rateRps / grid) * grid);
}

/** Trials the search will likely need from here: bracket steps left, bisection steps, one confirmation. */
export function expectedTrials(options: SearchOptions, lowerRps: number, upperRps: number | undefined): number {
  const bracket =
    upperRps === undefined ? Math.max(0, Math.ceil(Math.log(options.toRps / lowerRps) / Math.log(options.factor))) : 0;
  const hi = upperRps ?? Math.min(options.toRps, lowerRps * options.factor);
  const width = (hi - lowerRps) / hi;
  const bisect = width <= options.precision ? 0 : Math.ceil(Math.log2(width / options.precision));
  return bracket + bisect + 1;
}

export interface SearchProgress {
  (
    message: string,
    state: { lowerRps: number | undefined; upperRps: number | undefined; done: number; about: number },
  ): void;
}

/**
 * Searches the highest rate that meets `criterion`, through the book's trials (a rate and length it already
 * ran is not run again). `maxTrials` counts every trial in the book.
 */
export async function searchRate(
  book: TrialBook,
  criterion: Criterion,
  options: SearchOptions,
  progress: SearchProgress = () => undefined,
): Promise<SearchBound> {
  const budget = () => options.maxTrials - book.trials.length;
  let lower: Trial | undefined;
  let upper: Trial | undefined;
  let trials = 0;
  const state = () => ({
    lowerRps: lower?.rateRps,
    upperRps: upper?.rateRps,
    done: trials,
    about: trials + expectedTrials(options, lower?.rateRps ?? options.fromRps, upper?.rateRps),
  });
  const attempt = async (rateRps: number, durationMs: number, phase: TrialPhase): Promise<Trial | undefined> => {
    const known = book.trials.find((x) => x.rateRps === rateRps && x.durationMs === durationMs);
    if (known === undefined && budget() <= 0) return undefined;
    const t = known ?? (await book.trial(rateRps, durationMs, phase));
    trials++;
    return t;
  };
  /** Says what the trial showed, with the bracket as it now stands. */
  const told = (t: Trial): Trial => {
    const ok = passes(t, criterion);
    progress(
      `${criterion.name} ${t.phase} ${t.rateRps} items/s for ${t.durationMs / 1000} s: ${ok ? 'pass' : 'fail'}${ok ? '' : ` (${failureOf(t)})`}`,
      state(),
    );
    return t;
  };
  const bound = (kind: SearchBound['kind'], note?: string): SearchBound => ({
    criterion,
    kind,
    lowerRps: lower?.rateRps,
    upperRps: upper?.rateRps,
    lowerTrial: lower?.n,
    upperTrial: upper?.n,
    relativeWidth:
      lower !== undefined && upper !== undefined ? (upper.rateRps - lower.rateRps) / upper.rateRps : undefined,
    note,
  });
  const outOfBudget = () => bound('unfinished', `the trial budget (--max-trials ${options.maxTrials}) ran out`);

  // ── bracket: ramp geometrically from the lower end until a trial fails ─────────────────────────────
  const from = roundRate(options.fromRps);
  const first = await attempt(from, options.trialMs, 'bracket');
  if (first === undefined) return outOfBudget();
  if (!passes(first, criterion)) {
    // The lower end fails a short trial: nothing below it was tried.
    upper = first;
    told(first);
    return bound('below-range', `the stack fails at the lower end of the range (${from} items/s): ${failureOf(first)}`);
  }
  lower = first;
  told(first);
  while (upper === undefined) {
    if (lower.rateRps >= options.toRps) break;
    const next = Math.min(roundRate(lower.rateRps * options.factor), roundRate(options.toRps));
    const t = await attempt(next, options.trialMs, 'bracket');
    if (t === undefined) return outOfBudget();
    if (passes(t, criterion)) lower = t;
    else upper = t;
    told(t);
  }

  // ── bisect, confirm; a failed confirmation continues with full-length trials ───────────────────────
  let trialMs = options.trialMs;
  for (;;) {
    while (upper !== undefined && (upper.rateRps - lower.rateRps) / upper.rateRps > options.precision) {
      const mid = roundRate((lower.rateRps + upper.rateRps) / 2);
      if (mid <= lower.rateRps || mid >= upper.rateRps) break; // the rate grid is finer than that
      const t = await attempt(mid, trialMs, 'bisect');
      if (t === undefined) return outOfBudget();
      if (passes(t, criterion)) lower = t;
      else upper = t;
      told(t);
    }
    if (lower.durationMs >= options.confirmMs) break;
    const confirmation = await attempt(lower.rateRps, options.confirmMs, 'confirm');
    if (confirmation === undefined) return outOfBudget();
    if (passes(confirmation, criterion)) {
      lower = confirmation;
      told(confirmation);
      break;
    }
    // The short trial's pass did not hold for the full length: that rate is now the upper end.
    upper = confirmation;
    trialMs = options.confirmMs;
    lower = highestPassBelow(confirmation.rateRps);
    told(confirmation);
    if (lower === undefined)
      return bound('below-range', `the lower end of the range (${from} items/s) fails a full-length trial`);
  }
  if (upper === undefined) return bound('above-range', `every rate up to --to ${options.toRps} items/s passed`);
  const width = (upper.rateRps - lower.rateRps) / upper.rateRps;
  return bound(
    'interval',
    width > options.precision
      ? `wider than the asked ${(options.precision * 100).toFixed(1)} %: the rate grid stops the bisection`
      : undefined,
  );

  function highestPassBelow(rateRps: number): Trial | undefined {
    return book.trials
      .filter((t) => t.rateRps < rateRps && passes(t, criterion))
      .sort((a, b) => b.rateRps - a.rateRps || b.durationMs - a.durationMs)[0];
  }
}

/** Why a trial failed, in one line. */
export function failureOf(t: TrialOutcome): string {
  if (!t.conclusive) return `inconclusive: ${t.undecided ?? 'verification could not decide'}`;
  const parts: string[] = [];
  if (t.lost > 0) parts.push(`${t.lost} of ${t.expected} items lost`);
  parts.push(...t.sloMisses);
  if (parts.length === 0) return 'passed';
  return parts.join('; ');
}
