import { setTimeout as sleep } from 'node:timers/promises';
import { exportFailuresOf } from '../observe/export-failures.js';
import { collectorCounters } from '../observe/collector-metrics.js';
import { describeQueued, type DrainReport } from '../drain/drain.js';
import { scrape } from '../observe/prometheus-text.js';
import { newRunId } from '../docker/labels.js';
import { HarnessError } from '../harness-error.js';
import type { Signal } from '../load/ledger.js';
import type { ResourceReport } from '../observe/resource-sampler.js';
import { assessLimits } from '../soak/assess.js';
import { runLoadStep } from '../step/load-step.js';
import { emptyStep, type StepIo, type StepPlan, type StepResult } from '../step/step-types.js';
import { runHeader, type RunHeader } from '../report/result.js';
import type { SoakOptions } from '../soak/soak-options.js';
import { notStarted } from '../soak/soak.js';
import { planLoad } from '../soak/soak-plan.js';
import type { StackDescription, Endpoint, StartedStack } from '../stack/stack.js';
import { startStack, type ResolvedStack } from '../stack/stack-options.js';
import { componentCosts, ingestCosts, type ComponentCost, type IngestCost } from './capacity-cost.js';
import type { CapacityOptions } from './capacity-options.js';
import {
  expectedTrials,
  failureOf,
  passes,
  searchRate,
  TrialBook,
  type Criterion,
  type SearchBound,
  type Trial,
  type TrialOutcome,
} from './capacity-search.js';
import { sizeFor, type Sizing } from './capacity-sizing.js';
import { describeTransport } from '../load/otlp/transport.js';
import { count } from '../format.js';

export const CAPACITY_SCHEMA_VERSION = 1;
/** The bracket doubles the rate until a trial fails. */
const RAMP_FACTOR = 2;

export interface CapacityPlan {
  options: CapacityOptions;
  /** The load's shape (signals, driver, batch, …); rate and length are set per trial. */
  soak: SoakOptions;
  stack: ResolvedStack;
}

/** One trial as result.json keeps it. */
export interface TrialRecord extends Trial {
  runId: string;
  signals: Partial<
    Record<
      Signal,
      {
        backend: string;
        offeredRps: number;
        achievedRps: number;
        expected: number;
        lost: number;
        refused: number;
        status: string;
        p99Ms: number | undefined;
      }
    >
  >;
  drainSeconds: number | undefined;
  /**
   * Uncompressed bytes/s each backend that counts bytes received, averaged over the load (its counter's
   * delta over the trial, canaries included, divided by the load's length).
   */
  ingest: Record<string, { signal: Signal; bytesPerSec: number }>;
  /** Why the stack was re-created before this trial (the previous trial left a stuck or slow backlog). */
  stackRecreated?: string;
  collectorQueuePeak: number | undefined;
  /**
   * `--log-source file`: the node agent's read lag (lines written and not yet read, every second): its peak,
   * when the load ended, and how long after the load it had read everything.
   */
  agentReadLag?: { peak: number; atLoadEnd: number | undefined; caughtUpAfterLoadMs: number | undefined };
  host: { cpuMeanPct: number; cpuMaxPct: number } | undefined;
  generator: { cpuMeanPct: number; cpuMaxPct: number } | undefined;
  containers: Record<string, { cpuMeanPct: number; cpuMaxPct: number; memoryMeanMiB: number; memoryMaxMiB: number }>;
  /** Offered/acknowledged per second and the queue (for the report's charts). */
  timeline: StepResult['timeline'];
  resourceTimeline: ResourceReport['timeline'];
}

