import { sumBy, sumOf, type Sample } from './prometheus-text.js';

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

/** The collector's own failure counters (each backend module lists its own: src/verify/backends). */
export const BACKEND_COUNTERS: Record<string, CounterSpec[]> = {
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
