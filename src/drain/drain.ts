import type { Signal } from '../load/ledger.js';
import { systemClock, type Clock } from '../time/clock.js';

/** Something still queued in a pipeline component when the drain looked. */
export interface QueueReading {
  component: string;
  /** The queue, e.g. the exporter `otlp_grpc/jaeger`, or a Kafka consumer group's lag. */
  queue: string;
  size: number;
  /** What `size` counts: 'requests' (batches), 'items', 'messages'. */
  unit: string;
}

/** One look at a drain condition. */
export interface DrainState {
  /** Everything this condition watches is empty and has stopped moving. */
  idle: boolean;
  queued: QueueReading[];
  /** Why idleness cannot be confirmed (metric missing, endpoint unreachable); undefined when it can. */
  unobservable?: string;
  /** One line for the progress display. */
  detail: string;
}

/** A condition the pipeline must reach before verification: collector queues empty, Kafka lag 0, … */
export interface DrainCondition {
  name: string;
  /** Time between looks (longer than any batching timeout, so a held batch shows as movement). */
  pollMs: number;
  check(): Promise<DrainState>;
}

export interface DrainOptions {
  conditions: readonly DrainCondition[];
  signals: readonly Signal[];
  /** A cheap count of the run's items per signal in its backend (must only grow as data lands). */
  backendCount: (signal: Signal) => Promise<number>;
  /** Items of the run each backend should end with (acknowledged): below it, counts must hold still for `settleMs`. */
  expected?: (signal: Signal) => number;
  timeoutMs: number;
  /**
   * End the drain early when something is still queued and nothing has moved (queue sizes, in-flight and
   * sent counters, lag) for this long: a batch a backend keeps refusing. Off by default (a backend outage
   * in a chaos run must be waited out); capacity trials use it.
   */
  stallMs?: number;
  backendPollMs: number;
  /**
   * How long a count below `expected` must hold still before it is taken as final: backends make data
   * countable in steps (Tempo's metrics-generator cuts traces after 10–20 s), so two equal polls of a short
   * count prove nothing.
   */
  settleMs?: number;
  clock?: Clock;
  signal?: AbortSignal;
  progress?: (message: string) => void;
}

export interface DrainReport {
  drained: boolean;
  elapsedMs: number;
  /** When every pipeline condition was idle (queues empty, counters still), ms after drain start. */
  collectorIdleAtMs: number | undefined;
  /** When every backend count was stable across two polls. */
  backendsStableAtMs: number | undefined;
  finalCounts: Partial<Record<Signal, number>>;
  /** Why the drain ended without reaching every condition. */
  reason: string | undefined;
  /** It ended because nothing moved for `stallMs` while something was queued. */
  stalled?: boolean;
  /** What was still queued at the last look (empty when drained). */
  stillQueued: QueueReading[];
  /**
   * Queues the drain could not see (a metric missing, an endpoint unreachable), with why: even a drain that
   * ended cannot prove those were empty.
   */
  unobservable: string[];
}

/** `75 requests in otelcol (otlp_grpc/jaeger), 3 items in …`. */
export function describeQueued(queued: readonly QueueReading[]): string {
  return queued.map((q) => `${q.size} ${q.unit} in ${q.component} (${q.queue})`).join(', ');
}

/**
 * After the load stops: wait until every pipeline condition is idle (sending queues empty, nothing in
 * flight, sent counters still between two looks; Kafka lag 0 …), then until each backend's count of the run's
 * items is the same in two consecutive polls. Bounded by `timeoutMs`; the report says which condition held,
 * what was still queued, and what could not be observed — a drain that did not finish makes missing items
 * "still queued", never "lost".
 */
export async function drain(options: DrainOptions): Promise<DrainReport> {
  const clock = options.clock ?? systemClock;
  const start = clock.now();
  const elapsed = () => clock.now() - start;
  const deadline = start + options.timeoutMs;
  const progress = options.progress ?? (() => undefined);
  let collectorIdleAtMs: number | undefined;
  let reason: string | undefined;
  let stalled = false;
  let stillQueued: QueueReading[] = [];
  let unobservable: string[] = [];

  if (options.conditions.length > 0) {
    const pollMs = Math.max(...options.conditions.map((c) => c.pollMs));
    let lastMove: { key: string; at: number } | undefined;
    for (;;) {
      options.signal?.throwIfAborted();
      const states = await Promise.all(
        options.conditions.map((c) =>
          c.check().catch((err: unknown): DrainState => ({
            idle: false,
            queued: [],
            unobservable: `${c.name} could not be read (${(err as Error).message})`,
            detail: `${c.name} unreachable`,
          })),
        ),
      );
      stillQueued = states.flatMap((s) => s.queued);
      unobservable = states.flatMap((s) => (s.unobservable === undefined ? [] : [s.unobservable]));
      progress(`drain: ${states.map((s) => s.detail).join('; ')}`);
      if (states.every((s) => s.idle)) {
        collectorIdleAtMs = elapsed();
        break;
      }
      const key = JSON.stringify(states.map((s) => [s.queued, s.detail]));
      if (lastMove?.key !== key) lastMove = { key, at: clock.now() };
      else if (options.stallMs !== undefined && clock.now() - lastMove.at >= options.stallMs) {
        stalled = true;
        reason = `the pipeline stalled: nothing moved for ${Math.round((clock.now() - lastMove.at) / 1000)} s${stillQueued.length > 0 ? ` while ${describeQueued(stillQueued)} stayed queued` : ''}`;
        break;
      }
      if (clock.now() + pollMs > deadline) {
        reason = `the pipeline did not become idle before the drain timeout${stillQueued.length > 0 ? `: ${describeQueued(stillQueued)} still queued` : ''}`;
        break;
      }
      await clock.sleep(pollMs, options.signal);
    }
  }

  let backendsStableAtMs: number | undefined;
  let last: Partial<Record<Signal, number>> = {};
  const settleMs = options.settleMs ?? 30_000;
  if (reason === undefined) {
    let previous: string | undefined;
    let stillSince = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      try {
        const counts = await Promise.all(options.signals.map(async (s) => [s, await options.backendCount(s)] as const));
        last = Object.fromEntries(counts);
        const key = JSON.stringify(last);
        const short = counts.filter(([s, n]) => options.expected !== undefined && n < options.expected(s));
        progress(
          `drain: backend counts ${counts.map(([s, n]) => `${s}=${n}${options.expected === undefined ? '' : `/${options.expected(s)}`}`).join(' ')}`,
        );
        if (key !== previous) stillSince = clock.now();
        if (key === previous && (short.length === 0 || clock.now() - stillSince >= settleMs)) {
          backendsStableAtMs = elapsed();
          break;
        }
        previous = key;
      } catch (err) {
        progress(`drain: backend count failed (${(err as Error).message})`);
        previous = undefined;
      }
      if (clock.now() + options.backendPollMs > deadline) {
        reason = 'backend counts were still changing at the drain timeout';
        break;
      }
      await clock.sleep(options.backendPollMs, options.signal);
    }
  }
  return {
    drained: reason === undefined,
    elapsedMs: elapsed(),
    collectorIdleAtMs,
    backendsStableAtMs,
    finalCounts: last,
    reason,
    ...(stalled ? { stalled } : {}),
    stillQueued: reason === undefined ? [] : stillQueued,
    unobservable,
  };
}