export interface CapacityResult extends RunHeader<'capacity', typeof CAPACITY_SCHEMA_VERSION> {
  plan: {
    topology: string;
    stackOptions: Record<string, unknown>;
    driver: string;
    /** e.g. "OTLP/gRPC gzip": a knee and a cost fit hold for what went over the wire (absent in older results). */
    transport?: string;
    /** Share of each signal in every trial's rate. */
    shares: Partial<Record<Signal, number>>;
    search: Omit<CapacityOptions, 'slo' | 'forRps' | 'headroom' | 'pdr'>;
    slo: CapacityOptions['slo'];
    pdr: number | undefined;
  };
  stack: StackDescription & { endpoints: Endpoint[] };
  /** The result in one line: the interval and who limited it. */
  headline: string;
  ndr: SearchBound | undefined;
  pdr: SearchBound | undefined;
  /** What limited the trial that set the NDR's upper end. */
  limitedBy: { who: 'nothing' | 'stack' | 'generator' | 'machine'; reasons: string[] };
  trials: TrialRecord[];
  cost: ComponentCost[];
  /** Bytes/s per 1,000 items/s for the backends that count received bytes (Tempo, Loki). */
  ingest: IngestCost[];
  sizing: Sizing | undefined;
  verdict: {
    status: 'found' | 'below-range' | 'above-range' | 'unfinished' | 'interrupted' | 'error';
    exitCode: number;
    reasons: string[];
  };
}

/** The signals' shares of the offered rate (traces,metrics,logs share it evenly). */
export function sharesOf(soak: SoakOptions): Partial<Record<Signal, number>> {
  const load = planLoad({ ...soak, rateRps: 1_000 });
  return Object.fromEntries(load.signals.map((s) => [s.signal, s.rateRps / 1_000]));
}

/** Lines a node agent may leave unread when the load ends, in seconds of the logs' rate, before it fell behind. */
const AGENT_BEHIND_SECONDS = 2;

/**
 * `--log-source file`: the node agent fell behind when more than AGENT_BEHIND_SECONDS of lines were written
 * and not yet read as the load ended (its read lag, from its own counters, every second). Writing a line
 * never waits for the agent, so the achieved rate cannot show it: this is the path's saturation.
 */
export function agentBehind(step: Pick<StepResult, 'observations' | 'load'>): string | undefined {
  const files = step.observations.find((o) => o.name === 'log-files');
  const lag = files?.figures.lagAtLoadEnd;
  const rate = step.load.signals.logs?.offeredRps;
  if (lag === undefined || rate === undefined || lag <= rate * AGENT_BEHIND_SECONDS) return undefined;
  return `logs: the node agent fell behind — ${count(lag)} lines written and not read when the load ended (> ${AGENT_BEHIND_SECONDS} s of lines at ${Math.round(rate)}/s)`;
}

function agentReadLagOf(step: Pick<StepResult, 'observations'>): Pick<TrialRecord, 'agentReadLag'> {
  const f = step.observations.find((o) => o.name === 'log-files')?.figures;
  if (f?.peakReadLag === undefined) return {};
  return {
    agentReadLag: { peak: f.peakReadLag, atLoadEnd: f.lagAtLoadEnd, caughtUpAfterLoadMs: f.caughtUpAfterLoadMs },
  };
}

