/**
 * How a gate judges: loss per trial and across the arms, the comparison of the metrics at a look, and the
 * verdict with its exit code.
 */

import { basename } from 'node:path';
import { HarnessError } from '../harness-error.js';
import type { Signal } from '../load/ledger.js';
import type { StepResult } from '../step/step-types.js';
import type { Arm, GateResult, GateStatus, GateTrial, TrialLoss } from './gate-result.js';

export type { GateStatus } from './gate-result.js';
import { metricOf } from './gate-metrics.js';
import { lookFor, type GateLook } from './gate-sequential.js';
import { compareMetrics, GATE_STATS_DEFAULTS, unmeasuredComparison, withCensoring } from './gate-stats.js';

/** Exit codes of a gate (README "Exit codes"). */
export const GATE_EXIT: Record<GateStatus, number> = {
  pass: 0,
  regression: 3,
  loss: 4,
  inconclusive: 6,
  interrupted: 130,
  error: 1,
};

/** Trials of `arm` so far. */
export function countOf(trials: readonly GateTrial[], arm: Arm): number {
  return trials.filter((t) => t.arm === arm).length;
}

/**
 * Each signal's loss in a step as the gate judges it. A verification that was not conclusive (a drain that
 * did not finish, a cross-check that disagreed, a gap in the ledger) decided nothing: its absent items are
 * kept as `undecided`, never as `lost`, and a note says why it was not verified.
 */
export function trialLoss(step: StepResult): { loss: GateTrial['loss']; notes: string[] } {
  const loss: GateTrial['loss'] = {};
  const notes: string[] = [];
  for (const [signal, v] of Object.entries(step.verification.signals) as [
    Signal,
    NonNullable<StepResult['verification']['signals'][Signal]>,
  ][]) {
    const absent = v.lost + v.rejectedAbsent;
    if (v.outcome.status === 'inconclusive') {
      loss[signal] = {
        expected: v.expected,
        lost: 0,
        status: 'inconclusive',
        reason: v.outcome.reason,
        undecided: absent,
        examples: [],
      };
      notes.push(`${signal}: not verified, so not counted as loss (${v.outcome.reason})`);
    } else
      loss[signal] = {
        expected: v.expected,
        lost: absent,
        status: v.outcome.status,
        examples: v.lostExamples.slice(0, 10),
      };
  }
  return { loss, notes };
}

/** Items decided lost: none when the verification was not conclusive, whatever an older result says. */
function decidedLoss(l: TrialLoss | undefined): number {
  return l === undefined || l.status === 'inconclusive' ? 0 : l.lost;
}

/**
 * A candidate trial that lost (or refused) items of a signal no baseline trial lost: the gate fails there.
 * Only decided loss counts, on either side: a trial that was not verified neither fails the candidate nor
 * excuses it.
 */
export function outrightLoss(trials: readonly GateTrial[]): string | undefined {
  const candidate = trials.filter((t) => t.arm === 'candidate');
  const baseline = trials.filter((t) => t.arm === 'baseline');
  for (const t of candidate) {
    for (const [signal, l] of Object.entries(t.loss)) {
      if (l === undefined || decidedLoss(l) === 0) continue;
      const baselineLost = baseline.some((b) => decidedLoss(b.loss[signal as Signal]) > 0);
      if (!baselineLost)
        return `the candidate lost ${l.lost} of ${l.expected} ${signal} items in trial ${t.n} where no baseline trial lost any${l.examples.length > 0 ? ` (e.g. ${l.examples.slice(0, 3).join('; ')})` : ''}`;
    }
    if (t.refused > 0 && baseline.every((b) => b.refused === 0))
      return `the candidate refused ${t.refused} items in trial ${t.n} where no baseline trial refused any`;
  }
  return undefined;
}

