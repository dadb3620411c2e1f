import type { MetricShape, MetricTimeline } from '../../generators/index.js';
import type { Ledger, LedgerEntry, Rejection, SeqRange, Signal } from '../load/ledger.js';
import { firstEndingAfter } from '../load/seq-ranges.js';
import type { Clock } from '../time/clock.js';
import type { TraceSampling } from './sampling/tail-sampling.js';

/** What the pipeline acknowledged of one signal: the items a backend must hold after the drain. */
export interface Expectation {
  signal: Signal;
  runId: string;
  serviceName: string;
  /** Items per sequence number (spans per trace; 1 otherwise). */
  itemsPerSeq: number;
  /** Sorted seq ranges the pipeline acknowledged. */
  acknowledged: SeqRange[];
  /** Sorted seq ranges sent but not acknowledged (refused, failed): found ones are reported, never counted. */
  unacknowledged: SeqRange[];
  /** Acknowledged batches the pipeline declared partly rejected. */
  rejections: Rejection[];
  /** Unix-ms bounds within which the items of seqs [from, to) were built and stamped (query windows). */
  sentBetween(from: number, to: number): { fromMs: number; toMs: number } | undefined;
}

export interface TraceExpectation extends Expectation {
  spansPerTrace: number;
  /** Sampling between acknowledgement and the backend (tail sampling in the collectors); none when absent. */
  sampling?: TraceSampling;
}

/**
 * Whether a missing span of trace `seq` is loss: always without sampling; for a trace predicted kept when
 * the sampling is predicted; only for a trace the backend holds part of when it cannot be predicted (a
 * sampler keeps or drops whole traces, so a partial trace is loss either way).
 */
export function missingIsLoss(exp: TraceExpectation): (seq: number, foundAny: boolean) => boolean {
  const s = exp.sampling;
  if (s === undefined || s.kind === 'none') return () => true;
  if (s.kind === 'predict') return (seq) => s.keep(seq);
  return (_seq, foundAny) => foundAny;
}

export interface LogExpectation extends Expectation {
  seqBlockSize: number;
}

export interface MetricExpectation extends Expectation {
  shape: MetricShape;
  timeline: MetricTimeline;
}

/** How a verification runs: progress, pacing, and the opt-in trace sample. */
export interface VerifyContext {
  progress: (message: string) => void;
  clock?: Clock;
  /** Check only a uniform sample of this many traces (explicit opt-in; undefined: every trace). */
  traceSample?: number;
  /** Longest a request of the run could take: items are stamped at most this long before their answer. */
  requestTimeoutMs: number;
  /**
   * The backend was restarted with no local state and reads its object store alone (`--verify-from-store`):
   * cross-checks through its in-memory paths (Tempo's metrics-generator) do not apply.
   */
  storeOnly?: boolean;
}

/**
 * The expectation of `signal` from a ledger. `loadStartMs` is the Unix time the ledger's `atMs` count from;
 * an item is stamped when its batch is built, at most `requestTimeoutMs` before the batch's answer.
 */
export function expectationOf(
  ledger: Ledger,
  signal: Signal,
  identity: { runId: string; serviceName: string },
  loadStartMs: number,
  requestTimeoutMs: number,
): Expectation {
  const unacknowledged = [...ledger.ranges(signal, 'refused'), ...ledger.ranges(signal, 'failed')].sort(
    (a, b) => a.first - b.first,
  );
  const sent = [...ledger.entriesOf(signal)].filter((e) => e.outcome !== 'dropped').sort((a, b) => a.first - b.first);
  return {
    signal,
    ...identity,
    itemsPerSeq: ledger.itemsPer(signal),
    acknowledged: ledger.ranges(signal, 'acknowledged'),
    unacknowledged,
    rejections: ledger.rejections(signal),
    sentBetween: (from, to) => sentWindow(sent, from, to, loadStartMs, requestTimeoutMs),
  };
}

/** Answer-time bounds of the entries overlapping [from, to), widened by the request timeout. */
function sentWindow(
  sorted: readonly LedgerEntry[],
  from: number,
  to: number,
  loadStartMs: number,
  requestTimeoutMs: number,
): { fromMs: number; toMs: number } | undefined {
  let min = Infinity;
  let max = -Infinity;
  for (let i = firstEndingAfter(sorted, from); i < sorted.length; i++) {
    const e = sorted[i]!;
    if (e.first >= to) break;
    min = Math.min(min, e.atMs);
    max = Math.max(max, e.atMs);
  }
  if (min === Infinity) return undefined;
  return { fromMs: loadStartMs + min - requestTimeoutMs, toMs: loadStartMs + max };
}