/** The search's trial: one load step at a rate and length, judged against the SLOs. */
function outcomeOf(
  step: StepResult,
  options: CapacityOptions,
  cpuLimits: Record<string, number>,
  exportFailures: readonly string[] = [],
): TrialOutcome {
  const signals = Object.values(step.verification.signals);
  const inconclusive = signals.find((v) => v.outcome.status === 'inconclusive' || v.sample !== undefined);
  const conclusive = step.complete && signals.length > 0 && inconclusive === undefined;
  const lost = signals.reduce((n, v) => n + v.lost + v.rejectedAbsent, 0);
  const expected = signals.reduce((n, v) => n + v.expected, 0);
  const sloMisses: string[] = [];
  let refused = 0;
  for (const [signal, l] of Object.entries(step.load.signals)) {
    refused += l.counts.refused + l.counts.failed;
    if (l.achievedRatio < options.slo.achieved)
      sloMisses.push(
        `${signal} achieved ${l.achievedRps.toFixed(0)}/s of ${l.offeredRps.toFixed(0)}/s (< ${options.slo.achieved})`,
      );
  }
  if (refused > options.slo.refusals) sloMisses.push(`${refused} items refused or failed (> ${options.slo.refusals})`);
  const behind = agentBehind(step);
  if (behind !== undefined) sloMisses.push(behind);
  if (options.slo.p99Ms !== undefined) {
    for (const [signal, c] of Object.entries(step.latency)) {
      if (c.found === 0 || c.timedOut > 0 || c.latencyMs.p99 > options.slo.p99Ms)
        sloMisses.push(
          `${signal} write→queryable p99 ${c.found === 0 ? 'unmeasured (no canary found)' : `${c.latencyMs.p99} ms`}${c.timedOut > 0 ? `, ${c.timedOut} canaries timed out` : ''} (> ${options.slo.p99Ms} ms)`,
        );
    }
  }
  const limits = assessLimits(step.load.signals, step.resources, options.slo.achieved);
  // What failed first, in words (the cause of loss, who refused), then the component that saturated, then
  // what the generator and machine did, then why undecided.
  const reasons = [
    ...failureCauses(step, sloMisses).causes,
    ...stackFindings(step, cpuLimits, exportFailures),
    ...failureCauses(step, sloMisses).symptoms,
    ...limits.reasons,
    ...(inconclusive !== undefined && inconclusive.outcome.status === 'inconclusive'
      ? [`${inconclusive.signal}: ${inconclusive.outcome.reason}`]
      : []),
    ...(step.drain !== undefined && !step.drain.drained ? [`drain incomplete: ${step.drain.reason ?? ''}`] : []),
  ];
  const failing = lost > 0 || sloMisses.length > 0 || !conclusive;
  const undecided = conclusive
    ? undefined
    : inconclusive?.outcome.status === 'inconclusive'
      ? `${inconclusive.signal}: ${inconclusive.outcome.reason}`
      : inconclusive !== undefined
        ? `${inconclusive.signal}: verified on a sample`
        : step.drain !== undefined && !step.drain.drained
          ? `drain incomplete: ${step.drain.reason ?? ''}`
          : 'the trial did not finish';
  const who = whoLimited(limits.limitedBy, step, failing);
  const g = step.resources?.generator;
  if (limits.limitedBy === 'generator' && who !== 'generator' && g !== undefined)
    reasons.push(
      `the generator used at most ${g.cpuMaxPct}% of a core (of ${g.cores}): its requests waited on the stack's answers`,
    );
  return {
    ...(undecided === undefined ? {} : { undecided }),
    conclusive,
    lost,
    expected,
    sloMisses,
    limitedBy: who,
    reasons,
  };
}

/**
 * The trial's failure in words, from the evidence. `causes`: why items were lost (collector → backend, and
 * why) — first in a trial's reasons, so that "limited by the stack: …" names what lost them rather than the
 * busiest container. `symptoms`: who refused items and canaries that timed out — after the saturated
 * components, which are their cause.
 */
export function failureCauses(
  step: Pick<StepResult, 'verification' | 'load' | 'latency'>,
  sloMisses: readonly string[] = [],
): { causes: string[]; symptoms: string[] } {
  const causes: string[] = [];
  const symptoms: string[] = [];
  for (const v of Object.values(step.verification.signals)) {
    if (v.outcome.status === 'pass') continue;
    for (const c of v.evidence?.causes ?? [])
      causes.push(`${v.signal}: ${c.hop}: ${c.reason}${c.fix === undefined ? '' : ` (fix: ${c.fix})`}`);
  }
  for (const [signal, l] of Object.entries(step.load.signals)) {
    const refused = Object.entries(l.answers).filter(([a]) => !a.startsWith('2'));
    if (l.counts.refused + l.counts.failed > 0)
      symptoms.push(
        `${signal}: the collector answered ${refused.map(([a, n]) => `${a} to ${n} items`).join(', ')} (backpressure or refusal)`,
      );
  }
  for (const [signal, c] of Object.entries(step.latency)) {
    if (c.timedOut > 0 && sloMisses.some((m) => m.startsWith(signal)))
      symptoms.push(
        `${signal}: ${c.timedOut} of ${c.sent} canaries not queryable in ${c.backend} before their timeout`,
      );
  }
  return { causes, symptoms };
}

/** A container using this share of its CPU limit (or of one core, without a limit) on average is busy. */
const BUSY_SHARE = 0.85;
const GENERATOR_BUSY_SHARE = 0.9;

/**
 * Who limited a trial. The machine when its cores were saturated. The generator only when its own CPU was:
 * items it dropped because its requests in flight hit the limit while it had CPU to spare were waiting on
 * the stack's answers — the stack's backpressure, not the generator's limit.
 */
