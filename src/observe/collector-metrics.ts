import type { Signal } from '../load/ledger.js';
import { sumOf, type Sample } from './prometheus-text.js';

/** Item word per signal in collector metric names. */
const ITEM: Record<Signal, string> = { traces: 'spans', metrics: 'metric_points', logs: 'log_records' };

/**
 * Name patterns that match across collector versions: with or without `_total`, and the memory_limiter
 * rename of v0.155 (`otelcol_processor_refused_*` → `otelcol_processor_memory_limiter_refused_*`).
 */
export function collectorMetricNames(signal: Signal): Record<keyof CollectorCounters, RegExp> {
  const item = ITEM[signal];
  const n = (name: string) => new RegExp(`^${name}(_total)?$`);
  return {
    receiverAccepted: n(`otelcol_receiver_accepted_${item}`),
    receiverRefused: n(`otelcol_receiver_refused_${item}`),
    receiverFailed: n(`otelcol_receiver_failed_${item}`),
    memoryLimiterRefused: n(`otelcol_processor(_memory_limiter)?_refused_${item}`),
    exporterSent: n(`otelcol_exporter_sent_${item}`),
    exporterSendFailed: n(`otelcol_exporter_send_failed_${item}`),
    exporterEnqueueFailed: n(`otelcol_exporter_enqueue_failed_${item}`),
    queueSize: /^otelcol_exporter_queue_size$/,
    inFlight: /^otelcol_exporter_in_flight_requests$/,
  };
}

export interface CollectorCounters {
  receiverAccepted: number;
  receiverRefused: number;
  receiverFailed: number;
  memoryLimiterRefused: number;
  exporterSent: number;
  exporterSendFailed: number;
  exporterEnqueueFailed: number;
  /** Gauge: items (or requests) waiting in the sending queues of this signal's exporters. */
  queueSize: number;
  /** Gauge: export requests in flight. */
  inFlight: number;
}

const DATA_TYPE: Record<Signal, string> = { traces: 'traces', metrics: 'metrics', logs: 'logs' };

/** Reads one signal's counters from a scrape. Absent metrics (never incremented) count as 0. */
export function collectorCounters(samples: readonly Sample[], signal: Signal, exporters?: RegExp): CollectorCounters {
  const names = collectorMetricNames(signal);
  const exporter: Record<string, RegExp> = exporters === undefined ? {} : { exporter: exporters };
  return {
    receiverAccepted: sumOf(samples, names.receiverAccepted),
    receiverRefused: sumOf(samples, names.receiverRefused),
    receiverFailed: sumOf(samples, names.receiverFailed),
    memoryLimiterRefused: sumOf(samples, names.memoryLimiterRefused),
    exporterSent: sumOf(samples, names.exporterSent, exporter),
    exporterSendFailed: sumOf(samples, names.exporterSendFailed, exporter),
    exporterEnqueueFailed: sumOf(samples, names.exporterEnqueueFailed, exporter),
    queueSize: sumOf(samples, names.queueSize, { data_type: DATA_TYPE[signal], ...exporter }),
    inFlight: sumOf(samples, names.inFlight, { data_type: DATA_TYPE[signal], ...exporter }),
  };
}

/** Counter deltas between two scrapes (gauges are taken from `after`). Counters that reset count from 0. */
export function counterDelta(before: CollectorCounters, after: CollectorCounters): CollectorCounters {
  const d = (k: keyof CollectorCounters) => (after[k] >= before[k] ? after[k] - before[k] : after[k]);
  return {
    receiverAccepted: d('receiverAccepted'),
    receiverRefused: d('receiverRefused'),
    receiverFailed: d('receiverFailed'),
    memoryLimiterRefused: d('memoryLimiterRefused'),
    exporterSent: d('exporterSent'),
    exporterSendFailed: d('exporterSendFailed'),
    exporterEnqueueFailed: d('exporterEnqueueFailed'),
    queueSize: after.queueSize,
    inFlight: after.inFlight,
  };
}
