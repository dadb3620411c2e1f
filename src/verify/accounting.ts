import { describeQueued, type DrainReport } from '../drain/drain.js';
import type { Rejection } from '../load/ledger.js';
import { clipRanges } from '../load/seq-ranges.js';
import type { SignalVerification } from './verification.js';

/** Absent items in [first, first + count): one per absent seq, or the missing spans of each absent trace. */
function absentItemsIn(v: SignalVerification, first: number, count: number): number {
  let n = 0;
  for (const r of clipRanges(v.lostRanges, first, first + count)) {
    if (v.itemsBySeq === undefined) n += r.count;
    else for (let s = r.first; s < r.first + r.count; s++) n += v.itemsBySeq.lost[String(s)] ?? 0;
  }
  return n;
}

/**
 * Separates loss the pipeline declared from silent loss: in every acknowledged batch whose answer carried
 * a partial success, up to its `rejected` count of absent items are the pipeline's declared rejections
 * (`rejectedAbsent`); only the rest is silent loss (`lost`). Declared items that arrived anyway are noted.
 */
export function accountRejections(v: SignalVerification, rejections: readonly Rejection[]): SignalVerification {
  if (rejections.length === 0) return v;
  let rejected = 0;
  let covered = 0;
  let arrivedAnyway = 0;
  for (const r of rejections) {
    rejected += r.rejected;
    const absent = absentItemsIn(v, r.first, r.count);
    covered += Math.min(absent, r.rejected);
    arrivedAnyway += Math.max(0, r.rejected - absent);
  }
  const notes = [...v.notes];
  const messages = [...new Set(rejections.map((r) => r.message).filter((m) => m !== ''))].slice(0, 3);
  notes.push(
    `the pipeline declared ${rejected} item(s) rejected in ${rejections.length} acknowledged batch(es) (OTLP partial success${messages.length > 0 ? `: ${messages.join(' | ')}` : ''})`,
  );
  if (arrivedAnyway > 0)
    notes.push(`${arrivedAnyway} item(s) declared rejected were found in the backend all the same`);
  if (v.sample !== undefined || v.outcome.status === 'inconclusive') {
    return { ...v, rejected, rejectedAbsent: v.sample === undefined ? covered : 0, notes };
  }
  const lost = v.lost - covered;
  return {
    ...v,
    rejected,
    rejectedAbsent: covered,
    lost,
    notes,
    outcome:
      lost === 0
        ? { status: 'pass' }
        : {
            status: 'fail',
            expected: v.expected,
            actual: v.found,
            reason: `${lost} ${unitOf(v)} acknowledged and absent after drain${covered > 0 ? `, besides ${covered} the pipeline declared rejected` : ''}`,
          },
  };
}

function unitOf(v: SignalVerification): string {
  return v.signal === 'traces' ? 'spans' : v.signal === 'logs' ? 'log records' : 'samples';
}

/**
 * A drain that did not finish, or could not see every queue, makes absence unprovable: items found missing
 * may still be queued. The verdict is then inconclusive, naming what was still queued — never "lost".
 */
export function accountDrain(v: SignalVerification, drain: DrainReport | undefined): SignalVerification {
  const absent = v.lost + v.rejectedAbsent;
  if (drain === undefined || absent === 0 || v.outcome.status === 'inconclusive') return v;
  const why = !drain.drained
    ? drain.stillQueued.length > 0
      ? `${describeQueued(drain.stillQueued)} still queued when the drain ended`
      : (drain.reason ?? 'the drain did not finish')
    : drain.unobservable.length > 0
      ? `the drain could not see every queue (${drain.unobservable.join('; ')})`
      : undefined;
  if (why === undefined) return v;
  return {
    ...v,
    outcome: {
      status: 'inconclusive',
      reason: `${absent} acknowledged ${unitOf(v)} not in ${v.backend} yet, but ${why}: they may still arrive, so they are not counted as lost`,
    },
  };
}

/**
 * Data delivered more than once, from counters: what the backend says it received minus what the pipeline's
 * exporters say they sent it, over the run's window. `null` when either counter could not be read.
 */
export function accountDelivered(
  v: SignalVerification,
  received: { value: number; describe: string } | undefined,
  sent: { value: number; describe: string } | undefined,
  receivedMissing?: string,
  sentMissing?: string,
): SignalVerification {
  const duplicates = { ...v.duplicates };
  if (received === undefined || sent === undefined) {
    duplicates.delivered = null;
    duplicates.deliveredNote = `not observable: ${received === undefined ? (receivedMissing ?? `${v.backend} exposes no ingest counter the harness reads`) : (sentMissing ?? "the pipeline's sent counter could not be read")}`;
  } else {
    duplicates.delivered = Math.max(0, received.value - sent.value);
    duplicates.deliveredNote =
      `${v.backend} ${received.describe}: ${received.value}; ${sent.describe}: ${sent.value}` +
      (received.value < sent.value ? ' (fewer received than sent: see lost and the silent-drop counters)' : '') +
      " — all traffic in the run's window, canaries included";
  }
  return { ...v, duplicates };
}