export function whoLimited(
  assessed: TrialOutcome['limitedBy'],
  step: Pick<StepResult, 'resources'>,
  failing: boolean,
): TrialOutcome['limitedBy'] {
  if (assessed === 'machine') return 'machine';
  const g = step.resources?.generator;
  if (assessed === 'generator' && g !== undefined && g.cpuMaxPct >= GENERATOR_BUSY_SHARE * 100 * g.cores)
    return 'generator';
  if (assessed === 'generator' && g === undefined) return 'generator';
  return failing ? 'stack' : 'nothing';
}

/**
 * Which component of the stack showed saturation: CPU at its limit (or near a whole core without one), a
 * growing queue, loss by signal. Busiest first.
 */
export function stackFindings(
  step: Pick<StepResult, 'resources' | 'verification'> & Partial<Pick<StepResult, 'drain'>>,
  cpuLimits: Record<string, number> = {},
  /** The collector's export failures of the trial (the most specific cause after a saturated CPU). */
  exportFailures: readonly string[] = [],
): string[] {
  const out: string[] = [];
  const share = (name: string, pct: number) => pct / 100 / (cpuLimits[name] ?? 1);
  const containers = Object.entries(step.resources?.containers ?? {})
    .filter(([name, u]) => share(name, u.cpuMeanPct) >= BUSY_SHARE)
    .sort((a, b) => share(b[0], b[1].cpuMeanPct) - share(a[0], a[1].cpuMeanPct));
  for (const [name, u] of containers) {
    const limit = cpuLimits[name];
    out.push(
      limit !== undefined
        ? `${name} at ${Math.round(share(name, u.cpuMeanPct) * 100)}% of its CPU limit of ${limit} cores (${u.cpuMeanPct}% of a core on average)`
        : `${name} used ${u.cpuMeanPct}% of a core on average (peak ${u.cpuMaxPct}%)`,
    );
  }
  out.push(...exportFailures);
  // Queues empty but a backend still making the run's items queryable when the drain ended: it lags.
  if (step.drain !== undefined && !step.drain.drained && step.drain.collectorIdleAtMs !== undefined) {
    for (const v of Object.values(step.verification.signals)) {
      const behind = v.expected - v.found;
      if (behind > 0)
        out.push(
          `${v.backend} had not made ${behind} of the ${v.expected} ${v.signal} items queryable ${Math.round(step.drain.elapsedMs / 1000)} s after the load, its count still growing (the pipeline's queues were empty)`,
        );
    }
  }
  const peak = step.verification.collectorQueuePeak;
  if (peak !== undefined && peak > 0) out.push(`the collectors' sending queues held up to ${peak} batches`);
  for (const v of Object.values(step.verification.signals)) {
    if (v.lost > 0 && v.outcome.status === 'fail')
      out.push(`${v.signal}: ${v.lost} of ${v.expected} lost in ${v.backend}`);
  }
  return out;
}

function recordOf(trial: Trial, runId: string, step: StepResult): TrialRecord {
  const signals: TrialRecord['signals'] = {};
  for (const [signal, l] of Object.entries(step.load.signals) as [
    Signal,
    NonNullable<StepResult['load']['signals'][Signal]>,
  ][]) {
    const v = step.verification.signals[signal];
    signals[signal] = {
      backend: v?.backend ?? '',
      offeredRps: l.offeredRps,
      achievedRps: l.achievedRps,
      expected: v?.expected ?? l.counts.acknowledged,
      lost: v === undefined ? 0 : v.lost + v.rejectedAbsent,
      refused: l.counts.refused + l.counts.failed,
      status: v?.outcome.status ?? 'not verified',
      p99Ms: step.latency[signal]?.found ? step.latency[signal]?.latencyMs.p99 : undefined,
    };
  }
  const r = step.resources;
  return {
    ...trial,
    runId,
    signals,
    drainSeconds: step.drain === undefined ? undefined : step.drain.elapsedMs / 1000,
    ingest: Object.fromEntries(
      (Object.entries(step.verification.ingestBytes) as [Signal, { backend: string; bytes: number }][])
        .filter(() => step.load.elapsedMs > 0)
        .map(([signal, b]) => [b.backend, { signal, bytesPerSec: Math.round(b.bytes / (step.load.elapsedMs / 1000)) }]),
    ),
    collectorQueuePeak: step.verification.collectorQueuePeak,
    ...agentReadLagOf(step),
    host: r === undefined ? undefined : { cpuMeanPct: r.host.cpuMeanPct, cpuMaxPct: r.host.cpuMaxPct },
    generator: r === undefined ? undefined : { cpuMeanPct: r.generator.cpuMeanPct, cpuMaxPct: r.generator.cpuMaxPct },
    containers: Object.fromEntries(
      Object.entries(r?.containers ?? {}).map(([name, u]) => [
        name,
        {
          cpuMeanPct: u.cpuMeanPct,
          cpuMaxPct: u.cpuMaxPct,
          memoryMeanMiB: u.memoryMeanMiB,
          memoryMaxMiB: u.memoryMaxMiB,
        },
      ]),
    ),
    timeline: step.timeline,
    resourceTimeline: r?.timeline ?? [],
  };
}

