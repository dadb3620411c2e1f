import type { LedgerEntry, Rejection, SeqRange, Signal } from '../load/ledger.js';
import type { SignalVerification } from '../verify/verification.js';
import type { ChaosEvent } from './chaos-runner.js';

export interface Recovery {
  /** Lowest acknowledged/offered ratio in a one-second bucket during the disruption. */
  minRatio: number;
  /** When the acknowledged rate was back to ≥ 95 % of offered for two seconds, ms into the load. */
  recoveredAtMs: number | undefined;
  /** recoveredAtMs − fault start, seconds; 0 when the rate never fell below 95 %. */
  seconds: number | undefined;
}

export interface Attribution {
  lost: number;
  duplicates: number;
  /** Absent items nothing decided (the verdict was inconclusive, or only a lower bound of loss is known). */
  absent?: number;
  /** Absent items the pipeline declared rejected in its answer (OTLP partial success): not silent loss. */
  rejected?: number;
  /** Acknowledgement times of the attributed lost items, ms relative to the fault's start. */
  ackFromMs: number | undefined;
  ackToMs: number | undefined;
}

export interface FaultAnalysis extends ChaosEvent {
  recovery: Partial<Record<Signal, Recovery>>;
  /** Largest collector sending-queue size from the fault's start to the next fault (or the end). */
  queuePeak: number | undefined;
  /** Queue back at its pre-fault size, seconds after the fault was lifted. */
  queueDrainSeconds: number | undefined;
  attributed: Partial<Record<Signal, Attribution>>;
  /** Why loss or duplicates happened, one sentence each. */
  explanations: string[];
}

export interface ChaosReport {
  variant: string;
  faults: FaultAnalysis[];
  /** Lost or duplicated items acknowledged away from every fault window. */
  unattributed: Partial<Record<Signal, { lost: number; duplicates: number; absent?: number; rejected?: number }>>;
}

export interface StackFacts {
  variant: string;
  /** The collector's batch processor timeout, or undefined when there is none (hardened). */
  batchTimeoutMs: number | undefined;
  /** The exporters' retry_on_failure max_elapsed_time. */
  retryMaxElapsedMs: number;
  /** Per signal, the first exporter of its pipeline whose queue is in memory (no file_storage), if any. */
  inMemoryExporter: Partial<Record<Signal, string>>;
  /** The role of the fault's target when it is a collector ('collector', 'gateway', 'processor'). */
  role?: string | undefined;
  /** The target's traces pipeline tail-samples, waiting this long before deciding. */
  decisionWaitMs?: number | undefined;
  /** The target reads its input from Kafka (a consumer group: uncommitted records are read again). */
  readsKafka?: boolean;
}

const BUCKET_MS = 1_000;
const RECOVERED_RATIO = 0.95;
/** Window around a fault in which an item's acknowledgement time ties its loss to the fault. */
const LOOKBACK_MS = 15_000;
const LOOKAHEAD_MS = 15_000;

/** A fault's analysis before anything is known of its effect (also the shape of an interrupted run's). */
export function unanalysed(e: ChaosEvent): FaultAnalysis {
  return { ...e, recovery: {}, queuePeak: undefined, queueDrainSeconds: undefined, attributed: {}, explanations: [] };
}

/** Items answered per one-second bucket, acknowledged and all (offered), from ledger answer times. */
export function rateSeries(
  entries: readonly LedgerEntry[],
  itemsPerSeq: number,
): { acked: number[]; offered: number[] } {
  const acked: number[] = [];
  const offered: number[] = [];
  for (const e of entries) {
    const b = Math.floor(e.atMs / BUCKET_MS);
    while (offered.length <= b) {
      offered.push(0);
      acked.push(0);
    }
    offered[b]! += e.count * itemsPerSeq;
    if (e.outcome === 'acknowledged') acked[b]! += e.count * itemsPerSeq;
  }
  return { acked, offered };
}

