import { compileCondition, Unpredictable, type Compiled, type SpanAt } from './ottl-condition.js';
import type { StageOutcome, TraceModel } from './trace-model.js';

/** The filter processor's settings the prediction reads. */
export interface FilterConfig {
  traces?: { span?: string[] | null; spanevent?: string[] | null } | null;
  [setting: string]: unknown;
}

/** Settings that leave spans alone (other signals, error handling). */
const OTHER_SETTINGS = new Set(['error_mode', 'logs', 'metrics', 'profiles', 'traces']);

/**
 * The filter processor `name` on the generated spans as a stage: it drops a span when any of its
 * `traces.span` OTTL conditions holds (spanevent conditions drop events, never a span, so they change no count).
 * Predicted when each condition is constant for the generated spans (e.g. a hash no pattern can match) or
 * the same for every span of a trace, so that it drops whole traces; a condition that can drop part of a
 * trace is not a sampler's decision and makes the stage unpredictable, as do conditions the compiler cannot
 * read, the legacy include/exclude settings, and conditions whose outcome depends on span data after
 * `rewrittenBy`, a processor earlier on the path that may have changed it.
 */
export function filterStage(
  name: string,
  cfg: FilterConfig,
  model: TraceModel,
  rewrittenBy: string | undefined,
): StageOutcome {
  const other = Object.keys(cfg).find((k) => !OTHER_SETTINGS.has(k));
  if (other !== undefined) return { unsupported: `${name}: setting ${other}` };
  const traces = cfg.traces ?? {};
  const unknown = Object.keys(traces).find((k) => k !== 'span' && k !== 'spanevent');
  if (unknown !== undefined) return { unsupported: `${name}: traces.${unknown}` };
  const conditions: Compiled[] = [];
  for (const text of traces.span ?? []) {
    let c: Compiled;
    try {
      c = compileCondition(text, model);
    } catch (e) {
      if (e instanceof Unpredictable) return { unsupported: `${name}: ${e.message}` };
      throw e;
    }
    if (c.per === 'span') return { unsupported: `${name}: a condition that can drop part of a trace, '${text}',` };
    if (c.data && rewrittenBy !== undefined)
      return { unsupported: `${name}: '${text}' reads spans after ${rewrittenBy}, which may change them` };
    conditions.push(c);
  }
  const at: SpanAt = { seq: 0, index: 0, traceId: new Uint8Array(16) };
  const live = conditions.filter((c) => c.per !== 'const' || c.eval(at) === true);
  if (live.length === 0) return undefined;
  return {
    describe: `${name}: ${live.length} of ${conditions.length} span condition(s) can drop traces`,
    decisionWaitMs: 0,
    keep: (seq, traceId) => {
      at.seq = seq;
      at.traceId = traceId;
      for (const c of live) if (c.eval(at) === true) return false;
      return true;
    },
  };
}