/**
 * A capacity search: boot once, run trials (each one load step, drained and verified exactly, with its own
 * run id), find NDR (and PDR when asked), fit costs and size for a target. Always returns a result,
 * partial when interrupted or failed.
 */
export async function runCapacity(
  plan: CapacityPlan,
  runId: string,
  io: StepIo,
  abort: AbortSignal,
  version: string,
): Promise<{ result: CapacityResult; error: unknown }> {
  const o = { ...plan.options, factor: RAMP_FACTOR };
  const shares = sharesOf(plan.soak);
  const signals = Object.keys(shares) as Signal[];
  const { slo, pdr } = o;
  const search = {
    fromRps: o.fromRps,
    toRps: o.toRps,
    trialMs: o.trialMs,
    confirmMs: o.confirmMs,
    precision: o.precision,
    maxTrials: o.maxTrials,
    settleMs: o.settleMs,
    trialDrainMs: o.trialDrainMs,
    settleTimeoutMs: o.settleTimeoutMs,
  };
  const result: CapacityResult = {
    ...runHeader('capacity', CAPACITY_SCHEMA_VERSION, runId, version),
    plan: {
      topology: plan.stack.topology.name,
      stackOptions: plan.stack.options,
      driver: plan.soak.driver,
      transport: describeTransport({ protocol: plan.soak.protocol, compression: plan.soak.compression }),
      shares,
      search,
      slo,
      pdr,
    },
    stack: notStarted(plan.stack.topology.name),
    headline: 'the search did not finish',
    ndr: undefined,
    pdr: undefined,
    limitedBy: { who: 'nothing', reasons: [] },
    trials: [],
    cost: [],
    ingest: [],
    sizing: undefined,
    verdict: { status: 'error', exitCode: 1, reasons: ['the search did not finish'] },
  };
  let stack: StartedStack | undefined;
  let cpuLimits: Record<string, number> = {};
  let error: unknown;
  const searchStarted = Date.now();
  let bracket: { lowerRps: number | undefined; upperRps: number | undefined; about: number } = {
    lowerRps: undefined,
    upperRps: undefined,
    about: expectedTrials(o, o.fromRps, undefined),
  };
  const boot = async () => {
    stack = await startStack(plan.stack, runId, abort, io);
    result.stack = { ...stack.describe(), endpoints: stack.endpointList() };
    cpuLimits = (await stack.resources?.cpuLimits?.()) ?? {};
  };
  let previousDrain: DrainReport | undefined;
  const book = new TrialBook(async (rateRps, durationMs, phase, n) => {
    // The stack rests: its collectors' queues empty, then a short pause. A backlog that is stuck or does
    // not empty in time (the previous trial failed) is not waited on: the stack is re-created, so every
    // trial starts from an idle stack.
    let recreated: string | undefined;
    if (n > 1) {
      // A drain that ended stalled has already watched the backlog hold still for STALL_MS.
      const notIdle =
        previousDrain?.stalled === true
          ? { stalled: true, what: describeQueued(previousDrain.stillQueued), waitedMs: 0 }
          : await waitIdle(stack!, signals, o.settleTimeoutMs, abort, io);
      if (notIdle !== undefined) {
        recreated = notIdle.stalled
          ? `the stack was re-created before this trial: the previous trial's backlog (${notIdle.what}) had not moved for ${STALL_MS / 1000} s`
          : `the stack was re-created before this trial: the previous trial's backlog (${notIdle.what}) was still draining after ${Math.round(notIdle.waitedMs / 1000)} s`;
        io.progress(recreated.replace('was re-created', 'is re-created'));
        await stack!.stop();
        stack = undefined;
        await boot();
      }
    }
    if (n > 1 && o.settleMs > 0) await sleep(o.settleMs, undefined, { signal: abort });
    abort.throwIfAborted();
    const trialStart = Date.now();
    const trialRunId = newRunId();
    const done = n - 1;
    const perTrialMs = done > 0 ? (Date.now() - searchStarted) / done : undefined;
    const left = Math.max(1, bracket.about - done);
    io.progress(
      `trial ${n} of about ${done + left}: ${rateRps} items/s for ${durationMs / 1000} s (${phase}); bracket [${bracket.lowerRps ?? '—'}, ${bracket.upperRps ?? '—'}] items/s` +
        (perTrialMs === undefined ? '' : `; ETA ${Math.round((perTrialMs * left) / 60_000)} min`),
    );
    const step = emptyStep();
    await runLoadStep(
      stack!,
      trialStepPlan(plan, rateRps, durationMs),
      trialRunId,
      prefixed(io, `trial ${n}`),
      abort,
      step,
    );
    previousDrain = step.drain;
    const outcome = outcomeOf(step, o, cpuLimits, await collectorTrouble(stack!, trialStart));
    const trial: Trial = { ...outcome, n, rateRps, durationMs, phase, elapsedMs: 0 };
    result.trials.push({ ...recordOf(trial, trialRunId, step), stackRecreated: recreated });
    return outcome;
  });
  const onProgress = (
    message: string,
    state: { lowerRps: number | undefined; upperRps: number | undefined; done: number; about: number },
  ) => {
    bracket = {
      lowerRps: state.lowerRps,
      upperRps: state.upperRps,
      about: book.trials.length + (state.about - state.done),
    };
    io.progress(message);
  };
  try {
    await boot();
    abort.throwIfAborted();
    const ndrCriterion: Criterion = { name: 'NDR', maxLossRatio: 0 };
    result.ndr = await searchRate(book, ndrCriterion, o, onProgress);
    if (pdr !== undefined && result.ndr.kind !== 'below-range') {
      io.progress(`searching PDR (loss ≤ ${(pdr * 100).toFixed(2)} %) from the trials run so far`);
      result.pdr = await searchRate(book, { name: 'PDR', maxLossRatio: pdr }, o, onProgress);
    }
    result.partial = false;
  } catch (err) {
    error = err;
  } finally {
    // Elapsed times from the book (the trial function cannot see its own wall time).
    for (const t of book.trials) {
      const r = result.trials.find((x) => x.n === t.n);
      if (r !== undefined) r.elapsedMs = t.elapsedMs;
    }
    conclude(result, plan, abort.aborted, error);
    result.endedAt = new Date().toISOString();
    if (stack !== undefined) io.progress(`removing run ${runId}`);
    await stack?.stop();
  }
  return { result, error };
}

