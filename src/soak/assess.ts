import { ExitCode } from '../harness-error.js';
import type { LossBudget } from './soak-options.js';
import type { Signal } from '../load/ledger.js';
import type { LimitAssessment, SignalLoadResult, SoakResult, ThresholdResult } from '../report/result.js';
import type { ResourceReport } from '../observe/resource-sampler.js';
import { describeCauses } from '../verify/loss-evidence.js';
import type { SignalVerification } from '../verify/verification.js';
import type { CanaryReport } from '../verify/latency-canary.js';

export function allowedLoss(budget: LossBudget, expected: number): number {
  return budget.kind === 'items' ? budget.value : Math.floor((budget.value / 100) * expected);
}

/** ` — otelcol → loki: …; fix: …` when the evidence names causes. */
function because(v: SignalVerification): string {
  const causes = v.evidence?.causes ?? [];
  return causes.length === 0 ? '' : ` — ${describeCauses(causes)}`;
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
    // --verify-from-store that could not decide (a handover failed, a query of the store failed): never a pass.
    if (v.fromStore?.outcome.status === 'inconclusive')
      out.push({
        name: `${signal} verified again from object storage`,
        limit: 'conclusive',
        actual: `inconclusive: ${v.fromStore.outcome.reason}`,
        pass: false,
        exitCode: ExitCode.verification,
        inconclusive: true,
      });
    const e = v.evidence;
    if (e !== undefined && v.sample === undefined && (v.outcome.status === 'inconclusive' || e.lowerBound)) {
      // Absence the drain could not decide: the evidence bounds it. Lost for certain (at least) plus queued
      // behind an error no retry fixes above the budget fails; all of it absent within the budget passes.
      const allowed = allowedLoss(input.maxLoss, v.expected);
      const limit = `≤ ${allowed} (${describeBudget(input.maxLoss)})`;
      const certain = (e.lostAtLeast ?? 0) + e.doomed;
      if (certain > allowed) {
        out.push({
          name: `${signal} lost in ${v.backend}`,
          limit,
          actual: `${e.lostAtLeast !== null && e.lostAtLeast > 0 ? `at least ${e.lostAtLeast} of ${v.expected}` : `none of ${v.expected} given up yet`}${e.doomed > 0 ? `, ${e.doomed} queued behind an error no retry fixes` : ''} (${e.absent} absent)${because(v)}`,
          pass: false,
          exitCode: ExitCode.verification,
        });
        continue;
      }
      if (e.absent <= allowed && v.outcome.status !== 'pass') {
        out.push({
          name: `${signal} lost in ${v.backend}`,
          limit,
          actual: `at most ${e.absent} of ${v.expected} (absent; some may still arrive)`,
          pass: true,
          exitCode: ExitCode.verification,
        });
        continue;
      }
      if (v.outcome.status === 'fail') {
        out.push({
          name: `${signal} lost in ${v.backend}`,
          limit,
          actual: `between ${certain} and ${e.absent} of ${v.expected}: ${e.absent - certain} absent may still be queued${because(v)}`,
          pass: false,
          exitCode: ExitCode.verification,
          inconclusive: true,
        });
        continue;
      }
    }
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
      actual: `${v.lost} of ${v.expected}${v.lost > allowed ? because(v) : ''}`,
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
const MACHINE_CPU_LIMIT = 85;
const LAG_LIMIT_MS = 1_000;
/** A container using this share of its CPU limit (of one core without a limit) on average was saturated. */
const CONTAINER_BUSY_SHARE = 0.85;
/** A sending queue this long (requests or items) at the load's end, and growing, means the exporters fell behind. */
const QUEUE_GROWTH_MIN = 20;

/** What else a run holds that says whether the stack kept up. */
export interface LimitEvidence {
  latency?: Partial<Record<Signal, CanaryReport>>;
  /** The collectors' summed sending-queue sizes during the load. */
  queue?: readonly { tMs: number; size: number }[];
  /** The load's length, ms (queue points after it belong to the drain). */
  loadMs?: number;
  verification?: Partial<Record<Signal, SignalVerification>>;
  /** Containers' CPU limits, in cores. */
  cpuLimits?: Record<string, number>;
}

/**
 * Says what limited the run. If the generator or the machine was saturated, rates and refusals measure
 * them, not the stack, and the report says so instead of blaming the pipeline. The stack is named when it
 * refused or failed items, when one of its containers was CPU-saturated, when its queues grew through the
 * load, when canaries timed out, or when items were lost with a cause: a run in which a component
 * saturated never says "nothing".
 */
export function assessLimits(
  load: Partial<Record<Signal, SignalLoadResult>>,
  resources: ResourceReport | undefined,
  minAchievedRatio: number,
  evidence: LimitEvidence = {},
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
        `the machine's ${resources.host.cores} cores were ${resources.host.cpuMeanPct}% busy on average (at most ${resources.host.cpuMaxPct}%): the stack and the generator share them`,
      );
    }
    const limits = evidence.cpuLimits ?? {};
    const share = (name: string, pct: number) => pct / 100 / (limits[name] ?? 1);
    const busy = Object.entries(resources.containers)
      .filter(([name, u]) => share(name, u.cpuMeanPct) >= CONTAINER_BUSY_SHARE)
      .sort((a, b) => share(b[0], b[1].cpuMeanPct) - share(a[0], a[1].cpuMeanPct));
    for (const [name, u] of busy) {
      stack = true;
      const limit = limits[name];
      reasons.push(
        limit === undefined
          ? `${name} used ${u.cpuMeanPct}% of a core on average (at most ${u.cpuMaxPct}%, ${Math.round(u.memoryMaxMiB)} MiB)`
          : `${name} at ${Math.round(share(name, u.cpuMeanPct) * 100)}% of its CPU limit of ${limit} cores`,
      );
    }
  }
  const queue = (evidence.queue ?? []).filter((q) => evidence.loadMs === undefined || q.tMs <= evidence.loadMs);
  if (queue.length >= 2) {
    const peak = Math.max(...queue.map((q) => q.size));
    const last = queue.at(-1)!.size;
    const first = queue[0]!.size;
    const sizes = queue.map((q) => q.size).sort((a, b) => a - b);
    const median = sizes[Math.floor(sizes.length / 2)]!;
    // Growth, not the few requests a busy exporter always has in its queue: at the load's end well above
    // what the queue held most of the time, and near its peak.
    if (last >= QUEUE_GROWTH_MIN && last > 2 * median && last > first && last >= peak / 2) {
      stack = true;
      reasons.push(
        `the collectors' sending queues grew through the load (${first} → ${last}, peak ${peak}): the exporters fell behind`,
      );
    }
  }
  for (const [signal, c] of Object.entries(evidence.latency ?? {}) as [Signal, CanaryReport][]) {
    if (c.timedOut > 0) {
      stack = true;
      reasons.push(
        `${signal}: ${c.timedOut} of ${c.sent} canaries were not queryable in ${c.backend} before their timeout${c.found > 0 ? ` (p99 of the others ${c.latencyMs.p99} ms)` : ''}`,
      );
    }
  }
  for (const [signal, v] of Object.entries(evidence.verification ?? {}) as [Signal, SignalVerification][]) {
    for (const cause of v.evidence?.causes ?? []) {
      if (v.outcome.status === 'pass' && cause.retryable) continue;
      stack = true;
      reasons.push(`${signal}: ${cause.hop}: ${cause.reason}`);
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
