import { describeQueued, type DrainReport, type SignalDrain } from '../drain/drain.js';
import type { Rejection } from '../load/ledger.js';
import { clipRanges } from '../load/seq-ranges.js';
import { describeCauses, type LossEvidence } from './loss-evidence.js';
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
 * Decides absence with the drain and the run's other evidence. A drain that finished and saw every queue
 * makes absent items lost, exactly, with their causes. Otherwise absence alone proves nothing — items may
 * still be queued — but the evidence can: absent items less the most the pipeline can still hold are lost
 * (a lower bound, FAIL when it is above zero), and items queued behind an error no retry fixes will not
 * arrive (FAIL now, without waiting for retries to expire). Only when nothing decides is the verdict
 * inconclusive, saying what was queued and what could not be seen.
 */
export function accountDrain(
  v: SignalVerification,
  drain: DrainReport | SignalDrain | undefined,
  evidence?: LossEvidence,
): SignalVerification {
  const absent = v.lost + v.rejectedAbsent;
  const withEvidence = evidence === undefined ? v : { ...v, evidence };
  // Absent items the pipeline declared rejected will not arrive: only silent absence waits on the drain.
  if (drain === undefined || v.lost === 0 || v.outcome.status === 'inconclusive') return withEvidence;
  const unit = unitOf(v);
  const causes = evidence === undefined || evidence.causes.length === 0 ? '' : ` — ${describeCauses(evidence.causes)}`;
  const seen = drain.unobservable.length === 0;
  // The collectors' counters say nothing is left in the pipeline: absence is loss, exactly, even where a
  // queue gauge could not be read.
  const blocked = 'blocked' in drain ? drain.blocked : undefined;
  if ((drain.drained && seen) || (evidence?.pendingAtMost === 0 && blocked === undefined)) {
    if (withEvidence.outcome.status !== 'fail' || causes === '') return withEvidence;
    return { ...withEvidence, outcome: { ...withEvidence.outcome, reason: `${withEvidence.outcome.reason}${causes}` } };
  }
  const why = !drain.drained
    ? drain.stillQueued.length > 0
      ? `${describeQueued(drain.stillQueued)} still queued when the drain ended`
      : (drain.reason ?? 'the drain did not finish')
    : `the drain could not see every queue (${drain.unobservable.join('; ')})`;
  const lostAtLeast = evidence?.lostAtLeast ?? null;
  if (evidence !== undefined && (blocked !== undefined || (lostAtLeast !== null && lostAtLeast > 0))) {
    const parts: string[] = [];
    if (lostAtLeast !== null && lostAtLeast > 0)
      parts.push(
        `at least ${lostAtLeast} lost (${absent} absent, at most ${evidence.pendingAtMost} still in the pipeline: ${evidence.pendingHow})`,
      );
    if (evidence.doomed > 0) parts.push(`${evidence.doomed} queued behind an error no retry fixes (${blocked})`);
    return {
      ...withEvidence,
      // Lost for certain, and queued behind an error no retry fixes: what this configuration will not deliver.
      lost: Math.max(0, (lostAtLeast ?? 0) + evidence.doomed - v.rejectedAbsent),
      outcome: {
        status: 'fail',
        expected: v.expected,
        actual: v.found,
        reason: `${absent} acknowledged ${unit} absent from ${v.backend}: ${parts.join('; ')}${causes}`,
      },
    };
  }
  const bound =
    evidence === undefined
      ? ''
      : evidence.pendingAtMost !== null
        ? ` (at most ${evidence.pendingAtMost} still in the pipeline: ${evidence.pendingHow})`
        : ` (nothing bounds what is still queued: ${evidence.pendingHow})`;
  return {
    ...withEvidence,
    outcome: {
      status: 'inconclusive',
      reason: `${absent} acknowledged ${unit} not in ${v.backend} yet, but ${why}${bound}: they may still arrive, so they are not counted as lost${causes}`,
    },
  };
}

/**
 * Data delivered more than once, from counters: what the backend kept (its ingest counter less its own
 * discard counters) minus what the exporters feeding it say they sent, over the run's window, restarts
 * joined. Never a figure the backend could not have stored: `null` with the reason when either counter
 * cannot be read, when the backend counted items it then failed to store, when it restarted, or when the
 * difference exceeds what it holds of the run. When only the collector restarted, what it sent just before
 * it stopped is unseen: the difference is then an upper bound (`deliveredAtMost`).
 */
export function accountDelivered(
  v: SignalVerification,
  received: { value: number; describe: string; restarts?: number; unreliable?: string } | undefined,
  sent: { value: number; describe: string; restarts?: number; gapMs?: number } | undefined,
  receivedMissing?: string,
  sentMissing?: string,
): SignalVerification {
  const duplicates = { ...v.duplicates };
  delete duplicates.deliveredAtMost;
  const none = (why: string) => {
    duplicates.delivered = null;
    duplicates.deliveredNote = `not observable: ${why}`;
    return { ...v, duplicates };
  };
  if (received === undefined)
    return none(receivedMissing ?? `${v.backend} exposes no ingest counter the harness reads`);
  if (sent === undefined) return none(sentMissing ?? "the pipeline's sent counter could not be read");
  if (received.unreliable !== undefined) return none(received.unreliable);
  if ((received.restarts ?? 0) > 0)
    return none(`${v.backend} restarted during the run: what it received just before it stopped is not counted`);
  const diff = received.value - sent.value;
  const figures = `${v.backend} ${received.describe}: ${received.value}; ${sent.describe}: ${sent.value}`;
  const couldStore = v.found + v.unacknowledgedFound;
  if (diff > couldStore)
    return none(
      `${figures}: the difference (${diff}) is more than ${v.backend} holds of the run (${couldStore}), so it counts the same items delivered again and again (retries of requests that timed out after arriving) or other traffic — no count of items stored twice`,
    );
  if ((sent.restarts ?? 0) > 0 && diff > 0) {
    duplicates.delivered = null;
    duplicates.deliveredAtMost = diff;
    duplicates.deliveredNote = `at most ${diff}: ${figures}; the collector restarted ${sent.restarts} time(s) and what it sent between its last reading and its stop (up to ${((sent.gapMs ?? 0) / 1000).toFixed(1)} s) is not counted as sent`;
    return { ...v, duplicates };
  }
  duplicates.delivered = Math.max(0, diff);
  duplicates.deliveredNote =
    figures +
    (diff < 0 ? ' (fewer received than sent: see lost and the silent-drop counters)' : '') +
    ((sent.restarts ?? 0) > 0 ? `; counters joined across ${sent.restarts} collector restart(s)` : '') +
    " — all traffic in the run's window, canaries included";
  return { ...v, duplicates };
}
