import { count as f } from '../format.js';
import { drainOf, type DrainReport } from '../drain/drain.js';
import type { ExportFailure } from '../observe/export-failures.js';
import type { Ledger, SeqRange, Signal } from '../load/ledger.js';
import { metricTimelineOf } from '../load/load-spec.js';
import { countInRange } from '../load/seq-ranges.js';
import { SOAK_SERVICE_NAME } from '../load/run-identity.js';
import { accountDelivered, accountDrain, accountRejections } from '../verify/accounting.js';
import type { SignalBackend } from '../verify/backends/backend.js';
import { expectationOf, type Expectation, type VerifyContext } from '../verify/expectation.js';
import type { TraceSampling } from '../verify/sampling/tail-sampling.js';
import {
  causesOf,
  evidenceOf,
  type ExporterSetup,
  type LossCause,
  type LossEvidence,
  type PipelineCounters,
} from '../verify/loss-evidence.js';
import { inconclusiveVerification, lostCell, type SignalVerification } from '../verify/verification.js';

/** What the run holds besides the backends' answers: the pipeline's counters, logs and configuration. */
export interface StepEvidence {
  /** The collectors' counters of a signal (what was given up, at most what is still held). */
  pipeline(signal: Signal): PipelineCounters | undefined;
  /** The collectors' export failures of a signal, as logged. */
  failures(signal: Signal): ExportFailure[];
  /** The exporters of the collectors, as configured. */
  exporters: readonly ExporterSetup[];
  /** A backend's counter deltas over the step (its discard counters). */
  backendCounters(backend: string): Record<string, number> | undefined;
  /** Evidence a run kept (verify --run-id): used when the counters are no longer there to read. */
  earlier?(signal: Signal): LossEvidence | undefined;
  /** What the stack knows of absent items before its pipeline took them (lines rotated away unread). */
  sourceCauses?(signal: Signal, lost: readonly SeqRange[]): LossCause[];
  /** Collectors that send to another collector rather than to the backends (node agents, gateways). */
  forwarders?: ReadonlySet<string>;
}
import type { StepPlan } from './step-types.js';

/**
 * Verifies each signal in its backend: the expectation from the ledger, the backend module's exact count,
 * then what the pipeline declared rejected, whether the drain let absence be called loss, and what was
 * delivered more than once. A query that fails makes that signal inconclusive (exit 4), not the others.
 */
export async function verifyStep(input: {
  runId: string;
  ledger: Ledger;
  signals: readonly Signal[];
  backends: ReadonlyMap<Signal, SignalBackend>;
  plan: StepPlan;
  loadStartMs: number;
  drain: DrainReport | undefined;
  /** Tail sampling between acknowledgement and the trace backend (none when nothing samples). */
  sampling?: TraceSampling;
  sentBy: (signal: Signal) => { value: number; describe: string; restarts?: number; gapMs?: number } | undefined;
  /** Why the sent counters of a signal are no census (e.g. collector pods came and went), when they are not. */
  sentMissing?: (signal: Signal) => string | undefined;
  receivedBy: (
    signal: Signal,
  ) => { value: number; describe: string; restarts?: number; unreliable?: string } | undefined;
  evidence?: StepEvidence;
  /** Items read again from a queue between collectors (Kafka), when there is one. */
  redeliveredBy?: (signal: Signal) => { value: number; note: string } | undefined;
  /** A store before the signal's backend holding the same items (Prometheus before Mimir), and the hop between. */
  upstream?: (signal: Signal) => { backend: SignalBackend; hop: string } | undefined;
  progress: (message: string) => void;
  /** The backends read their object store alone (`--verify-from-store`). */
  storeOnly?: boolean;
}): Promise<Partial<Record<Signal, SignalVerification>>> {
  const out: Partial<Record<Signal, SignalVerification>> = {};
  const { load } = input.plan;
  const context: VerifyContext = {
    progress: input.progress,
    requestTimeoutMs: load.requestTimeoutMs,
    ...(input.plan.verifySample === undefined ? {} : { traceSample: input.plan.verifySample }),
    ...(input.storeOnly === true ? { storeOnly: true } : {}),
  };
  for (const signal of input.signals) {
    const base = expectationOf(
      input.ledger,
      signal,
      { runId: input.runId, serviceName: SOAK_SERVICE_NAME },
      input.loadStartMs,
      load.requestTimeoutMs,
    );
    const expected = input.ledger.counts(signal).acknowledged;
    const backend = input.backends.get(signal);
    if (backend === undefined) {
      out[signal] = inconclusiveVerification(
        signal,
        'none',
        expected,
        `the stack has no ${signal} backend to verify against`,
      );
      continue;
    }
    const exp: Expectation & Record<string, unknown> =
      signal === 'traces'
        ? { ...base, spansPerTrace: load.traceShape.spansPerTrace, sampling: input.sampling ?? { kind: 'none' } }
        : signal === 'logs'
          ? { ...base, seqBlockSize: load.logShape.seqBlockSize }
          : { ...base, shape: load.metricShape, timeline: metricTimelineOf(load, input.loadStartMs) };
    input.progress(`verifying ${signal} in ${backend.name}`);
    let v: SignalVerification;
    try {
      v = await backend.verify(exp, context);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      input.progress(`${signal}: verification inconclusive: ${reason}`);
      out[signal] = inconclusiveVerification(signal, backend.name, expected, reason);
      continue;
    }
    v = accountRejections(v, base.rejections);
    const upstream = input.upstream?.(signal);
    const before =
      upstream === undefined || v.lost === 0 ? [] : await upstreamCauses(v, upstream, (b) => b.verify(exp, context));
    const drain = input.drain === undefined ? undefined : drainOf(input.drain, signal);
    v = accountDrain(
      v,
      drain,
      drain === undefined ? undefined : evidenceFor(v, signal, backend.name, drain, input.evidence, before),
    );
    v = accountDelivered(
      v,
      input.receivedBy(signal),
      input.sentBy(signal),
      backend.endpoint.metrics === undefined
        ? `${backend.name}'s own metrics are not reachable (no metrics endpoint given), so what it received cannot be read`
        : backend.receivedMissing,
      input.sentMissing?.(signal),
    );
    const redelivered = input.redeliveredBy?.(signal);
    if (redelivered !== undefined) v = { ...v, duplicates: { ...v.duplicates, redelivered } };
    input.progress(
      `${signal}: ${v.found} of ${v.expected} found in ${backend.name}, lost ${lostCell(v)}${v.rejectedAbsent > 0 ? `, ${v.rejectedAbsent} declared rejected` : ''} (${v.outcome.status})`,
    );
    out[signal] = v;
  }
  return out;
}

