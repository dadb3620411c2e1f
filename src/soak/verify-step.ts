import type { DrainReport } from '../drain/drain.js';
import type { Ledger, Signal } from '../load/ledger.js';
import { metricTimelineOf } from '../load/load-spec.js';
import { SOAK_SERVICE_NAME } from '../load/run-identity.js';
import { accountDelivered, accountDrain, accountRejections } from '../verify/accounting.js';
import type { SignalBackend } from '../verify/backends/backend.js';
import { expectationOf, type Expectation, type VerifyContext } from '../verify/expectation.js';
import type { TraceSampling } from '../verify/sampling/tail-sampling.js';
import { inconclusiveVerification, type SignalVerification } from '../verify/verification.js';
import type { StepPlan } from './load-step.js';

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
  sentBy: (signal: Signal) => { value: number; describe: string } | undefined;
  /** Why the sent counters are no census (e.g. collector pods came and went), when they are not. */
  sentMissing?: () => string | undefined;
  receivedBy: (signal: Signal) => { value: number; describe: string } | undefined;
  progress: (message: string) => void;
}): Promise<Partial<Record<Signal, SignalVerification>>> {
  const out: Partial<Record<Signal, SignalVerification>> = {};
  const { load } = input.plan;
  const context: VerifyContext = {
    progress: input.progress,
    requestTimeoutMs: load.requestTimeoutMs,
    ...(input.plan.verifySample === undefined ? {} : { traceSample: input.plan.verifySample }),
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
    v = accountDrain(v, input.drain);
    v = accountDelivered(
      v,
      input.receivedBy(signal),
      input.sentBy(signal),
      backend.receivedMissing,
      input.sentMissing?.(),
    );
    input.progress(
      `${signal}: ${v.found} of ${v.expected} found in ${backend.name}, ${v.lost} lost${v.rejectedAbsent > 0 ? `, ${v.rejectedAbsent} declared rejected` : ''} (${v.outcome.status})`,
    );
    out[signal] = v;
  }
  return out;
}
