/** Signals the harness generates. */
export const SIGNALS = ['traces', 'metrics', 'logs'] as const;
export type Signal = (typeof SIGNALS)[number];

/**
 * What happened to a batch:
 *  - acknowledged: the pipeline answered success (it must now deliver these items);
 *  - refused: a retryable answer (HTTP 429/502/503/504, gRPC UNAVAILABLE…): backpressure, not loss;
 *  - failed: any other answer or no answer (connection refused, timeout, 4xx…): not accepted, not loss;
 *  - dropped: never sent, the generator could not keep up (in-flight limit).
 */
export type Outcome = 'acknowledged' | 'refused' | 'failed' | 'dropped';
export const OUTCOMES: readonly Outcome[] = ['acknowledged', 'refused', 'failed', 'dropped'];

/** Half-open range of sequence numbers [first, first + count). */
export interface SeqRange {
  first: number;
  count: number;
}

export interface LedgerEntry extends SeqRange {
  outcome: Outcome;
  /** HTTP status, gRPC code name or error code of the answer. */
  answer?: string;
  /** ms into the run when the answer came. */
  atMs: number;
  /**
   * Items of an acknowledged batch the pipeline declared rejected (OTLP partial success). The answer does
   * not say which ones: up to this many of the batch's items may be absent without being silent loss.
   */
  rejected?: number;
  /** The partial success's error_message. */
  rejectMessage?: string;
  /** A refusal's requested delay before a retry (gRPC RetryInfo, HTTP Retry-After), ms. */
  retryAfterMs?: number;
}

/**
 * Item counts per outcome; attempted = sent to the pipeline, offered = attempted + dropped; rejected = items
 * of acknowledged batches the pipeline declared rejected (partial success), a part of `acknowledged`.
 */
export type OutcomeCounts = Record<Outcome, number> & { attempted: number; offered: number; rejected: number };

/** An acknowledged batch with a partial success: its seq range and the items declared rejected. */
export interface Rejection extends SeqRange {
  rejected: number;
  message: string;
}

/**
 * Per signal, what the generator offered and what the pipeline answered, by sequence range. Items per
 * sequence number: spans per trace for traces, 1 otherwise.
 */
export class Ledger {
  private readonly entries = new Map<Signal, LedgerEntry[]>();
  private readonly answers = new Map<Signal, Map<string, number>>();
  /** Units with an outcome but no sequence numbers (e.g. k6 iterations that never started). */
  private readonly unnumbered = new Map<Signal, Record<Outcome, number>>();
  /** Declared rejections not tied to one entry (an SDK export spanning several). */
  private readonly extraRejections = new Map<Signal, Rejection[]>();

  constructor(private readonly itemsPerSeq: Readonly<Record<Signal, number>>) {}

  record(signal: Signal, entry: LedgerEntry): void {
    let list = this.entries.get(signal);
    if (list === undefined) this.entries.set(signal, (list = []));
    list.push(entry);
    if (entry.answer !== undefined) {
      let byAnswer = this.answers.get(signal);
      if (byAnswer === undefined) this.answers.set(signal, (byAnswer = new Map<string, number>()));
      byAnswer.set(entry.answer, (byAnswer.get(entry.answer) ?? 0) + entry.count * this.itemsPerSeq[signal]);
    }
  }

  /** Records units that have an outcome but no sequence numbers (only counted, never verified). */
  recordUnnumbered(signal: Signal, outcome: Outcome, units: number): void {
    let u = this.unnumbered.get(signal);
    if (u === undefined) this.unnumbered.set(signal, (u = { acknowledged: 0, refused: 0, failed: 0, dropped: 0 }));
    u[outcome] += units;
    if (!this.entries.has(signal)) this.entries.set(signal, []);
  }

  signals(): Signal[] {
    return SIGNALS.filter((s) => this.entries.has(s));
  }

