import { goDurationMs } from '../options/go-duration.js';
import { parse } from 'yaml';
import { SIGNALS, type Signal } from '../load/ledger.js';

/**
 * What a collector's effective configuration says about each exporter: where it sends, how long it retries,
 * what its sending queue holds and how many items one of its requests can carry. The collector's defaults
 * (exporterhelper: queue on, 1,000 requests, 10 consumers; retry on, 300 s; batch processor 8,192 items,
 * no maximum) fill what the configuration leaves out.
 */
export interface ExporterFacts {
  /** Component id, e.g. `otlp_http/loki`. */
  name: string;
  /** The part before `/`, e.g. `otlp_http`. */
  type: string;
  /** Signals of the pipelines it is in. */
  signals: Signal[];
  /** Its `endpoint` (or first of `brokers`), when configured. */
  endpoint: string | undefined;
  /** A sink that stores nothing a backend could be asked for (debug, nop, file). */
  sink: boolean;
  retry: { enabled: boolean; maxElapsedMs: number };
  queue: { enabled: boolean; size: number; sizer: string; consumers: number; persistent: boolean };
  /**
   * Most items one export request can hold, per signal (the last batch processor's `send_batch_max_size`, or
   * the exporter's own batching `max_size`); undefined when nothing caps it.
   */
  maxItemsPerRequest: Partial<Record<Signal, number>>;
  /** The batch processor's `send_batch_size` before it in each signal's pipeline, when there is one. */
  batchSize: Partial<Record<Signal, number>>;
}

export interface CollectorPipeline {
  exporters: ExporterFacts[];
  /** Receivers per signal (component ids). */
  receivers: Partial<Record<Signal, string[]>>;
  /** Processors per signal, in order (component ids, all pipelines of the signal). */
  processors: Partial<Record<Signal, string[]>>;
  /**
   * Per signal, the longest its pipeline may hold an item with no counter moving (the longest pipeline):
   * each batch processor's `timeout`, a tail sampler's `decision_wait` plus its 1 s tick, groupbytrace's
   * `wait_duration`, an exporter's own batching `flush_timeout`.
   */
  holdMs: Partial<Record<Signal, number>>;
}

type Raw = {
  receivers?: Record<string, unknown>;
  processors?: Record<string, Record<string, unknown> | null>;
  exporters?: Record<string, Record<string, unknown> | null>;
  service?: {
    pipelines?: Record<string, { receivers?: string[]; processors?: string[]; exporters?: string[] } | null>;
  };
};

const SINKS = new Set(['debug', 'logging', 'nop', 'file']);
const DEFAULT_RETRY_MAX_ELAPSED_MS = 300_000;

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function obj(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}

