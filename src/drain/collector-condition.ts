import type { Signal } from '../load/ledger.js';
import { collectorCounters } from '../observe/collector-metrics.js';
import { exportFailuresOf } from '../observe/export-failures.js';
import { scrape, type Sample } from '../observe/prometheus-text.js';
import type { DrainCondition, DrainState, QueueReading, SignalDrainState } from './drain.js';

const DATA_TYPE: Record<Signal, string> = { traces: 'traces', metrics: 'metrics', logs: 'logs' };
/** Failures older than this say nothing of what the exporter does now. */
const RECENT_FAILURE_MS = 60_000;

/** How long after what a signal's pipeline may still hold an item. */
export interface Quiet {
  ms: number;
  from: 'last-movement' | 'first-look';
}

/**
 * A collector is idle for a signal when the sending queues of that signal's exporters are empty, nothing is
 * in flight, and its sent and failed counters stood still from one look to the next — and, with `quiet`, long
 * enough that nothing can still be held before its exporters (a batch timeout, a tail sampler's
 * decision_wait): counted from the last movement, or, for a collector fed only by the load (whose items all
 * entered it before the drain began), from the drain's first look. A queue gauge that is
 * missing is not read as 0: the state says the queue is not observable, so that items found missing after
 * such a drain are not called lost on that drain's word. With the collector's configuration, each queue
 * reading says how many items it can hold at most; with its log, `stuck` says when its exporter keeps
 * failing with an error no retry can fix.
 */
export function collectorDrainCondition(options: {
  /** The collector's name in the stack, e.g. 'otelcol' or 'gateway-1'. */
  name: string;
  metricsUrl: string;
  signals: readonly Signal[];
  /** Time between looks. */
  pollMs: number;
  /** How long nothing may be held any more before a signal is idle (default: from one look to the next). */
  quiet?: (signal: Signal) => Quiet;
  /** Reads the metrics (default: scrape `metricsUrl`). */
  read?: () => Promise<Sample[]>;
  /** Unit of `otelcol_exporter_queue_size` per exporter (the sending_queue sizer; default 'requests'). */
  queueUnit?: (exporter: string) => string;
  /** Its exporters as its effective configuration sets them up: signals, most items per request. */
  pipeline?:
    | {
        exporters: readonly {
          name: string;
          signals: readonly Signal[];
          maxItemsPerRequest: Partial<Record<Signal, number>>;
        }[];
      }
    | undefined;
  /** Its log lines (JSON), for what its exporters' failures say. */
  logs?: () => Promise<string[]>;
  now?: () => number;
}): DrainCondition {
  const read = options.read ?? (() => scrape(options.metricsUrl));
  const unit = options.queueUnit ?? (() => 'requests');
  const now = options.now ?? Date.now;
  const previous = new Map<Signal, { key: string; since: number }>();
  let firstLookAt: number | undefined;
  const maxItems = (exporter: string, signal: Signal, size: number, u: string): number | undefined => {
    if (u === 'items') return size;
    const perRequest = options.pipeline?.exporters.find((e) => e.name === exporter)?.maxItemsPerRequest[signal];
    return u === 'requests' && perRequest !== undefined ? size * perRequest : undefined;
  };
  return {
    name: options.name,
    pollMs: options.pollMs,
    async check(): Promise<DrainState> {
      const samples = await read();
      const signals: Partial<Record<Signal, SignalDrainState>> = {};
      const details: string[] = [];
      for (const signal of options.signals) {
        const queued: QueueReading[] = [];
        const gauges = samples.filter(
          (s) => s.name === 'otelcol_exporter_queue_size' && s.labels.data_type === DATA_TYPE[signal],
        );
        for (const g of gauges) {
          if (g.value > 0) {
            const exporter = g.labels.exporter ?? '?';
            const u = unit(exporter);
            const max = maxItems(exporter, signal, g.value, u);
            queued.push({
              component: options.name,
              queue: exporter,
              size: g.value,
              unit: u,
              signal,
              ...(max === undefined ? {} : { maxItems: max }),
            });
          }
        }
        const inFlight = samples.filter(
          (s) => s.name === 'otelcol_exporter_in_flight_requests' && s.labels.data_type === DATA_TYPE[signal],
        );
        for (const g of inFlight) {
          if (g.value > 0) {
            const exporter = g.labels.exporter ?? '?';
            const max = maxItems(exporter, signal, g.value, 'requests');
            queued.push({
              component: options.name,
              queue: `${exporter}, in flight`,
              size: g.value,
              unit: 'requests',
              signal,
              ...(max === undefined ? {} : { maxItems: max }),
            });
          }
        }
        const c = collectorCounters(samples, signal);
        const key = `${c.exporterSent},${c.exporterSendFailed},${c.exporterEnqueueFailed}`;
        const still = queued.length === 0 && c.inFlight === 0;
        const at = now();
        const last = previous.get(signal);
        const since = still && last?.key === key ? last.since : undefined;
        firstLookAt ??= at;
        const quiet = options.quiet?.(signal);
        const idle =
          since !== undefined &&
          (quiet === undefined || at - (quiet.from === 'first-look' ? firstLookAt : since) >= quiet.ms);
        if (still) previous.set(signal, { key, since: since ?? at });
        else previous.delete(signal);
        signals[signal] = {
          idle,
          queued,
          ...(gauges.length === 0
            ? {
                unobservable: `${options.name} exposes no otelcol_exporter_queue_size for ${signal} (a queue that cannot be read is not taken as empty)`,
              }
            : {}),
          movement: `${JSON.stringify(queued.map((q) => [q.queue, q.size]))} ${key}`,
          delivered: c.exporterSent,
        };
        details.push(`${signal} queue ${queued.reduce((n, q) => n + q.size, 0)}, sent ${c.exporterSent}`);
      }
      const all = Object.values(signals);
      const missing = all.flatMap((s) => (s.unobservable === undefined ? [] : [s.unobservable]));
      return {
        idle: all.every((s) => s.idle),
        queued: all.flatMap((s) => s.queued),
        ...(missing.length === 0 ? {} : { unobservable: missing.join('; ') }),
        detail: `${options.name}: ${details.join(', ')}`,
        signals,
      };
    },
    async stuck(signal: Signal): Promise<string | undefined> {
      if (options.logs === undefined) return undefined;
      const since = now() - RECENT_FAILURE_MS;
      const failures = exportFailuresOf(options.name, await options.logs()).filter(
        (f) =>
          (f.signal === signal ||
            (f.signal === undefined &&
              options.pipeline?.exporters.some((e) => e.name === f.exporter && e.signals.includes(signal)) === true)) &&
          f.outcome !== 'rejected' &&
          f.lastAt !== undefined &&
          Date.parse(f.lastAt) >= since,
      );
      // Every recent failure of the signal's exporters is one no retry fixes: what is queued waits behind it.
      if (failures.length === 0 || failures.some((f) => f.cause.retryable)) return undefined;
      return failures.map((f) => `${f.exporter}: ${f.cause.summary}`).join('; ');
    },
  };
}
