import { basename } from 'node:path';
import { newRunId } from '../docker/labels.js';
import { ExitCode, HarnessError } from '../harness-error.js';
import type { Signal } from '../load/ledger.js';
import type { RunHeader } from '../report/result.js';
import { emptyStep, runLoadStep, type StepIo, type StepPlan, type StepResult } from '../soak/load-step.js';
import type { SoakOptions } from '../soak/soak-options.js';
import { planLoad } from '../soak/soak-plan.js';
import type { StackDescription, StartedStack } from '../stack/stack.js';
import { startStack, type ResolvedStack } from '../stack/stack-options.js';
import { compareMetrics, GATE_STATS_DEFAULTS, type GateMetric, type MetricComparison } from './gate-stats.js';
import type { GateOptions } from './gate-options.js';
import { runCapacity } from '../capacity/capacity.js';
import type { CapacityOptions } from '../capacity/capacity-options.js';

export const GATE_SCHEMA_VERSION = 1;

export type Arm = 'baseline' | 'candidate';

export interface GatePlan {
  baseline: ResolvedStack;
  candidate: ResolvedStack;
  /** The load every trial offers (rate, duration, signals, shape). */
  soak: SoakOptions;
  options: GateOptions;
  /** With `--at-knee-fraction`: the capacity search that finds the baseline's knee before the trials. */
  knee?: CapacityOptions;
}

/** One trial: a fresh stack of one arm, one load step verified exactly, and the figures compared. */
export interface GateTrial {
  n: number;
  arm: Arm;
  runId: string;
  elapsedMs: number;
  /** Per signal: acknowledged items that must arrive, those absent (exact), and some of them named. */
  loss: Partial<Record<Signal, { expected: number; lost: number; status: string; examples: string[] }>>;
  /** Items the pipeline refused or failed during the load. */
  refused: number;
  /** Every metric of the trial by name (see GateMetric). */
  metrics: Record<string, number>;
  /** Why a figure is missing or the trial's verification was not conclusive. */
  notes: string[];
  stack: StackDescription;
}

export type GateStatus = 'pass' | 'regression' | 'loss' | 'inconclusive' | 'interrupted' | 'error';

export interface GateResult extends RunHeader<'gate', typeof GATE_SCHEMA_VERSION> {
  plan: {
    baseline: { spec: string; topology: string; title: string };
    candidate: { spec: string; topology: string; title: string };
    rateRps: number;
    durationMs: number;
    signals: string;
    options: Omit<GateOptions, 'baseline' | 'candidate'>;
    /** With `--at-knee-fraction`: the baseline's knee the rate was taken from. */
    knee?: {
      fraction: number;
      runId: string;
      /** The capacity search's own one-line result. */
      headline: string;
      ndrLowerRps: number | undefined;
      ndrUpperRps: number | undefined;
      trials: number;
      elapsedMs: number;
    };
  };
  /** The result in one line. */
  headline: string;
  trials: GateTrial[];
  metrics: GateMetric[];
  comparison: MetricComparison[];
  verdict: { status: GateStatus; exitCode: number; reasons: string[] };
}

/** Exit codes of a gate (README "Exit codes"). */
export const GATE_EXIT: Record<GateStatus, number> = {
  pass: 0,
  regression: 3,
  loss: 4,
  inconclusive: 6,
  interrupted: 130,
  error: 1,
};

const CPU = 'CPU-s per 1k items';
const MEMORY = 'peak RSS';
const P99 = 'canary p99';

/**
 * A trial's figures per component after the warm-up — CPU-seconds per 1,000 acknowledged items and peak
 * anonymous memory (RSS) — and each signal's canary write→queryable p99. CPU comes from the container's
 * cumulative CPU counter, read at the first sample after the warm-up and the last within the load (the
 * exact CPU time between the engine's two readings). RSS leaves out page cache, which the kernel charges
 * to whichever container first read a file, not to each that uses it. Where
 * the engine gives no counters (or one went back: a restart), the sampled CPU % and working set are used,
 * and said.
 */
