import { traceTraits } from '../../../generators/index.js';
import { atLeast } from './collector-version.js';
import { goDurationMs } from '../../options/go-duration.js';
import { fnv1a64, fnvAtMost, probabilisticThreshold } from './trace-id-hash.js';
import type { Decide, StageOutcome, TraceModel } from './trace-model.js';

interface PolicyConfig {
  name?: string;
  type?: string;
  status_code?: { status_codes?: string[] } | null;
  latency?: { threshold_ms?: number; upper_threshold_ms?: number } | null;
  probabilistic?: { hash_salt?: string; sampling_percentage?: number } | null;
  and?: { and_sub_policy?: PolicyConfig[] } | null;
  drop?: { drop_sub_policy?: PolicyConfig[] } | null;
}

/** The tail_sampling processor's settings the prediction reads. */
export interface TailSamplingConfig {
  decision_wait?: unknown;
  policies?: PolicyConfig[] | null;
  sample_on_first_match?: boolean;
  sampling_strategy?: string;
}

type Compiled = { decide: Decide; always: boolean } | { unsupported: string };

const SALT_DEFAULT = 'default-hash-seed';
const STATUS_CODES = ['ERROR', 'OK', 'UNSET'];

/**
 * One policy's decision for the generated traces, as the contrib processor's evaluators make it:
 * - status_code samples when any span has a listed code; the generator sets ERROR on the root of error
 *   traces and leaves every other span UNSET (so UNSET matches unless the trace is a single error span);
 * - latency compares max(end) − min(start), truncated to whole ms, with threshold_ms inclusive up to
 *   contrib v0.156 and exclusive from v0.157 (contrib#49595) when upper_threshold_ms is 0, and
 *   `threshold_ms < d ≤ upper_threshold_ms` otherwise; spans are evaluated as received and the generator
 *   sends the root, which covers its trace, first;
 * - probabilistic: FNV-1a 64 of the hash salt then the 16 trace-id bytes, ≤ the threshold Go computes;
 * - and: every sub-policy samples.
 */
function compilePolicy(p: PolicyConfig, model: TraceModel): Compiled {
  const { shape } = model;
  switch (p.type) {
    case 'always_sample':
      return { decide: () => true, always: true };
    case 'status_code': {
      const codes = p.status_code?.status_codes ?? [];
      if (codes.length === 0) return { unsupported: 'status_code without status_codes (the collector refuses it)' };
      const unknown = codes.filter((c) => !STATUS_CODES.includes(c));
      if (unknown.length > 0) return { unsupported: `status_code ${unknown.join(', ')}` };
      const error = codes.includes('ERROR');
      const unset = codes.includes('UNSET');
      const multiSpan = shape.spansPerTrace > 1;
      return {
        decide: (seq) => {
          const isError = traceTraits(seq, shape).error;
          return (error && isError) || (unset && (multiSpan || !isError));
        },
        always: false,
      };
    }
    case 'latency': {
      const lower = p.latency?.threshold_ms ?? 0;
      const upper = p.latency?.upper_threshold_ms ?? 0;
      if (!Number.isInteger(shape.spanDurationMs) || !Number.isInteger(shape.slowDurationMs))
        return { unsupported: 'latency with span durations in fractions of a millisecond' };
      if (upper > 0) {
        return {
          decide: (seq) => {
            const d = traceTraits(seq, shape).durationMs;
            return lower < d && d <= upper;
          },
          always: false,
        };
      }
      const exclusive = atLeast(model.version(), 0, 157);
      return {
        decide: exclusive
          ? (seq) => traceTraits(seq, shape).durationMs > lower
          : (seq) => traceTraits(seq, shape).durationMs >= lower,
        always: false,
      };
    }
    case 'probabilistic': {
      const percentage = p.probabilistic?.sampling_percentage ?? 0;
      const salt = p.probabilistic?.hash_salt || SALT_DEFAULT;
      const threshold = probabilisticThreshold(percentage / 100);
      const seed = fnv1a64(new TextEncoder().encode(salt));
      return { decide: (_seq, id) => fnvAtMost(id, seed, threshold), always: false };
    }
    case 'and': {
      const subs: Decide[] = [];
      for (const sub of p.and?.and_sub_policy ?? []) {
        const c = compilePolicy(sub, model);
        if ('unsupported' in c) return c;
        subs.push(c.decide);
      }
      return { decide: (seq, id) => subs.every((d) => d(seq, id)), always: false };
    }
    default:
      return { unsupported: `policy type ${p.type ?? '(none)'}` };
  }
}

/**
 * The tail_sampling processor `name` (configuration `ts`) as a stage. The processor evaluates the drop
 * policies first, whatever their place in the list, and drops the trace when one of them matches (all of
 * its sub-policies sample); then the other policies in order, keeping the trace when one samples. With
 * `sample_on_first_match` it stops at the first policy that samples, which changes no outcome of the
 * policies predicted here (they neither invert decisions nor keep state) but leaves the policies after an
 * always_sample unevaluated, so those need no prediction.
 */
export function tailSamplingStage(name: string, ts: TailSamplingConfig, model: TraceModel): StageOutcome {
  if (ts.sampling_strategy !== undefined && ts.sampling_strategy !== 'trace-complete')
    return { unsupported: `${name}: sampling_strategy ${ts.sampling_strategy}` };
  const decisionWaitMs = goDurationMs(ts.decision_wait ?? '30s');
  if (decisionWaitMs === undefined || decisionWaitMs < 0)
    return { unsupported: `${name}: decision_wait '${String(ts.decision_wait)}' is not a Go duration` };
  const firstMatch = ts.sample_on_first_match === true;
  const drops: Decide[] = [];
  const samples: Decide[] = [];
  const names: string[] = [];
  let reachable = true;
  for (const p of ts.policies ?? []) {
    const label = p.name ?? '';
    if (p.type === 'drop') {
      const subs: Decide[] = [];
      for (const sub of p.drop?.drop_sub_policy ?? []) {
        const c = compilePolicy(sub, model);
        if ('unsupported' in c) return { unsupported: `${name}: ${c.unsupported} (policy ${label})` };
        subs.push(c.decide);
      }
      drops.push((seq, id) => subs.every((d) => d(seq, id)));
      names.push(`drop ${label}`);
      continue;
    }
    if (!reachable) {
      names.push(`${label} (${p.type ?? ''}, never evaluated)`);
      continue;
    }
    const c = compilePolicy(p, model);
    if ('unsupported' in c) return { unsupported: `${name}: ${c.unsupported} (policy ${label})` };
    samples.push(c.decide);
    names.push(`${label || p.type || ''} (${p.type ?? ''})`);
    if (firstMatch && c.always) reachable = false;
  }
  const settings = `decision_wait ${decisionWaitMs / 1000} s${firstMatch ? ', sample_on_first_match' : ''}`;
  return {
    describe: `${name}: ${names.join(', ')}; ${settings}`,
    decisionWaitMs,
    keep: (seq, id) => {
      for (const d of drops) if (d(seq, id)) return false;
      for (const s of samples) if (s(seq, id)) return true;
      return false;
    },
  };
}