/** Time to recover after a fault: the acknowledged rate back to 95 % of what was offered. Pure. */
export function recoveryOf(series: { acked: number[]; offered: number[] }, startMs: number, endMs: number): Recovery {
  const first = Math.floor(startMs / BUCKET_MS);
  const last = Math.min(series.offered.length - 1, Math.floor(endMs / BUCKET_MS) + 10);
  const ratio = (b: number) => ((series.offered[b] ?? 0) === 0 ? 1 : (series.acked[b] ?? 0) / series.offered[b]!);
  let disruption: number | undefined;
  let minRatio = 1;
  for (let b = first; b <= last; b++) {
    minRatio = Math.min(minRatio, ratio(b));
    if (disruption === undefined && ratio(b) < RECOVERED_RATIO) disruption = b;
  }
  if (disruption === undefined) return { minRatio, recoveredAtMs: startMs, seconds: 0 };
  for (let b = disruption + 1; b + 1 < series.offered.length; b++) {
    if (ratio(b) >= RECOVERED_RATIO && ratio(b + 1) >= RECOVERED_RATIO) {
      const recoveredAtMs = b * BUCKET_MS;
      return { minRatio, recoveredAtMs, seconds: (recoveredAtMs - startMs) / 1000 };
    }
  }
  return { minRatio, recoveredAtMs: undefined, seconds: undefined };
}

/** Acknowledgement time of a sequence number (the entry holding it), or undefined. */
export function ackTimeOf(sortedAcked: readonly LedgerEntry[], seq: number): number | undefined {
  let lo = 0;
  let hi = sortedAcked.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const e = sortedAcked[mid]!;
    if (seq < e.first) hi = mid - 1;
    else if (seq >= e.first + e.count) lo = mid + 1;
    else return e.atMs;
  }
  return undefined;
}

function seqs(ranges: readonly SeqRange[]): number[] {
  return ranges.flatMap((r) => Array.from({ length: r.count }, (_, i) => r.first + i));
}

/** The fault whose window holds `atMs` (nearest start when several do), or -1. */
function faultAt(
  events: readonly ChaosEvent[],
  atMs: number,
  reaches: (e: ChaosEvent) => boolean = () => true,
): number {
  let best = -1;
  let bestDistance = Infinity;
  events.forEach((e, i) => {
    if (!reaches(e)) return;
    const start = e.startedAtMs ?? e.plannedAtMs;
    const end = e.readyAtMs ?? e.endedAtMs ?? start;
    if (atMs >= start - LOOKBACK_MS && atMs <= end + LOOKAHEAD_MS) {
      const d = Math.abs(atMs - start);
      if (d < bestDistance) {
        best = i;
        bestDistance = d;
      }
    }
  });
  return best;
}

const noun: Record<Signal, string> = { traces: 'spans', metrics: 'data points', logs: 'log records' };

/** When the attributed items were acknowledged, relative to the fault: " (acknowledged 0.4 s before the fault)". */
function ackWindow(a: Attribution): string {
  if (a.ackFromMs === undefined || a.ackToMs === undefined) return '';
  const at = (ms: number) => {
    const s = Math.abs(ms / 1000).toFixed(1);
    return s === '0.0' ? 'at' : ms < 0 ? `${s} s before` : `${s} s after`;
  };
  const from = at(a.ackFromMs);
  const to = at(a.ackToMs);
  return from === to ? ` (acknowledged ${from} the fault)` : ` (acknowledged from ${from} to ${to} the fault)`;
}

