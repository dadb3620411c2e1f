import { parse } from 'yaml';
import { goDurationMs } from '../options/go-duration.js';
import { SIGNALS, type Signal } from '../load/ledger.js';
import type { StackFacts } from './chaos-analysis.js';

/**
 * What the analysis needs to know of the collector that ran: whether a batch processor sits in the
 * pipelines (and its timeout), the exporters' retry max_elapsed_time, and which signal's exporter keeps
 * its queue in memory. Read from the rendered config.
 */
export function stackFactsOf(collectorConfig: string, variant: string, role?: string): StackFacts {
  const config = parse(collectorConfig) as {
    receivers?: Record<string, unknown>;
    processors?: Record<string, { timeout?: string; decision_wait?: string } | null>;
    exporters?: Record<
      string,
      { retry_on_failure?: { max_elapsed_time?: string }; sending_queue?: { storage?: string } } | null
    >;
    service?: { pipelines?: Record<string, { receivers?: string[]; processors?: string[]; exporters?: string[] }> };
  };
  const usesBatch = Object.values(config.service?.pipelines ?? {}).some((p) =>
    (p.processors ?? []).some((n) => n === 'batch' || n.startsWith('batch/')),
  );
  const batchName = Object.keys(config.processors ?? {}).find((n) => n === 'batch' || n.startsWith('batch/'));
  const timeout = batchName === undefined ? undefined : (config.processors?.[batchName]?.timeout ?? '200ms');
  const elapsed = Object.values(config.exporters ?? {})
    .map((e) => e?.retry_on_failure?.max_elapsed_time)
    .find((t): t is string => t !== undefined);
  const inMemoryExporter: Partial<Record<Signal, string>> = {};
  for (const signal of SIGNALS) {
    const name = (config.service?.pipelines?.[signal]?.exporters ?? []).find(
      (n) => config.exporters?.[n]?.sending_queue?.storage === undefined,
    );
    if (name !== undefined) inMemoryExporter[signal] = name;
  }
  const traces = config.service?.pipelines?.traces;
  const sampler = (traces?.processors ?? []).find((n) => n === 'tail_sampling' || n.startsWith('tail_sampling/'));
  const receivers = Object.values(config.service?.pipelines ?? {}).flatMap((p) => p.receivers ?? []);
  return {
    variant,
    role,
    decisionWaitMs:
      sampler === undefined
        ? undefined
        : (goDurationMs(config.processors?.[sampler]?.decision_wait ?? '30s') ?? 30_000),
    readsKafka: receivers.some((r) => r === 'kafka' || r.startsWith('kafka/')),
    inMemoryExporter,
    batchTimeoutMs: usesBatch && timeout !== undefined ? goDurationMs(timeout) : undefined,
    retryMaxElapsedMs: elapsed === undefined ? 300_000 : (goDurationMs(elapsed) ?? 300_000),
  };
}
