import type { RemoteWriteWatch } from '../observe/remote-write-watch.js';
import { oneSignalState, type DrainCondition, type DrainState } from './drain.js';

/**
 * Prometheus has sent Mimir everything it stored before the drain began: it sent a sample stamped after the
 * drain began (its scrapes go on, so one comes), and either it sends through one shard — which sends in the
 * order it stored, so nothing older is left — or nothing is pending. (Its own scrapes keep a few samples
 * pending between sends most of the time: pending 0 alone would rarely be seen.) Until then what it holds
 * shows as queued, and an outage of the receiver is waited out (it retries what the receiver refused with a
 * 5xx or 429 until it gets through).
 */
export function remoteWriteCondition(options: {
  /** e.g. 'prometheus'. */
  name: string;
  /** e.g. 'mimir'. */
  receiver: string;
  watch: RemoteWriteWatch;
  pollMs: number;
  now?: () => number;
}): DrainCondition {
  const now = options.now ?? Date.now;
  const fromS = now() / 1000;
  const queue = `remote_write to ${options.receiver}`;
  return {
    name: `${options.name} (${queue})`,
    pollMs: options.pollMs,
    async check(): Promise<DrainState> {
      const seen = await options.watch.poll().catch(() => false);
      const s = options.watch.state();
      if (!seen || s === undefined)
        return oneSignalState(
          'metrics',
          {
            idle: false,
            queued: [],
            unobservable: `${options.name} exposes no counters of its ${queue} queue: what it still holds cannot be seen`,
            movement: 'unobservable',
          },
          `${options.name}: ${queue} not observable`,
        );
      const movement = `${s.sent}/${s.failed}/${s.pending}/${s.highestSentS ?? 0}`;
      const behindS =
        s.highestStoredS === undefined || s.highestSentS === undefined
          ? undefined
          : Math.max(0, s.highestStoredS - s.highestSentS);
      const caughtUp = s.highestSentS !== undefined && s.highestSentS >= fromS;
      if (caughtUp && (s.pending === 0 || s.shards === 1))
        return oneSignalState(
          'metrics',
          { idle: true, queued: [], movement, delivered: s.sent },
          `${options.name}: ${queue} caught up (${s.sent} samples sent)`,
        );
      return oneSignalState(
        'metrics',
        {
          idle: false,
          queued: [
            s.pending > 0
              ? { component: options.name, queue, size: s.pending, unit: 'samples', signal: 'metrics' }
              : {
                  component: options.name,
                  queue: `${queue} (not read from its WAL yet)`,
                  size: Math.round(behindS ?? 0),
                  unit: 'seconds behind',
                  signal: 'metrics',
                },
          ],
          movement,
          delivered: s.sent,
        },
        `${options.name}: ${queue}: ${s.pending} samples pending${behindS === undefined ? '' : `, ${Math.round(behindS)} s behind`}`,
      );
    },
  };
}