export function trialMetrics(step: StepResult, warmupMs: number): { metrics: Record<string, number>; notes: string[] } {
  const metrics: Record<string, number> = {};
  const notes: string[] = [];
  const loadMs = step.load.elapsedMs;
  const acked = Object.values(step.load.signals).reduce((n, l) => n + (l?.counts.acknowledged ?? 0), 0);
  const ackedPerSecond = loadMs > 0 ? acked / (loadMs / 1000) : 0;
  const points = (step.resources?.timeline ?? []).filter((p) => p.tMs >= warmupMs && p.tMs <= loadMs);
  if (points.length === 0) notes.push('no resource sample after the warm-up: CPU and memory not measured');
  const components = [...new Set(points.flatMap((p) => Object.keys(p.components)))].sort();
  for (const c of components) {
    const mine = points.flatMap((p) => (p.components[c] === undefined ? [] : [p.components[c]]));
    if (mine.length === 0) continue;
    const counted = points.flatMap((p) => (p.counters?.[c] === undefined ? [] : [p.counters[c]]));
    const first = counted[0];
    const last = counted[counted.length - 1];
    if (ackedPerSecond > 0) {
      const used = first && last ? last.cpuSeconds - first.cpuSeconds : -1;
      const spanS = first && last ? (last.atMs - first.atMs) / 1000 : 0;
      if (used >= 0 && spanS >= 1) {
        metrics[`${c} ${CPU}`] = used / spanS / (ackedPerSecond / 1000);
      } else {
        const cpuPct = mine.reduce((s, [cpu]) => s + cpu, 0) / mine.length;
        metrics[`${c} ${CPU}`] = cpuPct / 100 / (ackedPerSecond / 1000);
        notes.push(`${c}: CPU from ${mine.length} sampled readings (no cumulative CPU counter across the load)`);
      }
    }
    const rss = counted.flatMap((k) => (k.rssMiB === undefined ? [] : [k.rssMiB]));
    if (rss.length > 0) metrics[`${c} ${MEMORY}`] = Math.max(...rss);
    else {
      metrics[`${c} ${MEMORY}`] = Math.max(...mine.map(([, mib]) => mib));
      notes.push(`${c}: memory is the working set (page cache included): the engine gave no RSS`);
    }
  }
  for (const [signal, canary] of Object.entries(step.latency)) {
    if (canary !== undefined && canary.found > 0) metrics[`${signal} ${P99}`] = canary.latencyMs.p99;
    else notes.push(`${signal}: no canary became queryable: its p99 is not measured`);
  }
  return { metrics, notes };
}

/** What each metric measures and which way is better. */
export function metricOf(name: string): GateMetric {
  if (name.endsWith(CPU)) return { name, unit: 'CPU-s', better: 'smaller' };
  if (name.endsWith(MEMORY)) return { name, unit: 'MiB', better: 'smaller' };
  return { name, unit: 'ms', better: 'smaller' };
}

function stepPlanOf(plan: GatePlan, label: string): StepPlan {
  return {
    load: planLoad(plan.soak),
    faults: [],
    drainTimeoutMs: plan.soak.drainTimeoutMs,
    verifySample: undefined,
    canaryIntervalMs: plan.soak.canaryIntervalMs,
    canaryTimeoutMs: plan.soak.canaryTimeoutMs,
    collectorLabel: label,
    resourceIntervalMs: 2_000,
  };
}

/**
 * A gate: trials of baseline and candidate interleaved (A B, B A, …), each on a fresh stack, at the same
 * load; loss is a hard gate, CPU per item, peak memory and canary p99 are compared with Mann-Whitney and
 * Holm. Returns a result always, partial when interrupted or a stack would not start twice.
 */
