import { newRunId } from '../docker/labels.js';
import { runHeader } from '../report/result.js';
import { runLoadStep } from '../step/load-step.js';
import type { StepIo } from '../step/step-types.js';
import { planLoad } from '../soak/soak-plan.js';
import { startStack } from '../stack/stack-options.js';
import { checkGatePlan, ENGINE_CHECKS } from './gate-preflight.js';
import type { GateDeps, GatePlan } from './gate-plan.js';
import { lookDecides, lookFor, plannedLooks } from './gate-sequential.js';
import { GATE_STATS_DEFAULTS } from './gate-stats.js';
import { ArmStacks, runTrial, type TrialSlot } from './gate-trials.js';
import { compareArms, conclude, countOf, outrightLoss } from './gate-verdict.js';
import { GATE_SCHEMA_VERSION, type Arm, type GateResult, type GateTrial } from './gate-result.js';

export { GATE_SCHEMA_VERSION, type Arm, type GateResult, type GateTrial, type TrialLoss } from './gate-result.js';
import { runCapacity } from '../capacity/capacity.js';

// bench/gate-sensitivity.ts imports these from here.
export { metricOf } from './gate-metrics.js';
export { matchesPattern } from './gate-verdict.js';
export { trialStartError } from './gate-trials.js';
export type { GateDeps, GatePlan } from './gate-plan.js';

/** The real thing: the module proxy and the Docker engine. */
export const ENGINE_DEPS: GateDeps = { checks: ENGINE_CHECKS, startStack, runLoadStep };

/**
 * A gate: both specs checked first, then rounds of one baseline and one candidate trial at the same load —
 * paired (both arms' stacks up, both loads at the same moment, compared pair by pair with the signed-rank
 * test on log ratios) or unpaired (A B, B A, …, compared with Mann-Whitney), each arm's stack kept for
 * `--trials-per-boot` rounds; loss is a hard gate, CPU per item, peak memory and canary p99 are compared,
 * with Holm, at each planned look (gate-sequential.ts). Throws a configuration
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
        designAsked: o.designAsked,
        design: o.design,
        designWhy: o.designWhy,
        trialsPerBoot: o.trialsPerBoot,
      },
      looks: plannedLooks(o, GATE_STATS_DEFAULTS.confidence, o.design),
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
    if (noKnee === undefined) {
      const stacks = new ArmStacks(plan, io, abort, deps, o.trialsPerBoot);
      const trial = (slot: TrialSlot) => runTrial(plan, stacks, slot, io, abort, deps);
      try {
        lossStop =
          o.design === 'paired'
            ? await runPairedRounds(result, stacks, trial, (m) => io.progress(m))
            : await runRounds(
                result,
                (arm, n, round) => trial({ n, arm, round }),
                (m) => io.progress(m),
              );
      } finally {
        await stacks.stopAll();
      }
    }
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
  const lastRound = lastRoundOf(result);
  for (let round = 1; round <= lastRound; round++) {
    const order: Arm[] = round % 2 === 1 ? ['baseline', 'candidate'] : ['candidate', 'baseline'];
    for (const arm of order) {
      result.trials.push(await trial(arm, result.trials.length + 1, round));
      const lossStop = outrightLoss(result.trials);
      if (lossStop !== undefined) return lossStop;
    }
    if (lookAfter(result, round, progress)) return undefined;
  }
  return undefined;
}

/**
 * The rounds of a paired gate: each boots the arms' stacks it needs (one after the other, the first arm
 * alternating), then runs a baseline and a candidate trial at the same moment — the loads started in
 * alternating order — and adds them as pair `round` (the baseline first in the list). Loss and the looks
 * are judged as in `runRounds`, after each pair.
 */
export async function runPairedRounds(
  result: GateResult,
  stacks: Pick<ArmStacks, 'acquire'>,
  trial: (slot: TrialSlot) => Promise<GateTrial>,
  progress: (message: string) => void,
): Promise<string | undefined> {
  const lastRound = lastRoundOf(result);
  for (let round = 1; round <= lastRound; round++) {
    const order: Arm[] = round % 2 === 1 ? ['baseline', 'candidate'] : ['candidate', 'baseline'];
    const n = { baseline: 0, candidate: 0 };
    n.baseline = result.trials.length + 1;
    n.candidate = result.trials.length + 2;
    for (const arm of order) await stacks.acquire(arm, newRunId(), `${arm} ${round}`);
    const settled = await Promise.allSettled(order.map((arm) => trial({ n: n[arm], arm, round, pair: round })));
    // A trial that finished is kept (and written) even when the other arm's failed: its loss is on record.
    const trials = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : [])).sort((a, b) => a.n - b.n);
    result.trials.push(...trials);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const lossStop = outrightLoss(result.trials);
    if (lossStop !== undefined) return lossStop;
    if (lookAfter(result, round, progress)) return undefined;
  }
  return undefined;
}

function lastRoundOf(result: GateResult): number {
  const looks = result.plan.looks;
  return looks[looks.length - 1]?.trialsPerArm ?? 0;
}

/** After `round`: compares the arms at the look planned there, if any; true when that look decides. */
function lookAfter(result: GateResult, round: number, progress: (message: string) => void): boolean {
  const looks = result.plan.looks;
  const look = looks.find((l) => l.trialsPerArm === round);
  if (look === undefined) return false;
  compareArms(result, look);
  if (lookDecides(result.comparison)) return true;
  const next = looks.find((l) => l.trialsPerArm > round);
  if (next !== undefined)
    progress(
      `gate: not conclusive after ${round} ${result.plan.options.design === 'paired' ? 'pairs' : 'trials per arm'}: more ${result.plan.options.design === 'paired' ? 'pairs' : 'rounds'}, the next look after ${next.trialsPerArm}`,
    );
  return false;
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