const IDLE_POLL_MS = 2_000;
/**
 * A backlog that has not moved (queue sizes, in-flight and sent counters) for this long is stuck — a batch
 * a backend keeps refusing, retried until the exporter's max_elapsed_time: a trial's drain ends there, and
 * before the next trial a stack this search booted is re-created rather than waited on for minutes.
 */
export const STALL_MS = 20_000;

/** Why the stack was not idle when a trial was due: still moving at the timeout, or stuck. */
interface NotIdle {
  stalled: boolean;
  what: string;
  waitedMs: number;
}

/**
 * Waits until every collector's sending queues and in-flight requests are empty (two readings in a row),
 * at most `timeoutMs`, and no longer than STALL_MS once nothing moves. Returns what was still queued when it
 * gave up.
 */
async function waitIdle(
  stack: StartedStack,
  signals: readonly Signal[],
  timeoutMs: number,
  abort: AbortSignal,
  io: StepIo,
): Promise<NotIdle | undefined> {
  const urls = stack
    .endpoints()
    .collectors.flatMap((c) => (c.metricsUrl === undefined ? [] : [{ name: c.name, url: c.metricsUrl }]));
  if (urls.length === 0) return undefined;
  const start = Date.now();
  let quiet = 0;
  let announced = false;
  let lastMove: { key: string; at: number } | undefined;
  for (;;) {
    const readings = await Promise.all(
      urls.map(async (c) => {
        const samples = await scrape(c.url).catch(() => undefined);
        if (samples === undefined) return { name: c.name, queued: 0, sent: '' };
        const counters = signals.map((s) => collectorCounters(samples, s));
        return {
          name: c.name,
          queued: counters.reduce((n, k) => n + k.queueSize + k.inFlight, 0),
          sent: counters.map((k) => k.exporterSent + k.exporterSendFailed).join(','),
        };
      }),
    );
    const busy = readings.filter((r) => r.queued > 0);
    quiet = busy.length === 0 ? quiet + 1 : 0;
    if (quiet >= 2) return undefined;
    const what = busy.map((r) => `${r.name}: ${r.queued} batches queued or in flight`).join(', ');
    if (busy.length > 0 && !announced) {
      io.progress(`waiting for the stack to be idle before the next trial (${what})`);
      announced = true;
    }
    const now = Date.now();
    const key = JSON.stringify(readings);
    if (lastMove?.key !== key) lastMove = { key, at: now };
    const stalled = busy.length > 0 && now - lastMove.at >= STALL_MS;
    if (stalled || now - start >= timeoutMs) return { stalled, what, waitedMs: now - start };
    await sleep(IDLE_POLL_MS, undefined, { signal: abort });
  }
}