export async function runGate(
  input: GatePlan,
  runId: string,
  io: StepIo,
  abort: AbortSignal,
  version: string,
): Promise<{ result: GateResult; error: unknown }> {
  let plan = input;
  const o = plan.options;
  const startedAt = new Date().toISOString();
  const describe = (arm: Arm) => ({
    spec: plan[arm].specFile ?? '(flags)',
    topology: plan[arm].topology.name,
    title: plan[arm].topology.describe(plan[arm].options, plan[arm].choice),
  });
  const result: GateResult = {
    schemaVersion: GATE_SCHEMA_VERSION,
    tool: { name: 'otel-harness', version },
    command: 'gate',
    runId,
    partial: true,
    startedAt,
    endedAt: startedAt,
    plan: {
      baseline: describe('baseline'),
      candidate: describe('candidate'),
      rateRps: planLoad(plan.soak).signals.reduce((n, s) => n + s.rateRps, 0),
      durationMs: plan.soak.durationMs,
      signals: plan.soak.signals,
      options: {
        trials: o.trials,
        auto: o.auto,
        maxTrials: o.maxTrials,
        warmupMs: o.warmupMs,
        tolerance: o.tolerance,
        detect: o.detect,
        alpha: o.alpha,
        atKneeFraction: o.atKneeFraction,
        gateOn: o.gateOn,
      },
    },
    headline: 'the gate did not finish',
    trials: [],
    metrics: [],
    comparison: [],
    verdict: { status: 'error', exitCode: 1, reasons: ['the gate did not finish'] },
  };
  let error: unknown;
  let lossStop: string | undefined;
  let noKnee: string | undefined;
  try {
    if (o.atKneeFraction !== undefined) {
      const rate = await kneeRate(plan, o.atKneeFraction, result, io, abort, version);
      if (rate === undefined) noKnee = result.plan.knee?.headline ?? 'no knee';
      else {
        plan = { ...plan, soak: { ...plan.soak, rateRps: rate } };
        result.plan.rateRps = planLoad(plan.soak).signals.reduce((n, s) => n + s.rateRps, 0);
      }
    }
    for (let round = 1; noKnee === undefined && round <= o.maxTrials; round++) {
      const order: Arm[] = round % 2 === 1 ? ['baseline', 'candidate'] : ['candidate', 'baseline'];
      for (const arm of order) {
        const trial = await runTrial(plan, arm, result.trials.length + 1, round, io, abort);
        result.trials.push(trial);
        lossStop = outrightLoss(result.trials);
        if (lossStop !== undefined) break;
      }
      if (lossStop !== undefined) break;
      if (round < o.trials) continue;
      compare(result, o);
      const undecided = result.comparison.some((c) => c.gated !== false && c.verdict === 'inconclusive');
      if (!o.auto || !undecided) break;
      if (round < o.maxTrials) io.progress(`gate: not conclusive after ${round} trials per arm: one more pair`);
    }
    result.partial = false;
  } catch (err) {
    error = err;
  }
  if (
    result.comparison.length === 0 &&
    countOf(result.trials, 'baseline') > 0 &&
    countOf(result.trials, 'candidate') > 0
  )
    compare(result, o);
  conclude(result, lossStop, abort.aborted, error, noKnee);
  result.endedAt = new Date().toISOString();
  return { result, error };
}

/**
 * `--at-knee-fraction`: a capacity search on the baseline (its own fresh stack), then the rate every trial
 * offers — the fraction of the knee's lower end (a rate that passed a full-length trial with nothing lost).
 * Undefined when the search found no lower end (the baseline lost data at the lowest rate, or it stopped).
 */
async function kneeRate(
  plan: GatePlan,
  fraction: number,
  result: GateResult,
  io: StepIo,
  abort: AbortSignal,
  version: string,
): Promise<number | undefined> {
  if (plan.knee === undefined) throw new Error('gate: --at-knee-fraction without the search settings');
  const runId = newRunId();
  const started = Date.now();
  io.progress(
    `gate: searching the baseline's zero-loss knee first (capacity ${runId}, ${plan.knee.fromRps}–${plan.knee.toRps} items/s, precision ${(plan.knee.precision * 100).toFixed(0)} %)`,
  );
  const { result: search, error } = await runCapacity(
    { options: plan.knee, soak: plan.soak, stack: plan.baseline },
    runId,
    { progress: (m) => io.progress(`[knee] ${m}`), images: io.images },
    abort,
    version,
  );
  const lower = search.ndr?.lowerRps;
  result.plan.knee = {
    fraction,
    runId,
    headline: search.headline,
    ndrLowerRps: lower,
    ndrUpperRps: search.ndr?.upperRps,
    trials: search.trials.length,
    elapsedMs: Date.now() - started,
  };
  if (error !== undefined) throw error instanceof Error ? error : new Error(JSON.stringify(error));
  abort.throwIfAborted();
  if (lower === undefined || search.ndr?.kind === 'below-range' || search.ndr?.kind === 'unfinished') return undefined;
  const rate = Math.max(1, Math.floor(lower * fraction));
  io.progress(`gate: knee ${search.headline}; every trial offers ${fraction} × ${lower} = ${rate} items/s`);
  return rate;
}