/** Parses an effective collector configuration; undefined when there is none or it is not YAML. */
export function collectorPipelineOf(config: string | undefined): CollectorPipeline | undefined {
  if (config === undefined) return undefined;
  let raw: Raw;
  try {
    raw = (parse(config) as Raw | null) ?? {};
  } catch {
    return undefined;
  }
  const receivers: CollectorPipeline['receivers'] = {};
  const processors: CollectorPipeline['processors'] = {};
  const inPipelines = new Map<string, Signal[]>();
  const maxItems = new Map<string, Partial<Record<Signal, number>>>();
  const batchSizes = new Map<string, Partial<Record<Signal, number>>>();
  const holdMs: CollectorPipeline['holdMs'] = {};
  for (const [name, p] of Object.entries(raw.service?.pipelines ?? {})) {
    const signal = name.split('/')[0] as Signal;
    if (!SIGNALS.includes(signal) || p === null) continue;
    (receivers[signal] ??= []).push(...(p.receivers ?? []));
    (processors[signal] ??= []).push(...(p.processors ?? []));
    const held =
      (p.processors ?? []).reduce((ms, n) => ms + processorHoldMs(n, obj(raw.processors?.[n])), 0) +
      Math.max(0, ...(p.exporters ?? []).map((e) => exporterHoldMs(obj(raw.exporters?.[e]))));
    holdMs[signal] = Math.max(holdMs[signal] ?? 0, held);
    // The last batch processor of the pipeline sizes what its exporters get.
    const batch = [...(p.processors ?? [])].reverse().find((n) => n === 'batch' || n.startsWith('batch/'));
    const batchConfig = batch === undefined ? undefined : obj(raw.processors?.[batch]);
    for (const e of p.exporters ?? []) {
      const list = inPipelines.get(e) ?? [];
      if (!list.includes(signal)) list.push(signal);
      inPipelines.set(e, list);
      if (batchConfig !== undefined) {
        const max = num(batchConfig.send_batch_max_size) ?? 0;
        const size = num(batchConfig.send_batch_size) ?? 8_192;
        const m = maxItems.get(e) ?? {};
        if (max > 0) m[signal] = Math.max(m[signal] ?? 0, max);
        maxItems.set(e, m);
        const b = batchSizes.get(e) ?? {};
        b[signal] = size;
        batchSizes.set(e, b);
      }
    }
  }
  const exporters: ExporterFacts[] = [];
  for (const [name, signals] of inPipelines) {
    const c = obj(raw.exporters?.[name]);
    const type = name.split('/')[0]!;
    const retry = obj(c.retry_on_failure);
    // prometheus_remote_write keeps its own in-memory queue (remote_write_queue).
    const queue = type.startsWith('prometheus') ? obj(c.remote_write_queue) : obj(c.sending_queue);
    const batch = obj(queue.batch);
    const perRequest = { ...(maxItems.get(name) ?? {}) };
    const batchMax = num(batch.max_size);
    if (queue.batch !== undefined && batchMax !== undefined && batchMax > 0 && (batch.sizer ?? 'items') === 'items') {
      for (const s of signals) perRequest[s] = Math.min(perRequest[s] ?? Infinity, batchMax);
    }
    const brokers = Array.isArray(c.brokers) ? (c.brokers as unknown[]) : [];
    exporters.push({
      name,
      type,
      signals,
      endpoint: typeof c.endpoint === 'string' ? c.endpoint : typeof brokers[0] === 'string' ? brokers[0] : undefined,
      sink: SINKS.has(type),
      retry: {
        enabled: retry.enabled !== false,
        maxElapsedMs: goDurationMs(retry.max_elapsed_time) ?? DEFAULT_RETRY_MAX_ELAPSED_MS,
      },
      queue: {
        enabled: queue.enabled !== false,
        size: num(queue.queue_size) ?? (type.startsWith('prometheus') ? 10_000 : 1_000),
        sizer: typeof queue.sizer === 'string' ? queue.sizer : 'requests',
        consumers: num(queue.num_consumers) ?? (type.startsWith('prometheus') ? 5 : 10),
        persistent: typeof queue.storage === 'string',
      },
      maxItemsPerRequest: perRequest,
      batchSize: batchSizes.get(name) ?? {},
    });
  }
  return { exporters, receivers, processors, holdMs };
}

/** How long a processor may hold an item before passing it on (0 for those that pass items straight on). */
function processorHoldMs(id: string, config: Record<string, unknown>): number {
  const type = id.split('/')[0];
  if (type === 'batch') return goDurationMs(config.timeout) ?? 200;
  if (type === 'tail_sampling') return (goDurationMs(config.decision_wait) ?? 30_000) + 1_000;
  if (type === 'groupbytrace') return goDurationMs(config.wait_duration) ?? 1_000;
  return 0;
}

/** How long an exporter's own batching (`sending_queue.batch`) may hold a request before sending it. */
function exporterHoldMs(config: Record<string, unknown>): number {
  const queue = obj(config.sending_queue);
  if (queue.batch === undefined || queue.enabled === false) return 0;
  return goDurationMs(obj(queue.batch).flush_timeout) ?? 200;
}

/**
 * The exporters of `signal` that deliver to `backend`: those that are not sinks; when several remain, those
 * whose endpoint names the backend (its service name, or the host of its query address). Undefined when
 * the configuration cannot tell (then counters of "what was sent to it" are no census).
 */
export function exportersFeeding(
  pipeline: CollectorPipeline,
  signal: Signal,
  backend: { name: string; hosts?: readonly string[] },
): ExporterFacts[] | undefined {
  const candidates = pipeline.exporters.filter((e) => e.signals.includes(signal) && !e.sink);
  if (candidates.length <= 1) return candidates;
  const names = [backend.name, ...(backend.hosts ?? [])].map((h) => h.toLowerCase());
  const matching = candidates.filter((e) => {
    const endpoint = (e.endpoint ?? '').toLowerCase();
    return names.some((n) => n !== '' && new RegExp(`(^|[/@.:])${escape(n)}([.:/]|$)`).test(endpoint));
  });
  return matching.length > 0 ? matching : undefined;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