/** Whether a metric name matches a `--gate-on` pattern (`*` = any text, case-insensitive). */
export function matchesPattern(name: string, pattern: string): boolean {
  const re = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${re}$`, 'i').test(name);
}

/**
 * Compares the arms at `look`'s levels. The gated metrics measured in every trial are one Holm family;
 * those reported only are compared apart and decide nothing. A metric some trial did not measure is not
 * tested and is inconclusive (gated or not: it is shown either way). Censored values (a canary p99 at the
 * canary timeout) are ranked at the censoring point; a candidate censored in any trial cannot pass.
 */
export function compareArms(result: GateResult, look: GateLook): void {
  const o = result.plan.options;
  const design = o.design ?? 'unpaired';
  // Paired: only whole pairs, in pair order, so a[j] and b[j] ran at the same moment.
  const paired = pairsOf(result.trials);
  const a = design === 'paired' ? paired.map(([x]) => x) : result.trials.filter((t) => t.arm === 'baseline');
  const b = design === 'paired' ? paired.map(([, y]) => y) : result.trials.filter((t) => t.arm === 'candidate');
  const names = [...new Set(result.trials.flatMap((t) => Object.keys(t.metrics)))].sort();
  result.metrics = names.map(metricOf);
  result.look = look;
  if (a.length === 0 || b.length === 0) {
    result.comparison = [];
    return;
  }
  const values = (trials: GateTrial[], name: string) =>
    trials.flatMap((t) => (t.metrics[name] === undefined ? [] : [t.metrics[name]]));
  const censoredIn = (trials: GateTrial[], name: string) => trials.filter((t) => t.censored?.includes(name)).length;
  const missingIn = (name: string) =>
    [...a, ...b]
      .filter((t) => t.metrics[name] === undefined)
      .sort((x, y) => x.n - y.n)
      .map((t) => `${t.arm} trial ${t.n}`);
  const gatedNames = new Set(names.filter((name) => o.gateOn.some((p) => matchesPattern(name, p))));
  const isGated = (name: string) => gatedNames.has(name);
  const complete = names.filter((name) => missingIn(name).length === 0);
  const stats = {
    ...GATE_STATS_DEFAULTS,
    alpha: look.alpha,
    confidence: look.confidence,
    tolerance: o.tolerance,
    detect: o.detect,
    design,
  };
  const family = (which: string[], gated: boolean) =>
    which.length === 0
      ? []
      : compareMetrics(
          which.map(metricOf),
          which.map((name) => values(a, name)),
          which.map((name) => values(b, name)),
          stats,
        ).map((c) => {
          const out = withCensoring(c, { baseline: censoredIn(a, c.name), candidate: censoredIn(b, c.name) });
          return gated ? out : { ...out, gated: false };
        });
  const unmeasured = names
    .filter((name) => !complete.includes(name))
    .map((name) => {
      const c = unmeasuredComparison(metricOf(name), values(a, name), values(b, name), missingIn(name).join(', '));
      return isGated(name) ? c : { ...c, gated: false };
    });
  result.comparison = [
    ...family(complete.filter(isGated), true),
    ...family(
      complete.filter((name) => !isGated(name)),
      false,
    ),
    ...unmeasured,
  ].sort((x, y) => x.name.localeCompare(y.name));
}

/** The paired design's whole pairs, in pair order: [baseline, candidate] of each pair both arms finished. */
export function pairsOf(trials: readonly GateTrial[]): [GateTrial, GateTrial][] {
  const pairs = [...new Set(trials.flatMap((t) => (t.pair === undefined ? [] : [t.pair])))].sort((x, y) => x - y);
  return pairs.flatMap((p) => {
    const x = trials.find((t) => t.pair === p && t.arm === 'baseline');
    const y = trials.find((t) => t.pair === p && t.arm === 'candidate');
    return x === undefined || y === undefined ? [] : [[x, y] as [GateTrial, GateTrial]];
  });
}

/** The verdict of finished trials (what a gate does after its last trial), at the look they reached. */
export function judgeTrials(result: GateResult): void {
  const both = Math.min(countOf(result.trials, 'baseline'), countOf(result.trials, 'candidate'));
  compareArms(result, lookFor(result.plan.looks, both));
  conclude(result, outrightLoss(result.trials), false, undefined);
}

/** `--gate-on` patterns that matched no metric the trials measured. */
function unmatchedPatterns(result: GateResult): string[] {
  const names = result.metrics.map((m) => m.name);
  return result.plan.options.gateOn.filter((p) => !names.some((n) => matchesPattern(n, p)));
}

/**
 * The verdict, first reason first: interrupted, error, no knee; decided candidate loss (exit 4); a gated
 * regression (exit 3, with any trial not verified named after it); then inconclusive (exit 6) when the
 * baseline itself lost data, a trial was not verified, nothing (or nothing --gate-on picked) was measured,
 * or a gated metric is undecided; else pass.
 */
export function conclude(
  result: GateResult,
  lossStop: string | undefined,
  interrupted: boolean,
  error: unknown,
  noKnee?: string,
): void {
  const set = (status: GateStatus, reasons: string[]) => {
    result.verdict = { status, exitCode: GATE_EXIT[status], reasons };
  };
  const gating = result.comparison.filter((c) => c.gated !== false);
  const regressions = gating.filter((c) => c.verdict === 'regression');
  const undecided = gating.filter((c) => c.verdict === 'inconclusive');
  const unmatched = result.comparison.length === 0 ? [] : unmatchedPatterns(result);
  const baselineLoss = result.trials
    .filter((t) => t.arm === 'baseline')
    .flatMap((t) =>
      Object.entries(t.loss)
        .filter(([, l]) => decidedLoss(l) > 0)
        .map(([s]) => `${s} in trial ${t.n}`),
    );
  const unverified = result.trials.flatMap((t) =>
    Object.entries(t.loss)
      .filter(([, l]) => l?.status === 'inconclusive')
      .map(([s, l]) => ({ what: `${t.arm} trial ${t.n} ${s}`, why: l?.reason ?? 'no reason recorded' })),
  );
  if (interrupted) set('interrupted', ['interrupted: the trials so far are reported']);
  else if (error !== undefined) set('error', [error instanceof Error ? error.message : JSON.stringify(error)]);
  else if (noKnee !== undefined)
    set('inconclusive', [
      `the baseline's zero-loss knee was not found, so no load could be set from it (${noKnee}); give --rate`,
    ]);
  else if (lossStop !== undefined) set('loss', [lossStop]);
  else if (regressions.length > 0)
    // A regression stands without the loss being known everywhere; the trials not verified are named after it.
    set('regression', [
      ...regressions.map((r) => `${r.name}: ${r.why}`),
      ...unverified.map((u) => `${u.what} not verified (no loss decided there): ${u.why}`),
    ]);
  else if (baselineLoss.length > 0)
    set('inconclusive', [
      `the baseline itself lost data (${baselineLoss.join(', ')}): loss cannot gate at this load; lower --rate`,
    ]);
  else if (unverified.length > 0)
    set('inconclusive', [
      `not verified (${unverified.map((u) => u.what).join(', ')}): whether data was lost there is not known, and none of it counts as lost`,
      ...unverified.map((u) => `${u.what} not verified: ${u.why}`),
    ]);
  else if (result.comparison.length === 0) set('inconclusive', ['no metric was measured']);
  else if (unmatched.length > 0)
    set('inconclusive', [
      `--gate-on ${unmatched.map((p) => `'${p}'`).join(', ')} matched no metric measured (${result.metrics.map((m) => m.name).join(', ')})`,
    ]);
  else if (gating.length === 0) set('inconclusive', ['no metric measured matches --gate-on']);
  else if (undecided.length > 0)
    set(
      'inconclusive',
      undecided.map((r) => `${r.name}: ${r.why}`),
    );
  else set('pass', []);
  if (error instanceof HarnessError && result.verdict.status === 'error') result.verdict.exitCode = error.exitCode;
  result.headline = headlineOf(result);
}

