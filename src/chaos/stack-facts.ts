import { parse } from 'yaml';
import { parseDurationMs } from '../config/duration.js';
import type { StackFacts } from './chaos-analysis.js';

/**
 * What the analysis needs to know of the collector that ran: whether a batch processor sits in the
 * pipelines (and its timeout), and the exporters' retry max_elapsed_time. Read from the rendered config.
 */
export function stackFactsOf(collectorConfig: string, variant: string): StackFacts {
  const config = parse(collectorConfig) as {
    processors?: Record<string, { timeout?: string } | null>;
    exporters?: Record<string, { retry_on_failure?: { max_elapsed_time?: string } } | null>;
    service?: { pipelines?: Record<string, { processors?: string[] }> };
  };
  const usesBatch = Object.values(config.service?.pipelines ?? {}).some((p) =>
    (p.processors ?? []).some((n) => n === 'batch' || n.startsWith('batch/')),
  );
  const batchName = Object.keys(config.processors ?? {}).find((n) => n === 'batch' || n.startsWith('batch/'));
  const timeout = batchName === undefined ? undefined : (config.processors?.[batchName]?.timeout ?? '200ms');
  const elapsed = Object.values(config.exporters ?? {})
    .map((e) => e?.retry_on_failure?.max_elapsed_time)
    .find((t): t is string => t !== undefined);
  return {
    variant,
    batchTimeoutMs: usesBatch && timeout !== undefined ? parseDurationMs(timeout, 'batch timeout') : undefined,
    retryMaxElapsedMs: elapsed === undefined ? 300_000 : parseDurationMs(elapsed, 'max_elapsed_time'),
  };
}
