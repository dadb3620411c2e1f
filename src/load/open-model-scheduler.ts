import { Histogram, type Percentiles } from '../stats/histogram.js';
import { systemClock, type Clock } from '../time/clock.js';
import { dueTimeMs, itemsDue, totalItems, type RateProfile } from './rate-profile.js';

export interface SchedulerOptions {
  /** Target rate in sequence units per second (traces, log records, data points). */
  unitRate: number;
  profile: RateProfile;
  durationMs: number;
  /** Units per request. */
  batchUnits: number;
  /** Requests allowed in flight; a batch that comes due beyond it is dropped at the generator. */
  maxInFlight: number;
  /** First sequence number (default 0). */
  firstSeq?: number;
  clock?: Clock;
  tickMs?: number;
  signal?: AbortSignal;
}

export interface Ticket {
  firstSeq: number;
  count: number;
  /** When the batch's last unit came due, ms into the run. */
  dueAtMs: number;
  /** When it was handed to the sender (or dropped), ms into the run. */
  issuedAtMs: number;
}

export interface SchedulerHooks {
  /** Sends a batch; resolves when it was answered (any answer). Must not reject. */
  send(ticket: Ticket): Promise<void>;
  /** A batch was not sent: the in-flight limit was reached (the generator could not keep up). */
  drop(ticket: Ticket): void;
}

export interface SchedulerReport {
  offeredUnits: number;
  sentUnits: number;
  droppedUnits: number;
  /** Run time until the last batch was issued. */
  issueElapsedMs: number;
  /** How late batches were issued relative to when they came due. */
  scheduleLagMs: Percentiles;
  interrupted: boolean;
}

/**
 * Open-model load: units come due on the profile's schedule whatever the system under test does; each
 * batch is issued when its last unit is due. Answers never slow the schedule down: when `maxInFlight`
 * requests are pending, a due batch is dropped and recorded, so a slow pipeline shows up as refusals,
 * drops and schedule lag instead of a silently lower rate.
 */
export async function runOpenModel(options: SchedulerOptions, hooks: SchedulerHooks): Promise<SchedulerReport> {
  const clock = options.clock ?? systemClock;
  const tickMs = options.tickMs ?? 5;
  const { profile, unitRate, durationMs, batchUnits, maxInFlight } = options;
  const total = totalItems(profile, unitRate, durationMs);
  const firstSeq = options.firstSeq ?? 0;
  const lag = new Histogram();
  const pending = new Set<Promise<void>>();
  let issued = 0;
  let sentUnits = 0;
  let droppedUnits = 0;
  let interrupted = false;
  const start = clock.now();
  let elapsed = 0;

  while (issued < total) {
    if (options.signal?.aborted === true) {
      interrupted = true;
      break;
    }
    elapsed = clock.now() - start;
    const due = Math.min(total, Math.floor(itemsDue(profile, unitRate, elapsed, durationMs) + 1e-9));
    while (due - issued >= batchUnits || (due === total && due > issued)) {
      const count = Math.min(batchUnits, due - issued);
      const ticket: Ticket = {
        firstSeq: firstSeq + issued,
        count,
        dueAtMs: dueTimeMs(profile, unitRate, issued + count, durationMs),
        issuedAtMs: elapsed,
      };
      issued += count;
      lag.record(ticket.issuedAtMs - ticket.dueAtMs);
      if (pending.size >= maxInFlight) {
        droppedUnits += count;
        hooks.drop(ticket);
        continue;
      }
      sentUnits += count;
      const p = hooks.send(ticket).finally(() => pending.delete(p));
      pending.add(p);
    }
    if (issued >= total) break;
    await clock.sleep(tickMs);
  }
  const issueElapsedMs = clock.now() - start;
  await Promise.all(pending);
  return {
    offeredUnits: issued,
    sentUnits,
    droppedUnits,
    issueElapsedMs,
    scheduleLagMs: lag.percentiles(),
    interrupted,
  };
}
