import type { Signal } from '../load/ledger.js';
import { collectorCounters } from '../observe/collector-metrics.js';
import { scrape, type Sample } from '../observe/prometheus-text.js';
import type { DrainCondition, DrainState, QueueReading } from './drain.js';

const DATA_TYPE: Record<Signal, string> = { traces: 'traces', metrics: 'metrics', logs: 'logs' };

/**
 * A collector is idle when, for every signal it carries, the sending queues of its exporters are empty,
 * nothing is in flight, and the sent counters did not move since the previous look. A queue gauge that is
 * missing is not read as 0: the state says the queue is not observable, so that items found missing after
 * such a drain are reported as inconclusive rather than lost.
 */
export function collectorDrainCondition(options: {
  /** The collector's name in the stack, e.g. 'otelcol' or 'gateway-1'. */
  name: string;
  metricsUrl: string;
  signals: readonly Signal[];
  pollMs: number;
  /** Reads the metrics (default: scrape `metricsUrl`). */
  read?: () => Promise<Sample[]>;
  /** Unit of `otelcol_exporter_queue_size` per exporter (the sending_queue sizer; default 'requests'). */
  queueUnit?: (exporter: string) => string;
}): DrainCondition {
  const read = options.read ?? (() => scrape(options.metricsUrl));
  const unit = options.queueUnit ?? (() => 'requests');
  let previous: string | undefined;
  return {
    name: options.name,
    pollMs: options.pollMs,
    async check(): Promise<DrainState> {
      const samples = await read();
      const queued: QueueReading[] = [];
      const missing: string[] = [];
      let inFlight = 0;
      const sent: number[] = [];
      for (const signal of options.signals) {
        const gauges = samples.filter(
          (s) => s.name === 'otelcol_exporter_queue_size' && s.labels.data_type === DATA_TYPE[signal],
        );
        if (gauges.length === 0) missing.push(signal);
        for (const g of gauges) {
          if (g.value > 0) {
            const exporter = g.labels.exporter ?? '?';
            queued.push({ component: options.name, queue: exporter, size: g.value, unit: unit(exporter) });
          }
        }
        const c = collectorCounters(samples, signal);
        inFlight += c.inFlight;
        sent.push(c.exporterSent + c.exporterSendFailed);
      }
      const key = sent.join(',');
      const still = queued.length === 0 && inFlight === 0;
      const idle = still && key === previous;
      previous = still ? key : undefined;
      const queuedTotal = queued.reduce((n, q) => n + q.size, 0);
      return {
        idle,
        queued,
        ...(missing.length === 0
          ? {}
          : {
              unobservable: `${options.name} exposes no otelcol_exporter_queue_size for ${missing.join(', ')} (a queue that cannot be read is not taken as empty)`,
            }),
        detail: `${options.name} queue ${queuedTotal}, in flight ${inFlight}, sent ${key}`,
      };
    },
  };
}