/** One sentence on why a fault cost what it cost. Pure. */
export function explain(e: ChaosEvent, signal: Signal, a: Attribution, facts: StackFacts): string[] {
  const out: string[] = [];
  const window = ackWindow(a);
  const collector = e.target === 'otelcol' || facts.role !== undefined;
  if (a.lost > 0) {
    const inMemory = facts.inMemoryExporter[signal];
    if (collector && e.action === 'kill' && signal === 'traces' && facts.decisionWaitMs !== undefined) {
      out.push(
        `${a.lost} ${noun[signal]} lost at the SIGKILL of ${e.target}${window}: its tail sampler held these traces for decision_wait (${facts.decisionWaitMs / 1000} s) and returns as soon as a trace is buffered, so ${facts.readsKafka === true ? 'their Kafka offsets were already committed' : 'they were already acknowledged'} — traces through a tail sampler are at-most-once across a crash.`,
      );
    } else if (
      collector &&
      !facts.readsKafka &&
      (e.action === 'kill' || e.action === 'restart') &&
      inMemory !== undefined
    ) {
      out.push(
        `${a.lost} ${noun[signal]} lost at the ${e.action}${window}: the ${inMemory} exporter has no persistent sending queue, its queue is in memory.`,
      );
    } else if (collector && e.action === 'kill' && facts.batchTimeoutMs !== undefined) {
      out.push(
        `${a.lost} ${noun[signal]} lost at the SIGKILL${window}: the batch processor acknowledges before ${facts.role === 'gateway' ? 'Kafka has the data' : 'the persistent queue sees the data'} and held it in memory (up to its ${facts.batchTimeoutMs / 1000} s timeout) when the process died.`,
      );
    } else if (
      !collector &&
      (e.action === 'outage' || e.action === 'partition' || e.action === 'pause') &&
      (e.endedAtMs ?? 0) - (e.startedAtMs ?? 0) >= facts.retryMaxElapsedMs
    ) {
      out.push(
        `${a.lost} ${noun[signal]} lost during the ${e.action} of ${e.target}${window}: it outlasted the exporter's retry max_elapsed_time (${facts.retryMaxElapsedMs / 1000} s), after which the collector drops the batch.`,
      );
    } else {
      out.push(`${a.lost} ${noun[signal]} acknowledged around the ${e.action} of ${e.target} are missing${window}.`);
    }
  }
  if ((a.absent ?? 0) > 0)
    out.push(
      `${a.absent} ${noun[signal]} acknowledged around the ${e.action} of ${e.target} are absent${window}, but the verdict could not call them lost (they may still have been queued): see the verification.`,
    );
  if ((a.rejected ?? 0) > 0)
    out.push(
      `${a.rejected} ${noun[signal]} around the ${e.action} of ${e.target} were declared rejected by the pipeline in its answers (OTLP partial success): the client was told.`,
    );
  if (a.duplicates > 0) {
    out.push(
      `${a.duplicates} ${noun[signal]} stored twice after the ${e.action} of ${e.target}: ${
        facts.readsKafka === true
          ? 'Kafka delivered again the records after the last offset it had committed (at-least-once delivery)'
          : collector
            ? 'the persistent queue re-sent batches whose export had completed but was not yet marked done (at-least-once delivery)'
            : 'the collector re-sent batches whose first attempt had reached the backend (retry after a timeout)'
      }.`,
    );
  }
  return out;
}

/**
 * Ties the run's outcome to its faults: per fault, recovery per signal, the collector queue's peak and
 * drain, and every lost or duplicated item attributed by its acknowledgement time.
 */
