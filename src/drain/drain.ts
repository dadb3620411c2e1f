import type { Signal } from '../load/ledger.js';
import { collectorCounters } from '../observe/collector-metrics.js';
import { scrape, type Sample } from '../observe/prometheus-text.js';
import { systemClock, type Clock } from '../time/clock.js';

export interface DrainOptions {
  /** Collector self-metrics URL; without it only backend stability is awaited. */
  collectorMetricsUrl: string | undefined;
  signals: readonly Signal[];
  /** A cheap count of the run's items per signal in its backend (must only grow as data lands). */
  backendCount: (signal: Signal) => Promise<number>;
  timeoutMs: number;
  /** Time between collector scrapes; longer than the batch processor's timeout so a held batch shows. */
  collectorPollMs: number;
  backendPollMs: number;
  clock?: Clock;
  signal?: AbortSignal;
  progress?: (message: string) => void;
  /** Reads the collector's metrics (default: scrape `collectorMetricsUrl`). */
  readCollector?: () => Promise<Sample[]>;
}

export interface DrainReport {
  drained: boolean;
  elapsedMs: number;
  /** When the collector was seen idle (queues empty, sent counters still), ms after drain start. */
  collectorIdleAtMs: number | undefined;
  /** When every backend count was stable across two polls. */
  backendsStableAtMs: number | undefined;
  finalCounts: Partial<Record<Signal, number>>;
  /** Why the drain ended without reaching both conditions. */
  reason: string | undefined;
}

/**
 * After the load stops: wait until the collector's sending queues are empty, nothing is in flight and its
 * sent counters did not move between two scrapes; then until each backend's count of the run's items is
 * the same in two consecutive polls. Bounded by `timeoutMs`; the report says which condition held.
 */
export async function drain(options: DrainOptions): Promise<DrainReport> {
  const clock = options.clock ?? systemClock;
  const start = clock.now();
  const elapsed = () => clock.now() - start;
  const deadline = start + options.timeoutMs;
  const progress = options.progress ?? (() => undefined);
  let collectorIdleAtMs: number | undefined;
  let reason: string | undefined;

  if (options.collectorMetricsUrl !== undefined) {
    const url = options.collectorMetricsUrl;
    const read = options.readCollector ?? (() => scrape(url));
    let previous: string | undefined;
    for (;;) {
      options.signal?.throwIfAborted();
      try {
        const samples = await read();
        const counters = options.signals.map((s) => collectorCounters(samples, s));
        const queued = counters.reduce((n, c) => n + c.queueSize, 0);
        const inFlight = counters.reduce((n, c) => n + c.inFlight, 0);
        const sent = counters.map((c) => c.exporterSent + c.exporterSendFailed).join(',');
        progress(`drain: collector queue ${queued}, in flight ${inFlight}, sent ${sent}`);
        if (queued === 0 && inFlight === 0 && sent === previous) {
          collectorIdleAtMs = elapsed();
          break;
        }
        previous = queued === 0 && inFlight === 0 ? sent : undefined;
      } catch (err) {
        progress(`drain: collector metrics unreachable (${(err as Error).message})`);
        previous = undefined;
      }
      if (clock.now() + options.collectorPollMs > deadline) {
        reason = 'the collector did not become idle before the drain timeout';
        break;
      }
      await clock.sleep(options.collectorPollMs, options.signal);
    }
  }

  let backendsStableAtMs: number | undefined;
  let last: Partial<Record<Signal, number>> = {};
  if (reason === undefined) {
    let previous: string | undefined;
    for (;;) {
      options.signal?.throwIfAborted();
      try {
        const counts = await Promise.all(options.signals.map(async (s) => [s, await options.backendCount(s)] as const));
        last = Object.fromEntries(counts);
        const key = JSON.stringify(last);
        progress(`drain: backend counts ${counts.map(([s, n]) => `${s}=${n}`).join(' ')}`);
        if (key === previous) {
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
  };
}
