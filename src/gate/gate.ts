import { basename } from 'node:path';
import { newRunId } from '../docker/labels.js';
import { ExitCode, HarnessError } from '../harness-error.js';

import { runHeader } from '../report/result.js';
import { runLoadStep } from '../step/load-step.js';
import { emptyStep, type StepIo, type StepPlan } from '../step/step-types.js';
import type { SoakOptions } from '../soak/soak-options.js';
import { planLoad } from '../soak/soak-plan.js';
import type { StartedStack } from '../stack/stack.js';
import { startStack, type ResolvedStack } from '../stack/stack-options.js';
import { CPU, trialMetrics } from './gate-metrics.js';
import { checkGatePlan, ENGINE_CHECKS, type GateChecks } from './gate-preflight.js';
import { lookDecides, lookFor, plannedLooks } from './gate-sequential.js';
import { GATE_STATS_DEFAULTS } from './gate-stats.js';
import { compareArms, conclude, countOf, outrightLoss, trialLoss } from './gate-verdict.js';
import { GATE_SCHEMA_VERSION, type Arm, type GateResult, type GateTrial } from './gate-result.js';

export { GATE_SCHEMA_VERSION, type Arm, type GateResult, type GateTrial, type TrialLoss } from './gate-result.js';
import type { GateOptions } from './gate-options.js';
import { runCapacity } from '../capacity/capacity.js';
import type { CapacityOptions } from '../capacity/capacity-options.js';

// bench/gate-sensitivity.ts imports these from here.
export { metricOf } from './gate-metrics.js';
export { matchesPattern } from './gate-verdict.js';

export interface GatePlan {
  baseline: ResolvedStack;
  candidate: ResolvedStack;
  /** The load every trial offers (rate, duration, signals, shape). */
  soak: SoakOptions;
  options: GateOptions;
  /** With `--at-knee-fraction`: the capacity search that finds the baseline's knee before the trials. */
  knee?: CapacityOptions;
}

/** What a gate calls to check, boot and load (tests pass fakes). */
export interface GateDeps {
  checks: GateChecks;
  startStack: typeof startStack;
  runLoadStep: typeof runLoadStep;
}

/** The real thing: the module proxy and the Docker engine. */
export const ENGINE_DEPS: GateDeps = { checks: ENGINE_CHECKS, startStack, runLoadStep };

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
 * A gate: both specs checked first, then trials of baseline and candidate interleaved (A B, B A, …), each
 * on a fresh stack, at the same load; loss is a hard gate, CPU per item, peak memory and canary p99 are
 * compared with Mann-Whitney and Holm at each planned look (gate-sequential.ts). Throws a configuration
 * error (exit 2) when a spec fails its checks, before any stack starts; otherwise returns a result always,
 * partial when interrupted or a stack would not start twice.
 */
export async function runGate(
  input: GatePlan,
  runId: string,
  io: StepIo,
  abort: AbortSignal,
  version: string,
  deps: GateDeps = ENGINE_DEPS,
): Promise<{ result: GateResult; error: unknown }> {
  io.progress('gate: checking both specs (images, collector configurations) before any stack starts');
  await checkGatePlan(input, deps.checks, io);
  let plan = input;
  const o = plan.options;
  const describe = (arm: Arm) => ({
    spec: plan[arm].specFile ?? '(flags)',
    topology: plan[arm].topology.name,
    title: plan[arm].topology.describe(plan[arm].options, plan[arm].choice),
  });
  const result: GateResult = {
    ...runHeader('gate', GATE_SCHEMA_VERSION, runId, version),
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
      looks: plannedLooks(o, GATE_STATS_DEFAULTS.confidence),
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
    if (noKnee === undefined)
      lossStop = await runRounds(
        result,
        (arm, n, round) => runTrial(plan, arm, n, round, io, abort, deps),
        (m) => io.progress(m),
      );
    result.partial = false;
  } catch (err) {
    error = err;
  }
  const both = Math.min(countOf(result.trials, 'baseline'), countOf(result.trials, 'candidate'));
  if (result.comparison.length === 0 && both > 0) compareArms(result, lookFor(result.plan.looks, both));
  conclude(result, lossStop, abort.aborted, error, noKnee);
  result.endedAt = new Date().toISOString();
  return { result, error };
}

/**
 * The rounds of a gate: each adds a baseline and a candidate trial (A B, then B A, …); after the round of
 * each planned look the metrics are compared at that look's levels, and the gate stops at the first look
 * that decides (`lookDecides`) or at the last. Returns why the gate stopped on loss, if it did: at the
 * first trial that lost what no baseline lost, whatever the round.
 */
export async function runRounds(
  result: GateResult,
  trial: (arm: Arm, n: number, round: number) => Promise<GateTrial>,
  progress: (message: string) => void,
): Promise<string | undefined> {
  const looks = result.plan.looks;
  const lastRound = looks[looks.length - 1]?.trialsPerArm ?? 0;
  for (let round = 1; round <= lastRound; round++) {
    const order: Arm[] = round % 2 === 1 ? ['baseline', 'candidate'] : ['candidate', 'baseline'];
    for (const arm of order) {
      result.trials.push(await trial(arm, result.trials.length + 1, round));
      const lossStop = outrightLoss(result.trials);
      if (lossStop !== undefined) return lossStop;
    }
    const look = looks.find((l) => l.trialsPerArm === round);
    if (look === undefined) continue;
    compareArms(result, look);
    if (lookDecides(result.comparison)) return undefined;
    const next = looks.find((l) => l.trialsPerArm > round);
    if (next !== undefined)
      progress(
        `gate: not conclusive after ${round} trials per arm: more pairs, the next look after ${next.trialsPerArm}`,
      );
  }
  return undefined;
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

async function runTrial(
  plan: GatePlan,
  arm: Arm,
  n: number,
  round: number,
  io: StepIo,
  abort: AbortSignal,
  deps: GateDeps,
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
      stack = await deps.startStack(spec, trialRunId, abort, { progress, images: io.images });
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
    await deps.runLoadStep(
      stack,
      stepPlanOf(plan, basename(spec.specFile ?? arm)),
      trialRunId,
      { progress, images: io.images },
      abort,
      step,
    );
    const figures = trialMetrics(step, plan.options.warmupMs, plan.soak.canaryTimeoutMs);
    const { loss, notes: unverified } = trialLoss(step);
    const notes = [...figures.notes, ...unverified];
    const metrics = figures.metrics;
    const refused = Object.values(step.load.signals).reduce(
      (s, l) => s + (l === undefined ? 0 : l.counts.refused + l.counts.failed),
      0,
    );
    const lostTotal = Object.values(loss).reduce((s, l) => s + (l?.lost ?? 0), 0);
    const notVerified = Object.entries(loss).filter(([, l]) => l?.status === 'inconclusive');
    progress(
      `done: ${lostTotal} lost${notVerified.length > 0 ? ` (${notVerified.map(([s]) => s).join(', ')} not verified)` : ''}, ${refused} refused; ${Object.entries(
        metrics,
      )
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
      censored: figures.censored,
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