function countOf(trials: readonly GateTrial[], arm: Arm): number {
  return trials.filter((t) => t.arm === arm).length;
}

async function runTrial(
  plan: GatePlan,
  arm: Arm,
  n: number,
  round: number,
  io: StepIo,
  abort: AbortSignal,
): Promise<GateTrial> {
  const spec = plan[arm];
  const trialRunId = newRunId();
  const label = `${arm} ${round}`;
  const progress = (m: string) => io.progress(`[${label}] ${m}`);
  const started = Date.now();
  let stack: StartedStack | undefined;
  for (let attempt = 1; stack === undefined; attempt++) {
    try {
      progress(`booting ${spec.topology.describe(spec.options, spec.choice)} (run ${trialRunId})`);
      stack = await startStack(spec, trialRunId, abort, { progress, images: io.images });
    } catch (err) {
      abort.throwIfAborted();
      // A configuration the topology refuses is not retried: it will not start the second time either.
      if (err instanceof HarnessError && err.exitCode === ExitCode.usage) throw err;
      if (attempt >= 2) throw trialStartError(label, err);
      progress(`the stack did not start (${err instanceof Error ? err.message : String(err)}): retrying once`);
    }
  }
  try {
    const step = emptyStep();
    await runLoadStep(
      stack,
      stepPlanOf(plan, basename(spec.specFile ?? arm)),
      trialRunId,
      { progress, images: io.images },
      abort,
      step,
    );
    const { metrics, notes } = trialMetrics(step, plan.options.warmupMs);
    const loss: GateTrial['loss'] = {};
    for (const [signal, v] of Object.entries(step.verification.signals) as [
      Signal,
      NonNullable<StepResult['verification']['signals'][Signal]>,
    ][]) {
      loss[signal] = {
        expected: v.expected,
        lost: v.lost + v.rejectedAbsent,
        status: v.outcome.status,
        examples: v.lostExamples.slice(0, 10),
      };
      if (v.outcome.status === 'inconclusive') notes.push(`${signal}: verification inconclusive (${v.outcome.reason})`);
    }
    const refused = Object.values(step.load.signals).reduce(
      (s, l) => s + (l === undefined ? 0 : l.counts.refused + l.counts.failed),
      0,
    );
    const lostTotal = Object.values(loss).reduce((s, l) => s + (l?.lost ?? 0), 0);
    progress(
      `done: ${lostTotal} lost, ${refused} refused; ${Object.entries(metrics)
        .filter(([k]) => k.includes(CPU))
        .map(([k, v]) => `${k.replace(` ${CPU}`, '')} ${v.toFixed(3)} CPU-s/1k`)
        .join(', ')}`,
    );
    return {
      n,
      arm,
      runId: trialRunId,
      elapsedMs: Date.now() - started,
      loss,
      refused,
      metrics,
      notes,
      stack: stack.describe(),
    };
  } finally {
    await stack.stop();
  }
}

/** A trial whose stack would not start twice stops the gate with exit 5 (the trials done are kept). */
export function trialStartError(label: string, err: unknown): HarnessError {
  const why = err instanceof Error ? err.message : String(err);
  return new HarnessError(`gate: the ${label} trial's stack did not start twice: ${why}`, {
    code: err instanceof HarnessError ? err.code : 'TRIAL_START',
    exitCode: ExitCode.stackFailed,
    ...(err instanceof HarnessError && err.details !== undefined ? { details: err.details } : {}),
    hint: 'the trials done are in the report; fix the stack (`up` with the same spec shows why) and run the gate again',
    cause: err,
  });
}

