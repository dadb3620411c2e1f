/**
 * A gate's trials: the arms' stacks (booted, kept for `--trials-per-boot` rounds, then removed) and one
 * trial — a load step with its own run id on an arm's stack, verified exactly, its figures read.
 */
import { basename } from 'node:path';
import { newRunId } from '../docker/labels.js';
import { ExitCode, HarnessError } from '../harness-error.js';
import { planLoad } from '../soak/soak-plan.js';
import type { StartedStack } from '../stack/stack.js';
import { emptyStep, type StepIo, type StepPlan } from '../step/step-types.js';
import type { GateDeps, GatePlan } from './gate-plan.js';
import { CPU, trialMetrics } from './gate-metrics.js';
import type { Arm, GateTrial } from './gate-result.js';
import { trialLoss } from './gate-verdict.js';

/** An arm's stack and how many rounds it has served. */
interface Booted {
  stack: StartedStack;
  /** The run id its containers are labelled with (that of the first trial on it). */
  runId: string;
  /** 1 for the arm's first boot, 2 for its second, … */
  boot: number;
  rounds: number;
}

/**
 * The arms' stacks. `acquire` boots an arm's stack when it has none (retrying once; a configuration the
 * topology refuses is not retried) and `release` removes it once it has served `perBoot` rounds, so with
 * one round per boot every trial runs on a fresh stack, as before.
 */
export class ArmStacks {
  private readonly booted: Partial<Record<Arm, Booted>> = {};
  private readonly boots: Record<Arm, number> = { baseline: 0, candidate: 0 };

  constructor(
    private readonly plan: GatePlan,
    private readonly io: StepIo,
    private readonly abort: AbortSignal,
    private readonly deps: GateDeps,
    private readonly perBoot: number,
  ) {}

  async acquire(arm: Arm, runId: string, label: string): Promise<Booted> {
    const held = this.booted[arm];
    if (held !== undefined) return held;
    const spec = this.plan[arm];
    const progress = (m: string) => this.io.progress(`[${label}] ${m}`);
    for (let attempt = 1; ; attempt++) {
      try {
        progress(`booting ${spec.topology.describe(spec.options, spec.choice)} (run ${runId})`);
        const stack = await this.deps.startStack(spec, runId, this.abort, { progress, images: this.io.images });
        const booted: Booted = { stack, runId, boot: ++this.boots[arm], rounds: 0 };
        this.booted[arm] = booted;
        return booted;
      } catch (err) {
        this.abort.throwIfAborted();
        // A configuration the topology refuses is not retried: it will not start the second time either.
        if (err instanceof HarnessError && err.exitCode === ExitCode.usage) throw err;
        if (attempt >= 2) throw trialStartError(label, err);
        progress(`the stack did not start (${err instanceof Error ? err.message : String(err)}): retrying once`);
      }
    }
  }

  /** After a round on the arm's stack: removed once it has served `perBoot` rounds (or when `now`). */
  async release(arm: Arm, now = false): Promise<void> {
    const held = this.booted[arm];
    if (held === undefined) return;
    held.rounds++;
    if (!now && held.rounds < this.perBoot) return;
    delete this.booted[arm];
    await held.stack.stop();
  }

  /** Removes every stack still up (the gate's end, or an error). */
  async stopAll(): Promise<void> {
    const held = Object.values(this.booted);
    for (const arm of Object.keys(this.booted) as Arm[]) delete this.booted[arm];
    const stopped = await Promise.allSettled(held.map((b) => b.stack.stop()));
    const failed = stopped.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }
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

/** Where a trial runs: its number, arm and round, and (paired) the pair it belongs to. */
export interface TrialSlot {
  n: number;
  arm: Arm;
  round: number;
  pair?: number;
}

/**
 * One trial: the arm's stack (booted if it has none), one load step under a run id of its own, verified
 * exactly, then its loss and figures; the stack is released (removed after its last round) whatever happens.
 */
export async function runTrial(
  plan: GatePlan,
  stacks: ArmStacks,
  slot: TrialSlot,
  io: StepIo,
  abort: AbortSignal,
  deps: GateDeps,
): Promise<GateTrial> {
  const { arm, round } = slot;
  const spec = plan[arm];
  const trialRunId = newRunId();
  const label = `${arm} ${round}`;
  const progress = (m: string) => io.progress(`[${label}] ${m}`);
  const started = Date.now();
  const booted = await stacks.acquire(arm, trialRunId, label);
  let ok = false;
  try {
    const step = emptyStep();
    await deps.runLoadStep(
      booted.stack,
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
    ok = true;
    return {
      n: slot.n,
      arm,
      runId: trialRunId,
      ...(slot.pair === undefined ? {} : { pair: slot.pair }),
      stackRunId: booted.runId,
      boot: booted.boot,
      elapsedMs: Date.now() - started,
      loss,
      refused,
      metrics,
      censored: figures.censored,
      notes,
      stack: booted.stack.describe(),
    };
  } finally {
    // A trial that failed leaves its stack in an unknown state: it is not loaded again.
    await stacks.release(arm, !ok);
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