export function headlineOf(r: GateResult): string {
  const a = countOf(r.trials, 'baseline');
  const b = countOf(r.trials, 'candidate');
  const what = `${basename(r.plan.candidate.spec)} vs ${basename(r.plan.baseline.spec)}, ${a}+${b} trials at ${r.plan.rateRps} items/s`;
  switch (r.verdict.status) {
    case 'pass':
      return `PASS: ${what} — no loss, no regression beyond ${(r.plan.options.tolerance * 100).toFixed(0)} %`;
    case 'regression':
      return `REGRESSION: ${what} — ${r.comparison
        .filter((c) => c.gated !== false && c.verdict === 'regression')
        .map(
          (c) =>
            `${c.name} ${c.change === undefined ? '' : `${c.change >= 0 ? '+' : ''}${(c.change * 100).toFixed(1)} %`}`,
        )
        .join(', ')}`;
    case 'loss':
      return `FAIL (loss): ${what} — ${r.verdict.reasons[0] ?? ''}`;
    case 'inconclusive':
      return `INCONCLUSIVE: ${what} — ${r.verdict.reasons[0] ?? ''}`;
    case 'interrupted':
      return `INTERRUPTED: ${what}`;
    default:
      return `ERROR: ${what} — ${r.verdict.reasons[0] ?? ''}`;
  }
}