export function analyseChaos(input: {
  events: readonly ChaosEvent[];
  ledger: Partial<
    Record<Signal, { entries: readonly LedgerEntry[]; itemsPerSeq: number; rejections?: readonly Rejection[] }>
  >;
  verification: Partial<Record<Signal, SignalVerification>>;
  queue: readonly { tMs: number; size: number }[];
  facts: StackFacts;
  /** Facts of a fault's own target (a collector's configuration and role); `facts` otherwise. */
  factsFor?: (target: string) => StackFacts | undefined;
  /**
   * The signals a fault on `target` can cost (a backend: the signals it stores; undefined: any). Items of
   * other signals are never attributed to it: a trace backend's outage loses no log line.
   */
  signalsOf?: (target: string) => readonly Signal[] | undefined;
}): ChaosReport {
  const faults: FaultAnalysis[] = input.events.map(unanalysed);
  const unattributed: ChaosReport['unattributed'] = {};
  const starts = faults.map((f) => f.startedAtMs ?? f.plannedAtMs);
  faults.forEach((f, i) => {
    const start = starts[i]!;
    const nextStart = starts[i + 1] ?? Infinity;
    const window = input.queue.filter((q) => q.tMs >= start && q.tMs < nextStart);
    if (window.length > 0) {
      f.queuePeak = Math.max(...window.map((q) => q.size));
      const baseline = input.queue.filter((q) => q.tMs < start).at(-1)?.size ?? 0;
      const lifted = f.readyAtMs ?? f.endedAtMs ?? start;
      const drained = input.queue.find((q) => q.tMs >= lifted && q.size <= baseline);
      f.queueDrainSeconds = drained === undefined ? undefined : Math.max(0, (drained.tMs - lifted) / 1000);
    }
  });
  for (const signal of ['traces', 'metrics', 'logs'] as const) {
    const l = input.ledger[signal];
    if (l === undefined) continue;
    const series = rateSeries(l.entries, l.itemsPerSeq);
    faults.forEach((f, i) => {
      f.recovery[signal] = recoveryOf(series, starts[i]!, f.readyAtMs ?? f.endedAtMs ?? starts[i]!);
    });
    const acked = l.entries
      .filter((e) => e.outcome === 'acknowledged')
      .slice()
      .sort((a, b) => a.first - b.first);
    const v = input.verification[signal];
    if (v === undefined) continue;
    // Absent items are lost only when the verdict decided so exactly; in a batch the pipeline answered
    // with a partial success, up to its declared count are rejections, not silent loss.
    const decided = v.outcome.status !== 'inconclusive' && v.evidence?.lowerBound !== true;
    const declared = (l.rejections ?? []).map((r) => ({ ...r, left: r.rejected }));
    const kindOf = (seq: number, amount: number): 'lost' | 'absent' | 'rejected' => {
      const r = declared.find((x) => seq >= x.first && seq < x.first + x.count && x.left > 0);
      if (r !== undefined) {
        r.left -= amount;
        return 'rejected';
      }
      return decided ? 'lost' : 'absent';
    };
    const tally = (ranges: readonly SeqRange[], what: 'lost' | 'duplicates') => {
      const bySeq = what === 'lost' ? v.itemsBySeq?.lost : v.itemsBySeq?.duplicates;
      for (const seq of seqs(ranges)) {
        const amount = bySeq?.[String(seq)] ?? 1;
        const key = what === 'lost' ? kindOf(seq, amount) : 'duplicates';
        const at = ackTimeOf(acked, seq);
        const idx =
          at === undefined ? -1 : faultAt(faults, at, (e) => input.signalsOf?.(e.target)?.includes(signal) ?? true);
        if (idx < 0) {
          const u = (unattributed[signal] ??= { lost: 0, duplicates: 0 });
          u[key] = (u[key] ?? 0) + amount;
          continue;
        }
        const a = (faults[idx]!.attributed[signal] ??= {
          lost: 0,
          duplicates: 0,
          ackFromMs: undefined,
          ackToMs: undefined,
        });
        a[key] = (a[key] ?? 0) + amount;
        if (key !== 'duplicates' && at !== undefined) {
          const rel = at - starts[idx]!;
          a.ackFromMs = Math.min(a.ackFromMs ?? rel, rel);
          a.ackToMs = Math.max(a.ackToMs ?? rel, rel);
        }
      }
    };
    tally(v.lostRanges, 'lost');
    tally(v.duplicates.ranges, 'duplicates');
  }
  for (const f of faults) {
    if (f.scaled !== undefined)
      f.explanations.push(
        `${f.target}: ${[
          f.scaled.started.length > 0 ? `started ${f.scaled.started.join(', ')}` : '',
          f.scaled.removed.length > 0 ? `removed ${f.scaled.removed.join(', ')}` : '',
        ]
          .filter((x) => x !== '')
          .join(
            ', ',
          )}; ${f.target === 'processor' ? 'every consumer group Stable with the new members' : 'HAProxy routing to every gateway'} ${((f.scaled.settledAtMs - (f.startedAtMs ?? f.plannedAtMs)) / 1000).toFixed(1)} s after the change.`,
      );
    for (const [signal, a] of Object.entries(f.attributed) as [Signal, Attribution][])
      f.explanations.push(...explain(f, signal, a, input.factsFor?.(f.target) ?? input.facts));
  }
  // Data delivered twice carries no sequence numbers when only a counter saw it: with one fault that
  // moved Kafka partitions (a processor killed, restarted or scaled), the replays are that fault's.
  const movers = faults.filter(
    (f) =>
      (f.action === 'scale' && f.target === 'processor') ||
      (['kill', 'restart', 'outage'].includes(f.action) && input.factsFor?.(f.target)?.readsKafka === true),
  );
  if (movers.length === 1) {
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      const d = input.verification[signal]?.duplicates;
      const redelivered = d?.redelivered?.value ?? 0;
      if (redelivered > 0)
        movers[0]!.explanations.push(
          `${redelivered} ${noun[signal]} read again from Kafka in the run: when partitions moved, the records after the last committed offset were delivered again (at-least-once; ${d!.redelivered!.note}) — duplicates, not loss.`,
        );
      // Only a figure the counters prove (a restart leaves at most an upper bound, said as such).
      const delivered = d?.delivered ?? 0;
      if (delivered > 0)
        movers[0]!.explanations.push(
          `${delivered} ${noun[signal]} reached ${input.verification[signal]!.backend} more than its senders counted sending (its ingest counter against theirs): requests retried after a timeout that had arrived — not loss.`,
        );
      else if ((d?.deliveredAtMost ?? 0) > 0)
        movers[0]!.explanations.push(
          `up to ${d!.deliveredAtMost} ${noun[signal]} may have been delivered to ${input.verification[signal]!.backend} more than once (${d!.deliveredNote}).`,
        );
    }
  }
  return { variant: input.facts.variant, faults, unattributed };
}
