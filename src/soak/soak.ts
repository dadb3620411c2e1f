import { HarnessError } from '../harness-error.js';
import { describeProfile } from '../load/rate-profile.js';
import { RESULT_SCHEMA_VERSION, runHeader, type SoakResult } from '../report/result.js';
import type { Endpoint, StackDescription, StartedStack } from '../stack/stack.js';
import { startStack } from '../stack/stack-options.js';
import { assessLimits, describeBudget, thresholds, verdict } from './assess.js';
import { runLoadStep } from '../step/load-step.js';
import { emptyStep, reportedFields, type StepIo, type StepPlan } from '../step/step-types.js';
import type { Replay } from '../step/replay.js';
import type { SoakPlan } from './soak-plan.js';
import { describeTransport } from '../load/otlp/transport.js';
import { publicValues } from '../options/option-table.js';

export type SoakIo = StepIo;

/** The step of a soak plan. */
export function stepPlanOf(plan: SoakPlan): StepPlan {
  const o = plan.options;
  return {
    load: plan.load,
    faults: plan.faults,
    drainTimeoutMs: o.drainTimeoutMs,
    verifySample: o.verifySample,
    ...(o.verifyFromStore ? { verifyFromStore: o.storeHandover } : {}),
    canaryIntervalMs: o.canaryIntervalMs,
    canaryTimeoutMs: o.canaryTimeoutMs,
    collectorLabel:
      plan.stack.choice.collectorConfigs[plan.stack.topology.collectorRoles[0] ?? 'collector'] !== undefined
        ? 'your configuration'
        : typeof plan.stack.options.variant === 'string'
          ? plan.stack.options.variant
          : plan.stack.topology.name,
  };
}

/** The stack description of a run whose stack has not started (yet). */
export function notStarted(topology: string): StackDescription & { endpoints: Endpoint[] } {
  return {
    topology,
    title: '',
    images: {},
    versions: {},
    configHashes: {},
    manifestHash: undefined,
    bootSeconds: undefined,
    endpoints: [],
  };
}

/** A result with nothing done yet: what a run reports if it fails before its first step. */
export function emptyResult(
  plan: SoakPlan,
  runId: string,
  version: string,
  command: SoakResult['command'],
): SoakResult {
  const o = plan.options;
  return {
    ...runHeader(command, RESULT_SCHEMA_VERSION, runId, version),
    plan: {
      topology: plan.stack.topology.name,
      stackOptions: publicValues([plan.stack.topology.options], plan.stack.options),
      source: plan.stack.choice.source,
      target: plan.stack.options.target as string | undefined,
      stackSpec: plan.stack.specFile,
      driver: o.driver,
      transport: describeTransport(plan.load.transport),
      ...(o.payload === 'synthetic'
        ? {}
        : { payload: `${o.payload} (${o.payloadPods} pods, ${o.payloadNodes} nodes)` }),
      profile: describeProfile(o.profile),
      durationMs: o.durationMs,
      rateRps: plan.load.signals.reduce((n, s) => n + s.rateRps, 0),
      signals: Object.fromEntries(plan.load.signals.map((s) => [s.signal, s.rateRps])),
      maxLoss: describeBudget(o.maxLoss),
      minAchievedRatio: o.minAchievedRatio,
      maxLatencyP99Ms: o.maxLatencyP99Ms,
      verifySample: o.verifySample,
    },
    stack: notStarted(plan.stack.topology.name),
    ...reportedFields(emptyStep()),
    limits: { limitedBy: 'nothing', reasons: [] },
    thresholds: [],
    verdict: { status: 'error', exitCode: 1, reasons: ['the run did not finish'] },
  };
}

/**
 * One soak: boot the stack (or attach), run one load step on it, assess, and remove what was booted.
 * Always returns a result (partial when interrupted or failed).
 */
export async function runSoak(
  plan: SoakPlan,
  runId: string,
  io: SoakIo,
  abort: AbortSignal,
  version: string,
  command: SoakResult['command'] = 'soak',
): Promise<{ result: SoakResult; error: unknown; replay: Replay | undefined }> {
  const result = emptyResult(plan, runId, version, command);
  const step = emptyStep();
  let stack: StartedStack | undefined;
  let error: unknown;
  try {
    stack = await startStack(plan.stack, runId, abort, io);
    result.stack = { ...stack.describe(), endpoints: stack.endpointList() };
    if (result.stack.bootSeconds !== undefined)
      io.progress(`${stack.title} ready in ${result.stack.bootSeconds.toFixed(1)} s`);
    abort.throwIfAborted();
    await runLoadStep(stack, stepPlanOf(plan), runId, io, abort, step);
    result.partial = !step.complete;
  } catch (err) {
    error = err;
  } finally {
    Object.assign(result, reportedFields(step));
    const o = plan.options;
    result.limits = assessLimits(result.load.signals, result.resources, o.minAchievedRatio, {
      latency: result.latency,
      queue: result.timeline.queue,
      loadMs: result.load.elapsedMs,
      verification: result.verification.signals,
    });
    result.thresholds = result.partial
      ? []
      : [
          ...k6Thresholds(result),
          ...thresholds({
            verification: result.verification.signals,
            load: result.load.signals,
            latency: result.latency,
            maxLoss: o.maxLoss,
            minAchievedRatio: o.minAchievedRatio,
            maxLatencyP99Ms: o.maxLatencyP99Ms,
          }),
        ];
    result.verdict = verdict(result, abort.aborted);
    if (error !== undefined && !abort.aborted) {
      const exitCode = error instanceof HarnessError ? error.exitCode : 1;
      result.verdict = {
        status: 'error',
        exitCode,
        reasons: [error instanceof Error ? error.message : JSON.stringify(error)],
      };
    }
    result.endedAt = new Date().toISOString();
    if (stack !== undefined && plan.stack.topology.capabilities.boots) io.progress(`removing run ${runId}`);
    await stack?.stop();
  }
  return { result, error, replay: step.replay };
}

/** k6's own thresholds (from the scenario's options): a failed one is exit 3. */
function k6Thresholds(result: SoakResult): SoakResult['thresholds'] {
  return (result.k6?.summary?.thresholds ?? []).map((t) => ({
    name: `k6 threshold ${t.metric}`,
    limit: t.expression,
    actual: t.ok ? 'met' : 'not met',
    pass: t.ok,
    exitCode: 3 as const,
  }));
}