/** A candidate trial that lost (or refused) items of a signal no baseline trial lost: the gate fails there. */
export function outrightLoss(trials: readonly GateTrial[]): string | undefined {
  const candidate = trials.filter((t) => t.arm === 'candidate');
  const baseline = trials.filter((t) => t.arm === 'baseline');
  for (const t of candidate) {
    for (const [signal, l] of Object.entries(t.loss)) {
      if (l === undefined || l.lost === 0) continue;
      const baselineLost = baseline.some((b) => (b.loss[signal as Signal]?.lost ?? 0) > 0);
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

function compare(result: GateResult, o: GateResult['plan']['options']): void {
  const measured = (arm: Arm) => result.trials.filter((t) => t.arm === arm);
  const a = measured('baseline');
  const b = measured('candidate');
  // A metric is compared only when every trial of both arms has it.
  const names = [...new Set(result.trials.flatMap((t) => Object.keys(t.metrics)))]
    .filter((name) => [...a, ...b].every((t) => t.metrics[name] !== undefined))
    .sort();
  result.metrics = names.map(metricOf);
  if (a.length === 0 || b.length === 0) {
    result.comparison = [];
    return;
  }
  // The gated metrics are one Holm family; those reported only are compared apart and decide nothing.
  const gated = names.filter((name) => o.gateOn.some((p) => matchesPattern(name, p)));
  const reported = names.filter((name) => !gated.includes(name));
  const family = (which: string[], isGated: boolean) =>
    which.length === 0
      ? []
      : compareMetrics(
          which.map(metricOf),
          which.map((name) => a.map((t) => t.metrics[name]!)),
          which.map((name) => b.map((t) => t.metrics[name]!)),
          { ...GATE_STATS_DEFAULTS, alpha: o.alpha, tolerance: o.tolerance, detect: o.detect },
        ).map((c) => (isGated ? c : { ...c, gated: false }));
  result.comparison = [...family(gated, true), ...family(reported, false)].sort((x, y) => x.name.localeCompare(y.name));
}

/** The verdict of finished trials (what a gate does after its last trial). */
export function judgeTrials(result: GateResult): void {
  compare(result, result.plan.options);
  conclude(result, outrightLoss(result.trials), false, undefined);
}

/** `--gate-on` patterns that matched no metric the trials measured. */
function unmatchedPatterns(result: GateResult): string[] {
  const names = result.metrics.map((m) => m.name);
  return result.plan.options.gateOn.filter((p) => !names.some((n) => matchesPattern(n, p)));
}

function conclude(
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
        .filter(([, l]) => (l?.lost ?? 0) > 0)
        .map(([s]) => `${s} in trial ${t.n}`),
    );
  const unverified = result.trials.flatMap((t) =>
    Object.entries(t.loss)
      .filter(([, l]) => l?.status === 'inconclusive')
      .map(([s]) => `${t.arm} trial ${t.n}: ${s}`),
  );
  if (interrupted) set('interrupted', ['interrupted: the trials so far are reported']);
  else if (error !== undefined) set('error', [error instanceof Error ? error.message : JSON.stringify(error)]);
  else if (noKnee !== undefined)
    set('inconclusive', [
      `the baseline's zero-loss knee was not found, so no load could be set from it (${noKnee}); give --rate`,
    ]);
  else if (lossStop !== undefined) set('loss', [lossStop]);
  else if (regressions.length > 0)
    set(
      'regression',
      regressions.map((r) => `${r.name}: ${r.why}`),
    );
  else if (baselineLoss.length > 0)
    set('inconclusive', [
      `the baseline itself lost data (${baselineLoss.join(', ')}): loss cannot gate at this load; lower --rate`,
    ]);
  else if (unverified.length > 0)
    set('inconclusive', [`verification was not conclusive (${unverified.join('; ')}): loss is not known`]);
  else if (result.comparison.length === 0) set('inconclusive', ['no metric was measured in every trial of both arms']);
  else if (unmatched.length > 0)
    set('inconclusive', [
      `--gate-on ${unmatched.map((p) => `'${p}'`).join(', ')} matched no metric measured (${result.metrics.map((m) => m.name).join(', ')})`,
    ]);
  else if (gating.length === 0) set('inconclusive', ['no metric measured in every trial matches --gate-on']);
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
