import { parse } from 'yaml';
import { filterStage, type FilterConfig } from './span-filter.js';
import { probabilisticSamplerStage } from './probabilistic-sampler.js';
import { tailSamplingStage } from './tail-sampling-policies.js';
import { isUnsupported, type Stage, type TraceModel } from './trace-model.js';

/** Processor types that can drop generated traces, and are predicted. */
const DROPPERS = new Set(['tail_sampling', 'probabilistic_sampler', 'filter']);
/** Processor types that pass spans on unchanged (they may delay or batch them). */
const UNCHANGED = new Set(['memory_limiter', 'batch', 'groupbytrace', ...DROPPERS]);

/** What one collector's traces pipeline does to the generated traces. */
export interface CollectorStages {
  /** Its dropping processors in pipeline order (empty: it drops no trace). */
  stages: Stage[];
  /** Equal for collectors that drop traces alike. */
  signature: string;
  /** The first processor that may change spans, for filters after it (the argument, if already set). */
  rewrittenBy: string | undefined;
}

interface CollectorConfig {
  processors?: Record<string, unknown> | null;
  service?: { pipelines?: Record<string, { processors?: string[] | null } | null> | null } | null;
}

const typeOf = (processor: string) => processor.split('/')[0]!;

/**
 * The stages of collector `collector` (its configuration YAML) on the generated traces: the
 * tail_sampling, probabilistic_sampler and filter processors of its traces pipeline, in order, or why it
 * cannot be predicted (several traces pipelines with such processors; a processor that cannot be
 * predicted). `rewrittenBy` names a processor earlier on the path that may have changed the spans.
 */
export function collectorStages(
  collector: string,
  configYaml: string,
  model: TraceModel,
  rewrittenBy: string | undefined,
): CollectorStages | { unsupported: string } {
  const config = (parse(configYaml) ?? {}) as CollectorConfig;
  const pipelines = Object.entries(config.service?.pipelines ?? {})
    .filter(([name]) => name === 'traces' || name.startsWith('traces/'))
    .map(([name, p]) => ({ name, processors: p?.processors ?? [] }));
  const dropping = pipelines.filter((p) => p.processors.some((name) => DROPPERS.has(typeOf(name))));
  if (dropping.length === 0) {
    const first = pipelines.flatMap((p) => p.processors).find((name) => !UNCHANGED.has(typeOf(name)));
    return { stages: [], signature: '[]', rewrittenBy: rewrittenBy ?? (first && `${collector} ${first}`) };
  }
  if (pipelines.length > 1)
    return {
      unsupported: `${collector}: ${pipelines.length} traces pipelines, ${dropping.map((p) => p.name).join(', ')} dropping traces`,
    };
  const processors = dropping[0]!.processors;
  const stages: Stage[] = [];
  const sections: unknown[] = [];
  let rewriter = rewrittenBy;
  for (const name of processors) {
    const type = typeOf(name);
    const section = config.processors?.[name] ?? {};
    if (!DROPPERS.has(type)) {
      if (!UNCHANGED.has(type)) rewriter ??= `${collector} ${name}`;
      continue;
    }
    sections.push([name, section]);
    const outcome =
      type === 'tail_sampling'
        ? tailSamplingStage(name, section, model)
        : type === 'probabilistic_sampler'
          ? probabilisticSamplerStage(name, section, model)
          : filterStage(name, section as FilterConfig, model, rewriter);
    if (isUnsupported(outcome)) return { unsupported: `${collector}: processor ${outcome.unsupported}` };
    if (outcome !== undefined) stages.push(outcome);
  }
  return { stages, signature: JSON.stringify([processors, sections]), rewrittenBy: rewriter };
}
