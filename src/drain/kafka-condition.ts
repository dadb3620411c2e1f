import type { PartitionLag } from '../observe/kafka-lag.js';
import type { DrainCondition, DrainState, QueueReading } from './drain.js';

/**
 * Kafka is drained when every consumer group has read everything written to its topic (lag 0 on every
 * partition), the log ends have stopped moving, and that has held for `holdMs` — the time a consumer may
 * still hold what it read (a tail sampler's decision_wait) before it reaches an exporter. Lag 0 is not proof
 * of export: the verifiers still decide. A lag that cannot be read is not taken as 0.
 */
export function kafkaLagCondition(options: {
  name: string;
  read: () => Promise<PartitionLag[]>;
  pollMs: number;
  holdMs: number;
  now?: () => number;
}): DrainCondition {
  const now = options.now ?? Date.now;
  let previousEnds: string | undefined;
  let zeroSince: number | undefined;
  return {
    name: options.name,
    pollMs: options.pollMs,
    async check(): Promise<DrainState> {
      const lags = await options.read();
      const byGroup = new Map<string, number>();
      for (const l of lags) byGroup.set(`${l.group}/${l.topic}`, (byGroup.get(`${l.group}/${l.topic}`) ?? 0) + l.lag);
      const queued: QueueReading[] = [...byGroup]
        .filter(([, lag]) => lag > 0)
        .map(([key, lag]) => ({
          component: options.name,
          queue: `consumer group ${key}`,
          size: lag,
          unit: 'messages',
        }));
      const ends = lags.map((l) => `${l.topic}:${l.partition}=${l.high}`).join(',');
      const still = queued.length === 0 && ends === previousEnds;
      previousEnds = ends;
      if (!still) zeroSince = undefined;
      else zeroSince ??= now();
      const heldMs = zeroSince === undefined ? 0 : now() - zeroSince;
      const total = [...byGroup.values()].reduce((a, b) => a + b, 0);
      return {
        idle: still && heldMs >= options.holdMs,
        queued,
        ...(lags.length === 0 ? { unobservable: `${options.name}: no partition offsets could be read` } : {}),
        detail:
          total > 0
            ? `${options.name} lag ${[...byGroup].map(([k, v]) => `${k}=${v}`).join(' ')}`
            : `${options.name} lag 0${still ? ` for ${(heldMs / 1000).toFixed(0)}/${(options.holdMs / 1000).toFixed(0)} s` : ''}`,
      };
    },
  };
}