  /** Item counts per outcome; attempted = sent to the pipeline, offered = attempted + dropped. */
  counts(signal: Signal): OutcomeCounts {
    const counts: OutcomeCounts = {
      acknowledged: 0,
      refused: 0,
      failed: 0,
      dropped: 0,
      attempted: 0,
      offered: 0,
      rejected: 0,
    };
    const factor = this.itemsPerSeq[signal];
    for (const e of this.entries.get(signal) ?? []) {
      counts[e.outcome] += e.count * factor;
      counts.rejected += e.rejected ?? 0;
    }
    for (const r of this.extraRejections.get(signal) ?? []) counts.rejected += r.rejected;
    const u = this.unnumbered.get(signal);
    if (u !== undefined) for (const o of OUTCOMES) counts[o] += Math.round(u[o] * factor);
    counts.attempted = counts.acknowledged + counts.refused + counts.failed;
    counts.offered = counts.attempted + counts.dropped;
    return counts;
  }

  /** Items per answer (e.g. `200`, `503`, `ECONNREFUSED`). */
  answerCounts(signal: Signal): Record<string, number> {
    return Object.fromEntries(this.answers.get(signal) ?? []);
  }

  /** The retry delays refused batches asked for (gRPC RetryInfo, HTTP Retry-After); undefined when none did. */
  retryAfter(signal: Signal): { batches: number; minMs: number; maxMs: number } | undefined {
    // One pass: an overloaded hour can refuse hundreds of thousands of batches (too many to spread).
    let out: { batches: number; minMs: number; maxMs: number } | undefined;
    for (const e of this.entries.get(signal) ?? []) {
      if (e.retryAfterMs === undefined) continue;
      out ??= { batches: 0, minMs: e.retryAfterMs, maxMs: e.retryAfterMs };
      out.batches++;
      out.minMs = Math.min(out.minMs, e.retryAfterMs);
      out.maxMs = Math.max(out.maxMs, e.retryAfterMs);
    }
    return out;
  }

  /** Merged, sorted sequence ranges with the given outcome. */
  ranges(signal: Signal, outcome: Outcome): SeqRange[] {
    const list = (this.entries.get(signal) ?? [])
      .filter((e) => e.outcome === outcome)
      .map((e) => ({ first: e.first, count: e.count }))
      .sort((a, b) => a.first - b.first);
    return mergeRanges(list);
  }

  /** Records a declared rejection over a seq range whose entries were recorded one by one. */
  recordRejection(signal: Signal, rejection: Rejection): void {
    let list = this.extraRejections.get(signal);
    if (list === undefined) this.extraRejections.set(signal, (list = []));
    list.push(rejection);
  }

  /** Declared rejections recorded apart from entries (recordRejection). */
  rejectionsApart(signal: Signal): readonly Rejection[] {
    return this.extraRejections.get(signal) ?? [];
  }

  /** Acknowledged batches with declared rejections, sorted by first seq. */
  rejections(signal: Signal): Rejection[] {
    return [
      ...(this.entries.get(signal) ?? [])
        .filter((e) => e.outcome === 'acknowledged' && (e.rejected ?? 0) > 0)
        .map((e) => ({ first: e.first, count: e.count, rejected: e.rejected ?? 0, message: e.rejectMessage ?? '' })),
      ...(this.extraRejections.get(signal) ?? []),
    ].sort((a, b) => a.first - b.first);
  }

  itemsPer(signal: Signal): number {
    return this.itemsPerSeq[signal];
  }

  /** Every entry (for the report's id-range listing). */
  entriesOf(signal: Signal): readonly LedgerEntry[] {
    return this.entries.get(signal) ?? [];
  }
}

export function mergeRanges(sorted: readonly SeqRange[]): SeqRange[] {
  const out: SeqRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && last.first + last.count >= r.first) {
      last.count = Math.max(last.count, r.first + r.count - last.first);
    } else {
      out.push({ ...r });
    }
  }
  return out;
}

export function rangesSize(ranges: readonly SeqRange[]): number {
  return ranges.reduce((n, r) => n + r.count, 0);
}

/** Iterates the sequence numbers of ranges. */
export function* seqsOf(ranges: readonly SeqRange[]): Generator<number> {
  for (const r of ranges) for (let s = r.first; s < r.first + r.count; s++) yield s;
}

/** Compresses sorted sequence numbers into ranges. */
export function toRanges(sortedSeqs: readonly number[]): SeqRange[] {
  const out: SeqRange[] = [];
  for (const s of sortedSeqs) {
    const last = out[out.length - 1];
    if (last !== undefined && last.first + last.count === s) last.count++;
    else out.push({ first: s, count: 1 });
  }
  return out;
}
