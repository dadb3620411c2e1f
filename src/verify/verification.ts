import type { SeqRange, Signal } from '../load/ledger.js';
import type { LossEvidence } from './loss-evidence.js';

/** A verifier's verdict; a value, never an exception (exceptions are for bugs and broken infrastructure). */
export type VerifierOutcome =
  | { status: 'pass' }
  | { status: 'fail'; expected: number; actual: number; reason: string }
  | { status: 'inconclusive'; reason: string };

/** When a verifier checked a sample instead of every item (an explicit opt-in: `--verify-sample`). */
export interface SampleBound {
  population: number;
  sampleSize: number;
  missingInSample: number;
  /** Estimated lost items over the whole population. */
  estimatedLost: number;
  /** 95 % upper bound of the lost fraction (Wilson score; k = 0 gives about 3/n). */
  lostFractionUpper95: number;
  /** lostFractionUpper95 × expected items: the most the population can have lost, at 95 % confidence. */
  lostUpper95: number;
}

/**
 * How duplicates were (or could not be) observed. A backend that collapses duplicates cannot show one in
 * a query; its ingest counters can still show data delivered more than once. `null` is "not observable",
 * never 0.
 */
export interface DuplicateFindings {
  /** Items of the run found more than once in query answers; null when the backend's queries cannot show one. */
  queryVisible: number | null;
  /** How they were counted, or why they cannot be. */
  queryVisibleNote: string;
  /**
   * Items the backend received beyond what the pipeline counted as sent to it during the run (its ingest
   * counter minus the exporters' sent counter): deliveries of the same data more than once, e.g. a batch
   * retried after a timed-out attempt that had arrived. All traffic in the window, not only this run's.
   * null when a counter could not be read.
   */
  delivered: number | null;
  /** When `delivered` is null because only an upper bound is known (a collector restarted): that bound. */
  deliveredAtMost?: number;
  deliveredNote: string;
  /**
   * Items read again from a queue between collectors (Kafka): what the consumers accepted beyond what the
   * producers wrote, counters joined across restarts — at-least-once redelivery, which the exporters then
   * send (and count) again, so `delivered` cannot see it. Absent where nothing queues between collectors.
   */
  redelivered?: { value: number; note: string };
  /** Sequence ranges holding query-visible duplicates (traces: trace seqs). */
  ranges: SeqRange[];
}

/** A second, independent reading of the same quantity; disagreement makes the verdict inconclusive. */
export interface CrossCheck {
  method: string;
  /** What the cross-check read (null: it could not be read, with `note`). */
  value: number | null;
  /** The figure of the primary method it is compared with. */
  compared: number;
  agrees: boolean | null;
  note: string;
}

/**
 * Traces a sampler stood between acknowledgement and the backend: what its predicted decisions were and
 * how the backend agreed. Loss counts only traces predicted kept.
 */
export interface SamplingAccount {
  /** The prediction used, e.g. `tail_sampling: errors (status_code), …`; null when it cannot be predicted. */
  oracle: string | null;
  /** Why absent traces were not counted as lost, when `oracle` is null. */
  note: string;
  /** Acknowledged traces predicted kept / dropped (checked: all of them, or the sample). */
  predictedKept: number;
  predictedDropped: number;
  /** Predicted-dropped traces the backend holds nonetheless (a sampler or oracle disagreement), and their spans. */
  keptUnpredicted: number;
  keptUnpredictedSpans: number;
  keptUnpredictedRanges: SeqRange[];
  /** With no prediction: acknowledged traces absent, which could be sampled out or lost. */
  absentUndecided: number;
}