/** The collectors' export failures logged since `sinceMs`, in words: why a trial's items did not leave. */
async function collectorTrouble(stack: StartedStack, sinceMs: number): Promise<string[]> {
  const out: string[] = [];
  for (const c of stack.endpoints().collectors) {
    const lines = await stack.logs(c.name).catch(() => [] as string[]);
    for (const f of exportFailuresOf(c.name, lines, sinceMs).slice(0, 3))
      out.push(
        `${c.name} → ${f.exporter}: ${f.cause.summary} (${f.count} ${f.outcome === 'retrying' ? 'failed attempts, retried' : f.outcome === 'given-up' ? `batches given up${f.droppedItems > 0 ? `, ${f.droppedItems} items` : ''}` : 'requests refused to the client'})`,
      );
  }
  return out;
}

function trialStepPlan(plan: CapacityPlan, rateRps: number, durationMs: number): StepPlan {
  const soak: SoakOptions = {
    ...plan.soak,
    rateRps,
    durationMs,
    maxLoss: { kind: 'items', value: 0 },
    minAchievedRatio: plan.options.slo.achieved,
    maxLatencyP99Ms: plan.options.slo.p99Ms,
    verifySample: undefined,
    chaos: undefined,
    chaosFile: undefined,
  };
  return {
    load: planLoad(soak),
    faults: [],
    drainTimeoutMs: plan.options.trialDrainMs,
    drainStallMs: STALL_MS,
    verifySample: undefined,
    canaryIntervalMs: soak.canaryIntervalMs,
    canaryTimeoutMs: soak.canaryTimeoutMs,
    collectorLabel: plan.stack.topology.name,
    // Several readings even in a 10 s trial: the cost fit and the limit finding need them.
    resourceIntervalMs: 2_000,
  };
}

function prefixed(io: StepIo, prefix: string): StepIo {
  return { progress: (m) => io.progress(`[${prefix}] ${m}`), images: io.images };
}

