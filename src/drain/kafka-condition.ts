import type { Signal } from '../load/ledger.js';
import type { PartitionLag } from '../observe/kafka-lag.js';
import type { DrainCondition, DrainState, QueueReading, SignalDrainState } from './drain.js';

/** The signal a topic carries (`otlp-traces`, `otlp_spans`, …), when its name says. */
export function signalOfTopic(topic: string): Signal | undefined {
  if (/trace|span/i.test(topic)) return 'traces';
  if (/metric/i.test(topic)) return 'metrics';
  if (/log/i.test(topic)) return 'logs';
  return undefined;
}

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
  const previousBySignal = new Map<Signal, string>();
  const zeroSinceBySignal = new Map<Signal, number>();
  return {
    name: options.name,
    pollMs: options.pollMs,
    async check(): Promise<DrainState> {
      const lags = await options.read();
      const byGroup = new Map<string, number>();
      for (const l of lags) byGroup.set(`${l.group}/${l.topic}`, (byGroup.get(`${l.group}/${l.topic}`) ?? 0) + l.lag);
      const queued: QueueReading[] = [...byGroup]
        .filter(([, lag]) => lag > 0)
        .map(([key, lag]) => {
          const signal = signalOfTopic(key.split('/').slice(1).join('/'));
          return {
            component: options.name,
            queue: `consumer group ${key}`,
            size: lag,
            unit: 'messages',
            ...(signal === undefined ? {} : { signal }),
          };
        });
      // Per signal, when every topic's name says its signal: one signal's lag never holds another back.
      const bySignal = new Map<Signal, PartitionLag[]>();
      for (const l of lags) {
        const s = signalOfTopic(l.topic);
        if (s !== undefined) bySignal.set(s, [...(bySignal.get(s) ?? []), l]);
      }
      const allMapped = lags.length > 0 && lags.every((l) => signalOfTopic(l.topic) !== undefined);
      const signals: Partial<Record<Signal, SignalDrainState>> = {};
      if (allMapped) {
        for (const [s, own] of bySignal) {
          const q = queued.filter((x) => x.signal === s);
          const sEnds = own.map((l) => `${l.topic}:${l.partition}=${l.high}`).join(',');
          const sStill = q.length === 0 && sEnds === previousBySignal.get(s);
          previousBySignal.set(s, sEnds);
          if (!sStill) zeroSinceBySignal.delete(s);
          else if (!zeroSinceBySignal.has(s)) zeroSinceBySignal.set(s, now());
          const since = zeroSinceBySignal.get(s);
          // Only traces wait for a tail sampler's decision.
          const hold = s === 'traces' ? options.holdMs : 0;
          signals[s] = {
            idle: sStill && since !== undefined && now() - since >= hold,
            queued: q,
            movement: `${sEnds} ${JSON.stringify(q.map((x) => x.size))}`,
          };
        }
      }
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
        ...(allMapped ? { signals } : {}),
        detail:
          total > 0
            ? `${options.name} lag ${[...byGroup].map(([k, v]) => `${k}=${v}`).join(' ')}`
            : `${options.name} lag 0${still ? ` for ${(heldMs / 1000).toFixed(0)}/${(options.holdMs / 1000).toFixed(0)} s` : ''}`,
      };
    },
  };
}