/** The evidence of one signal's absent items (see src/verify/loss-evidence.ts). */
function evidenceFor(
  v: SignalVerification,
  signal: Signal,
  backend: string,
  drain: ReturnType<typeof drainOf>,
  step: StepEvidence | undefined,
  upstream: readonly LossCause[] = [],
): LossEvidence | undefined {
  if (step === undefined || v.sample !== undefined) return undefined;
  const earlier = step.earlier?.(signal);
  const counters =
    step.pipeline(signal) ??
    (earlier === undefined
      ? undefined
      : {
          givenUp: earlier.givenUp ?? 0,
          pendingAtMost: earlier.pendingAtMost ?? undefined,
          pendingUnknown: earlier.pendingHow,
          exporters: [],
        });
  const evidence = evidenceOf({
    absent: v.lost + v.rejectedAbsent,
    drained: drain.drained,
    blocked: drain.blocked,
    stillQueued: drain.stillQueued,
    unobservable: drain.unobservable,
    counters,
    causes: [],
  });
  const causes = causesOf({
    signal,
    backend,
    failures: step.failures(signal),
    counters,
    exporters: step.exporters,
    backendCounters: step.backendCounters(backend),
    doomed: evidence.doomed,
    ...(step.forwarders === undefined ? {} : { forwarders: step.forwarders }),
  });
  const source = step.sourceCauses?.(signal, v.lostRanges) ?? [];
  return {
    ...evidence,
    causes: [...upstream, ...source, ...(causes.length > 0 ? causes : (earlier?.causes ?? []))],
  };
}

/**
 * Where the backend lacks items, which of them a store before it on the path holds (Prometheus before Mimir):
 * the same census there, item by item. Those it holds were lost on the hop between the two; those it lacks
 * too, before it. A census that fails says so in the cause instead of a count.
 */
export async function upstreamCauses(
  v: SignalVerification,
  upstream: { backend: SignalBackend; hop: string },
  verify: (backend: SignalBackend) => Promise<SignalVerification>,
): Promise<LossCause[]> {
  const name = upstream.backend.name;
  let u: SignalVerification;
  try {
    u = await verify(upstream.backend);
  } catch (err) {
    return [
      {
        hop: upstream.hop,
        reason: `which of the ${f(v.lost)} absent items reached ${name} is not known: its census failed (${err instanceof Error ? err.message : String(err)})`,
        retryable: false,
      },
    ];
  }
  const alsoAbsent = v.lostRanges.reduce((n, r) => n + countInRange(u.lostRanges, r.first, r.first + r.count), 0);
  const held = v.lost - alsoAbsent;
  const causes: LossCause[] = [];
  if (held > 0)
    causes.push({
      hop: upstream.hop,
      reason: `${f(held)} ${v.signal === 'metrics' ? 'samples' : 'items'} stored in ${name} and absent from ${v.backend}: lost between them (${name}'s own census, item by item)`,
      retryable: false,
    });
  if (alsoAbsent > 0)
    causes.push({
      hop: `before ${name}`,
      reason: `${f(alsoAbsent)} ${v.signal === 'metrics' ? 'samples' : 'items'} absent from ${name} too: lost before it stored them`,
      retryable: false,
    });
  return causes;
}
