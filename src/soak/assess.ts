import { ExitCode } from '../harness-error.js';
import type { LossBudget } from './soak-options.js';
import type { Signal } from '../load/ledger.js';
import type { LimitAssessment, SignalLoadResult, SoakResult, ThresholdResult } from '../report/result.js';
import type { ResourceReport } from '../observe/resource-sampler.js';
import type { SignalVerification } from '../verify/verification.js';
import type { CanaryReport } from '../verify/latency-canary.js';

export function allowedLoss(budget: LossBudget, expected: number): number {
  return budget.kind === 'items' ? budget.value : Math.floor((budget.value / 100) * expected);
}

export function describeBudget(budget: LossBudget): string {
  return budget.kind === 'items' ? `${budget.value} items` : `${budget.value}%`;
}

/** Every threshold of a run, each with its exit code: loss and verification → 4; rate and latency → 3. */
export function thresholds(input: {
  verification: Partial<Record<Signal, SignalVerification>>;
  load: Partial<Record<Signal, SignalLoadResult>>;
  latency: Partial<Record<Signal, CanaryReport>>;
  maxLoss: LossBudget;
  minAchievedRatio: number;
  maxLatencyP99Ms: number | undefined;
}): ThresholdResult[] {
  const out: ThresholdResult[] = [];
  for (const [signal, v] of Object.entries(input.verification) as [Signal, SignalVerification][]) {
    if (v.outcome.status === 'inconclusive') {
      out.push({
        name: `${signal} verification (${v.backend})`,
        limit: 'conclusive',
        actual: `inconclusive: ${v.outcome.reason}`,
        pass: false,
        exitCode: ExitCode.verification,
        inconclusive: true,
      });
      continue;
    }
    const allowed = allowedLoss(input.maxLoss, v.expected);
    const limit = `≤ ${allowed} (${describeBudget(input.maxLoss)})`;
    if (v.sample !== undefined) {
      if (v.outcome.status === 'fail') {
        out.push({
          name: `${signal} lost in ${v.backend}`,
          limit,
          actual: `${v.lost} of ${v.expected} (estimated from a sample of ${v.sample.sampleSize} traces)`,
          pass: false,
          exitCode: ExitCode.verification,
        });
      } else {
        // A clean sample passes only when its 95 % upper bound fits the budget.
        const fits = v.sample.lostUpper95 <= allowed;
        out.push({
          name: `${signal} lost in ${v.backend} (sampled)`,
          limit,
          actual: `none in a sample of ${v.sample.sampleSize} of ${v.sample.population} traces; at most ${v.sample.lostUpper95} at 95 % confidence`,
          pass: fits,
          exitCode: ExitCode.verification,
          ...(fits ? {} : { inconclusive: true }),
        });
      }
      continue;
    }
    out.push({
      name: `${signal} lost in ${v.backend}`,
      limit,
      actual: `${v.lost} of ${v.expected}`,
      pass: v.lost <= allowed,
      exitCode: ExitCode.verification,
    });
    if (v.rejected > 0) {
      out.push({
        name: `${signal} rejected by the pipeline (OTLP partial success)`,
        limit: `lost + rejected ${limit}`,
        actual: `${v.rejectedAbsent} absent of ${v.rejected} declared rejected`,
        pass: v.lost + v.rejectedAbsent <= allowed,
        exitCode: ExitCode.verification,
      });
    }
  }
  for (const [signal, l] of Object.entries(input.load) as [Signal, SignalLoadResult][]) {
    out.push({
      name: `${signal} achieved/offered rate`,
      limit: `≥ ${input.minAchievedRatio}`,
      actual: `${l.achievedRatio.toFixed(3)} (${l.achievedRps.toFixed(0)}/${l.offeredRps.toFixed(0)} items/s)`,
      pass: l.achievedRatio >= input.minAchievedRatio,
      exitCode: ExitCode.thresholds,
    });
  }
  if (input.maxLatencyP99Ms !== undefined) {
    for (const [signal, c] of Object.entries(input.latency) as [Signal, CanaryReport][]) {
      const pass = c.latencyMs.p99 <= input.maxLatencyP99Ms && c.timedOut === 0 && c.found > 0;
      out.push({
        name: `${signal} write→queryable p99 (${c.backend})`,
        limit: `≤ ${input.maxLatencyP99Ms} ms`,
        actual:
          c.found === 0
            ? 'no canary found'
            : `${c.latencyMs.p99} ms${c.timedOut > 0 ? `, ${c.timedOut} timed out` : ''}`,
        pass,
        exitCode: ExitCode.thresholds,
      });
    }
  }
  return out;
}

