import { scrape, sumBy, sumOf, type Sample } from './prometheus-text.js';

/**
 * Counters that say where data went missing silently (the backend answered success, or the sender gave
 * up), read from each component's own /metrics. Keys are `<metric>{<label>=<value>}` for grouped ones.
 */
export interface CounterSpec {
  key: string;
  name: RegExp;
  where?: Record<string, string | RegExp>;
  /** Report one value per value of this label. */
  by?: string;
}

export const BACKEND_COUNTERS: Record<string, CounterSpec[]> = {
  tempo: [
    { key: 'tempo_distributor_spans_received_total', name: /^tempo_distributor_spans_received_total$/ },
    { key: 'tempo_discarded_spans_total', name: /^tempo_discarded_spans_total$/, by: 'reason' },
    { key: 'tempo_receiver_refused_spans', name: /^tempo_receiver_refused_spans(_total)?$/ },
  ],
  jaeger: [
    { key: 'otelcol_receiver_accepted_spans', name: /^otelcol_receiver_accepted_spans(_total)?$/ },
    { key: 'otelcol_receiver_refused_spans', name: /^otelcol_receiver_refused_spans(_total)?$/ },
    { key: 'otelcol_exporter_send_failed_spans', name: /^otelcol_exporter_send_failed_spans(_total)?$/ },
    { key: 'otelcol_exporter_sent_spans', name: /^otelcol_exporter_sent_spans(_total)?$/ },
  ],
  loki: [
    { key: 'loki_distributor_lines_received_total', name: /^loki_distributor_lines_received_total$/ },
    { key: 'loki_discarded_samples_total', name: /^loki_discarded_samples_total$/, by: 'reason' },
  ],
  prometheus: [
    {
      key: 'prometheus_http_requests_total{handler=/api/v1/write}',
      name: /^prometheus_http_requests_total$/,
      where: { handler: '/api/v1/write' },
      by: 'code',
    },
    { key: 'prometheus_tsdb_out_of_order_samples_total', name: /^prometheus_tsdb_out_of_order_samples_total$/ },
    { key: 'prometheus_tsdb_head_samples_appended_total', name: /^prometheus_tsdb_head_samples_appended_total$/ },
  ],
  otelcol: [
    {
      key: 'otelcol_exporter_send_failed',
      name: /^otelcol_exporter_send_failed_(spans|metric_points|log_records)(_total)?$/,
      by: 'exporter',
    },
    {
      key: 'otelcol_exporter_enqueue_failed',
      name: /^otelcol_exporter_enqueue_failed_(spans|metric_points|log_records)(_total)?$/,
      by: 'exporter',
    },
    {
      key: 'otelcol_processor_memory_limiter_refused',
      name: /^otelcol_processor(_memory_limiter)?_refused_(spans|metric_points|log_records)(_total)?$/,
    },
    { key: 'otelcol_receiver_refused', name: /^otelcol_receiver_refused_(spans|metric_points|log_records)(_total)?$/ },
    { key: 'otelcol_receiver_failed', name: /^otelcol_receiver_failed_(spans|metric_points|log_records)(_total)?$/ },
  ],
};

/** Reads the given counters from parsed samples. Absent counters are 0. */
export function readCounters(samples: readonly Sample[], specs: readonly CounterSpec[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const spec of specs) {
    if (spec.by === undefined) {
      out[spec.key] = sumOf(samples, spec.name, spec.where);
    } else {
      const filtered =
        spec.where === undefined
          ? samples
          : samples.filter((s) =>
              Object.entries(spec.where!).every(([k, v]) =>
                typeof v === 'string' ? s.labels[k] === v : v.test(s.labels[k] ?? ''),
              ),
            );
      const groups = sumBy(filtered, spec.name, spec.by);
      out[spec.key] = Object.values(groups).reduce((a, b) => a + b, 0);
      for (const [value, n] of Object.entries(groups)) out[`${spec.key}{${spec.by}=${value}}`] = n;
    }
  }
  return out;
}

/** Differences of counters between two readings (keys of either; a reset counts from 0). */
export function deltas(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = after[key] ?? 0;
    const b = before[key] ?? 0;
    out[key] = a >= b ? a - b : a;
  }
  return out;
}

/** Scrapes each component's counters; an unreachable endpoint gives `undefined` for that component. */
export async function readBackendCounters(
  metricsUrls: Readonly<Record<string, string>>,
): Promise<Record<string, Record<string, number> | undefined>> {
  const entries = await Promise.all(
    Object.entries(metricsUrls).map(async ([component, url]) => {
      const specs = BACKEND_COUNTERS[component];
      if (specs === undefined) return [component, undefined] as const;
      try {
        return [component, readCounters(await scrape(url), specs)] as const;
      } catch {
        return [component, undefined] as const;
      }
    }),
  );
  return Object.fromEntries(entries);
}