/** What one backend holds of one signal, compared with what the pipeline acknowledged. */
export interface SignalVerification {
  signal: Signal;
  backend: string;
  /** How it was counted, e.g. 'trace by id, every trace' or 'LogQL count_over_time by seq block'. */
  method: string;
  /** Items acknowledged by the pipeline (the ones that must arrive). */
  expected: number;
  /** Acknowledged items seen in the backend (counted, not derived). */
  found: number;
  /**
   * Silent loss: acknowledged items absent after drain, less those the pipeline declared rejected in the
   * same batches (`rejectedAbsent`). Exact unless `sample` is set, or `evidence.lowerBound` (then the least
   * that was lost — `evidence.lostAtLeast` — plus what is queued behind an error no retry fixes —
   * `evidence.doomed`: the drain ended with items still queued); when the outcome is inconclusive, the
   * absent items nothing decided.
   */
  lost: number;
  /** Items of acknowledged batches the pipeline declared rejected (OTLP partial success). */
  rejected: number;
  /** Absent items covered by those declarations: loss the pipeline declared, apart from silent loss. */
  rejectedAbsent: number;
  duplicates: DuplicateFindings;
  /** Items found that were never acknowledged (refused, failed or timed-out requests that got through). */
  unacknowledgedFound: number;
  /** Absent acknowledged items by sequence range (traces: trace seqs; metrics: data point seqs; logs: record seqs). */
  lostRanges: SeqRange[];
  /** Traces only: missing spans per lost trace seq, and extra spans per duplicated trace seq. */
  itemsBySeq?: { lost: Record<string, number>; duplicates: Record<string, number> };
  /** Absent items named individually (up to a limit), e.g. `trace 89401d94…0007 span 3`. */
  lostExamples: string[];
  sample?: SampleBound;
  /** Traces only, when a sampler decided what reaches the backend. */
  sampling?: SamplingAccount;
  crossCheck?: CrossCheck;
  /** What the collectors' counters, logs and configuration and the backend's discard counters say of the absent items. */
  evidence?: LossEvidence;
  /** Extra exact figures (e.g. Loki's whole-run count). */
  figures: Record<string, number>;
  /** `--verify-from-store`: the same items verified again once the backend read them from object storage alone. */
  fromStore?: StoreVerification;
  outcome: VerifierOutcome;
  notes: string[];
}

/** A signal verified again after its backend flushed to object storage and restarted with no local state. */
export interface StoreVerification {
  /** The backend's service and bucket. */
  service: string;
  bucket: string;
  /** Acknowledged items found in the store. */
  found: number;
  /** Items found before the flush and absent from the store (the loss the first verification could not see). */
  lost: number;
  lostRanges: SeqRange[];
  /** Seconds from the flush request to the restarted backend answering. */
  restartSeconds: number;
  /** What was done to the backend, in order. */
  steps: string[];
  /** Bytes the store received into the bucket over the handover (its own counter), when it counts them. */
  bucketBytes?: number;
  outcome: VerifierOutcome;
}

/**
 * Lost items in a word: exact (`n`), a lower bound with what waits behind an error no retry fixes
 * (`≥n +m queued`), estimated from a sample (`n~`), or undecided (`? (n absent)`).
 */
export function lostCell(v: SignalVerification): string {
  const e = v.evidence;
  if (v.outcome.status === 'inconclusive') return e === undefined ? '?' : `? (${e.absent} absent)`;
  if (v.sample !== undefined) return `${v.lost}~`;
  if (e?.lowerBound === true && v.outcome.status === 'fail')
    return `≥${e.lostAtLeast ?? 0}${e.doomed > 0 ? ` +${e.doomed} queued` : ''}`;
  return String(v.lost);
}

/** Pass when nothing acknowledged is absent; otherwise fail naming the count. */
export function verdict(expected: number, absent: number, what: string): VerifierOutcome {
  return absent === 0
    ? { status: 'pass' }
    : {
        status: 'fail',
        expected,
        actual: expected - absent,
        reason: `${absent} ${what} acknowledged and absent after drain`,
      };
}

/** Duplicates of a backend whose queries cannot show them (delivered counts filled in later). */
export function notQueryVisible(reason: string): DuplicateFindings {
  return {
    queryVisible: null,
    queryVisibleNote: `not observable: ${reason}`,
    delivered: null,
    deliveredNote: 'not read',
    ranges: [],
  };
}

/** An inconclusive verification (nothing could be counted), with the reason. */
export function inconclusiveVerification(
  signal: Signal,
  backend: string,
  expected: number,
  reason: string,
): SignalVerification {
  return {
    signal,
    backend,
    method: 'not verified',
    expected,
    found: 0,
    lost: 0,
    rejected: 0,
    rejectedAbsent: 0,
    duplicates: notQueryVisible('not verified'),
    unacknowledgedFound: 0,
    lostRanges: [],
    lostExamples: [],
    figures: {},
    outcome: { status: 'inconclusive', reason },
    notes: [],
  };
}

/** Wilson score upper bound (95 %) of a proportion with k successes in n trials. */
export function wilsonUpper95(k: number, n: number): number {
  if (n === 0) return 1;
  const z = 1.959963984540054;
  const p = k / n;
  const denom = 1 + (z * z) / n;
  const centre = p + (z * z) / (2 * n);
  const margin = z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return Math.min(1, (centre + margin) / denom);
}

/** `n` distinct indices from [0, size), uniformly, reproducibly from `seed` (Floyd's algorithm). */
export function uniformSample(size: number, n: number, seed: number): number[] {
  if (n >= size) return Array.from({ length: size }, (_, i) => i);
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
  const chosen = new Set<number>();
  for (let j = size - n; j < size; j++) {
    const t = Math.floor(next() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((a, b) => a - b);
}

/** Runs `fn` over `items` with at most `concurrency` at once; results in input order. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