const GENERATOR_CPU_LIMIT = 90;
const MACHINE_CPU_LIMIT = 90;
const LAG_LIMIT_MS = 1_000;

/**
 * Says what limited the run. If the generator or the machine was saturated, rates and refusals measure
 * them, not the stack, and the report says so instead of blaming the pipeline.
 */
export function assessLimits(
  load: Partial<Record<Signal, SignalLoadResult>>,
  resources: ResourceReport | undefined,
  minAchievedRatio: number,
): LimitAssessment {
  const reasons: string[] = [];
  let generator = false;
  let machine = false;
  let stack = false;
  for (const [signal, l] of Object.entries(load) as [Signal, SignalLoadResult][]) {
    if (l.counts.dropped > 0) {
      generator = true;
      reasons.push(`${signal}: the generator dropped ${l.counts.dropped} items (requests in flight at the limit)`);
    }
    if (l.scheduleLagMs.p99 > LAG_LIMIT_MS) {
      generator = true;
      reasons.push(`${signal}: batches left up to ${l.scheduleLagMs.p99} ms late (p99 schedule lag)`);
    }
    if (l.counts.refused > 0) {
      stack = true;
      reasons.push(`${signal}: the pipeline refused ${l.counts.refused} items (backpressure)`);
    }
    if (l.counts.failed > 0) {
      stack = true;
      reasons.push(
        `${signal}: ${l.counts.failed} items failed (${Object.entries(l.answers)
          .filter(([a]) => !a.startsWith('2'))
          .map(([a, n]) => `${a}: ${n}`)
          .join(', ')})`,
      );
    }
    if (
      l.achievedRatio < minAchievedRatio &&
      l.counts.dropped === 0 &&
      l.counts.refused === 0 &&
      l.counts.failed === 0
    ) {
      reasons.push(`${signal}: achieved ${l.achievedRps.toFixed(0)}/s of ${l.offeredRps.toFixed(0)}/s`);
    }
  }
  if (resources !== undefined) {
    const generatorCores = resources.generator.cores;
    if (resources.generator.cpuMaxPct > GENERATOR_CPU_LIMIT * generatorCores) {
      generator = true;
      reasons.push(
        generatorCores === 1
          ? `the generator used up to ${resources.generator.cpuMaxPct}% of a core`
          : `the generator (${resources.generator.processes.join(' + ')}) used up to ${resources.generator.cpuMaxPct}% of a core, of ${generatorCores} cores it can use`,
      );
    }
    if (resources.host.cpuMeanPct > MACHINE_CPU_LIMIT) {
      machine = true;
      reasons.push(
        `the machine's ${resources.host.cores} cores were ${resources.host.cpuMeanPct}% busy on average: the stack and the generator share them`,
      );
    }
  }
  const limitedBy = machine ? 'machine' : generator ? 'generator' : stack ? 'stack' : 'nothing';
  return { limitedBy, reasons };
}

/**
 * Exit code and status from thresholds: 4 beats 3; an interruption is 130. A run whose only failures are
 * thresholds that could not be decided is `inconclusive` (exit 4), never a pass.
 */
export function verdict(
  result: Pick<SoakResult, 'thresholds' | 'partial'>,
  interrupted: boolean,
): SoakResult['verdict'] {
  if (interrupted)
    return {
      status: 'interrupted',
      exitCode: ExitCode.interrupted,
      reasons: ['interrupted before verification; figures are partial'],
    };
  const failed = result.thresholds.filter((t) => !t.pass);
  if (failed.length === 0) return { status: 'pass', exitCode: ExitCode.pass, reasons: [] };
  const exitCode = failed.some((t) => t.exitCode === ExitCode.verification)
    ? ExitCode.verification
    : ExitCode.thresholds;
  const status = failed.every((t) => t.inconclusive === true) ? 'inconclusive' : 'fail';
  return { status, exitCode, reasons: failed.map((t) => `${t.name}: ${t.actual} (limit ${t.limit})`) };
}