/** Headline, who limited, cost, sizing and exit code from the bounds and trials. */
export function conclude(result: CapacityResult, plan: CapacityPlan, interrupted: boolean, error: unknown): void {
  const o = plan.options;
  const ndr = result.ndr;
  const ndrCriterion: Criterion = { name: 'NDR', maxLossRatio: 0 };
  const upper = ndr?.upperTrial === undefined ? undefined : result.trials.find((t) => t.n === ndr.upperTrial);
  if (upper !== undefined) result.limitedBy = { who: upper.limitedBy, reasons: [failureOf(upper), ...upper.reasons] };
  // Costs over the trials that passed (below the knee), by rate.
  const passing = result.trials.filter((t) => passes(t, ndrCriterion) && Object.keys(t.containers).length > 0);
  result.cost = componentCosts(
    passing.map((t) => ({
      rateRps: t.rateRps,
      containers: Object.fromEntries(
        Object.entries(t.containers).map(([k, u]) => [
          k,
          {
            samples: 1,
            cpuMeanPct: u.cpuMeanPct,
            cpuMaxPct: u.cpuMaxPct,
            memoryMeanMiB: u.memoryMeanMiB,
            memoryMaxMiB: u.memoryMaxMiB,
          },
        ]),
      ),
    })),
  );
  result.ingest = ingestCosts(
    result.trials.filter((t) => passes(t, ndrCriterion)).map((t) => ({ rateRps: t.rateRps, ingest: t.ingest })),
  );
  if (o.forRps !== undefined && ndr?.lowerRps !== undefined) {
    result.sizing = sizeFor({
      ingest: result.ingest,
      targetRps: o.forRps,
      headroom: o.headroom,
      kneeRps: ndr.lowerRps,
      shares: result.plan.shares,
      costs: result.cost,
      fittedUpToRps: Math.max(0, ...passing.map((t) => t.rateRps)),
      tailSampling: plan.stack.topology.capabilities.tailSampling,
    });
  }
  result.headline = headlineOf(result);
  if (interrupted) {
    result.verdict = { status: 'interrupted', exitCode: 130, reasons: ['interrupted: the trials so far are reported'] };
  } else if (error !== undefined) {
    result.verdict = {
      status: 'error',
      exitCode: error instanceof HarnessError ? error.exitCode : 1,
      reasons: [error instanceof Error ? error.message : JSON.stringify(error)],
    };
  } else if (ndr === undefined || ndr.kind === 'unfinished') {
    result.verdict = { status: 'unfinished', exitCode: 3, reasons: [ndr?.note ?? 'no search ran'] };
  } else if (ndr.kind === 'below-range') {
    result.verdict = { status: 'below-range', exitCode: 3, reasons: [ndr.note ?? 'the stack fails at the lower end'] };
  } else if (ndr.kind === 'above-range') {
    result.verdict = { status: 'above-range', exitCode: 0, reasons: [ndr.note ?? ''] };
  } else {
    result.verdict = { status: 'found', exitCode: 0, reasons: [] };
  }
}

export function headlineOf(result: Pick<CapacityResult, 'ndr' | 'limitedBy'> & { trials?: TrialRecord[] }): string {
  const ndr = result.ndr;
  if (ndr === undefined) {
    const ndrCriterion: Criterion = { name: 'NDR', maxLossRatio: 0 };
    const trials = result.trials ?? [];
    const passed = trials.filter((t) => passes(t, ndrCriterion)).map((t) => t.rateRps);
    const failed = trials.filter((t) => !passes(t, ndrCriterion)).map((t) => t.rateRps);
    if (trials.length === 0) return 'no knee: the search did not run';
    return `no knee: the search stopped after ${trials.length} trials (highest pass ${passed.length > 0 ? `${Math.max(...passed)} items/s` : '—'}, lowest failure ${failed.length > 0 ? `${Math.min(...failed)} items/s` : '—'}; the lower end was not confirmed)`;
  }
  const who = result.limitedBy;
  const limiter =
    who.who === 'machine'
      ? 'set by this machine, not the stack (the stack and the generator share its cores)'
      : who.who === 'generator'
        ? 'set by the load generator, not the stack'
        : who.who === 'stack'
          ? `limited by the stack${who.reasons[1] !== undefined ? `: ${who.reasons[1]}` : ''}`
          : 'no limit found';
  switch (ndr.kind) {
    case 'interval':
      return `NDR ∈ [${ndr.lowerRps}, ${ndr.upperRps}] items/s (width ${((ndr.relativeWidth ?? 0) * 100).toFixed(1)} %), ${limiter}`;
    case 'above-range':
      return `NDR ≥ ${ndr.lowerRps} items/s: ${ndr.note ?? ''}`;
    case 'below-range':
      return `NDR < ${ndr.upperRps} items/s: ${ndr.note ?? ''}${who.who === 'machine' || who.who === 'generator' ? ` (${limiter})` : ''}`;
    case 'unfinished':
      return `NDR unfinished${ndr.lowerRps !== undefined ? `: at least ${ndr.lowerRps} items/s passed a short trial` : ''} (${ndr.note ?? ''})`;
  }
}
