import { atLeast } from './collector-version.js';
import { fnv1a32Seeded } from './trace-id-hash.js';
import type { StageOutcome, TraceModel } from './trace-model.js';

/** The probabilistic_sampler processor's settings the prediction reads. */
export interface ProbabilisticSamplerConfig {
  sampling_percentage?: number;
  hash_seed?: number;
  mode?: string;
}

const HASH_BUCKETS = 0x4000;
const PERCENT_SCALE = Math.fround(HASH_BUCKETS / 100);

/**
 * The probabilistic_sampler processor `name` on the generated spans (no tracestate, no sampling.priority
 * attribute) as a stage. In `hash_seed` mode — its mode when none is set — it keeps a span when
 * FNV-1a 32 of the 4 little-endian hash_seed bytes then the 16 trace-id bytes, masked to 14 bits, is below
 * uint32(float32(sampling_percentage) × float32(163.84)); percentages above 100 count as 100 and 0 keeps
 * nothing. All spans of a trace share the decision. The proportional and equalizing modes are not
 * predicted, nor collectors before contrib v0.116.
 */
export function probabilisticSamplerStage(
  name: string,
  cfg: ProbabilisticSamplerConfig,
  model: TraceModel,
): StageOutcome {
  const mode = cfg.mode ?? '';
  if (mode !== '' && mode !== 'hash_seed') return { unsupported: `${name}: mode ${mode}` };
  if (!atLeast(model.version(), 0, 116)) return { unsupported: `${name}: collector ${model.version().text}` };
  const raw = cfg.sampling_percentage ?? 0;
  const seed = cfg.hash_seed ?? 0;
  if (!Number.isFinite(raw) || raw < 0 || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    return { unsupported: `${name}: sampling_percentage ${raw}, hash_seed ${seed}` };
  const percentage = Math.min(Math.fround(raw), 100);
  const scaled = percentage === 0 ? 0 : Math.trunc(Math.fround(percentage * PERCENT_SCALE));
  return {
    describe: `${name}: ${percentage} % (hash_seed ${seed})`,
    decisionWaitMs: 0,
    keep: (_seq, id) => (fnv1a32Seeded(id, seed) & (HASH_BUCKETS - 1)) < scaled,
  };
}
