import { parse } from 'yaml';
import { traceTraits, type TraceShape } from '../../../generators/index.js';

/**
 * The tail_sampling processor's decision for a trace of the run, predicted exactly from its effective
 * configuration (contrib processor/tailsamplingprocessor): drop policies first; otherwise the trace is
 * kept when any policy samples it; otherwise dropped. Supported policies: always_sample, status_code,
 * latency (integer milliseconds), probabilistic (FNV-1a 64 over the hash salt and the 16 trace-id bytes,
 * against a threshold computed as Go's big.Float does), and `and` of those. Anything else makes the
 * oracle unavailable, with the reason.
 */
export type SamplingOracle =
  | { kind: 'none' }
  | { kind: 'predict'; describe: string; decisionWaitMs: number; keep(seq: number, traceId: Uint8Array): boolean }
  | { kind: 'unsupported'; reason: string };

interface PolicyConfig {
  name?: string;
  type?: string;
  status_code?: { status_codes?: string[] };
  latency?: { threshold_ms?: number; upper_threshold_ms?: number };
  probabilistic?: { hash_salt?: string; sampling_percentage?: number };
  and?: { and_sub_policy?: PolicyConfig[] };
  drop?: { drop_sub_policy?: PolicyConfig[] };
}

interface TailSamplingConfig {
  decision_wait?: string;
  policies?: PolicyConfig[];
}

type Decide = (seq: number, traceId: Uint8Array) => boolean;

const MASK64 = (1n << 64n) - 1n;
const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;

/** FNV-1a 64 of `bytes`, continuing from `h`. */
export function fnv1a64(bytes: Uint8Array, h = FNV64_OFFSET): bigint {
  let x = h;
  for (const b of bytes) {
    x ^= BigInt(b);
    x = (x * FNV64_PRIME) & MASK64;
  }
  return x;
}

/** Exact binary value of a float64 as numerator / 2^shift. */
function float64Parts(value: number): { mantissa: bigint; shift: bigint } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const exponent = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  if (exponent === 0) return { mantissa: fraction, shift: 1074n };
  const mantissa = fraction | (1n << 52n);
  const e = exponent - 1075; // value = mantissa × 2^e
  return e >= 0 ? { mantissa: mantissa << BigInt(e), shift: 0n } : { mantissa, shift: BigInt(-e) };
}

/**
 * Go's `calculateThreshold(ratio)`: big.Float(MaxUint64) × big.NewFloat(ratio), rounded to the product's
 * 64-bit precision (nearest even), then truncated by .Uint64().
 */
export function probabilisticThreshold(ratio: number): bigint {
  if (ratio >= 1) return MASK64;
  const { mantissa, shift } = float64Parts(ratio);
  let n = MASK64 * mantissa; // exact product, value = n / 2^shift
  let extra = 0n;
  const length = BigInt(n.toString(2).length);
  if (length > 64n) {
    const drop = length - 64n;
    let q = n >> drop;
    const rem = n & ((1n << drop) - 1n);
    const half = 1n << (drop - 1n);
    if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
    n = q;
    extra = drop;
  }
  const total = shift - extra;
  return total >= 0n ? n >> total : n << -total;
}

const SALT_DEFAULT = 'default-hash-seed';

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function policy(p: PolicyConfig, shape: TraceShape): Decide | string {
  switch (p.type) {
    case 'always_sample':
      return () => true;
    case 'status_code': {
      const codes = p.status_code?.status_codes ?? [];
      const unknown = codes.filter((c) => !['ERROR', 'OK', 'UNSET'].includes(c));
      if (unknown.length > 0) return `status_code ${unknown.join(', ')}`;
      // The generator sets ERROR on the root of error traces and leaves every other span UNSET.
      return (seq) => {
        const error = traceTraits(seq, shape).error;
        return codes.includes('UNSET') || (error && codes.includes('ERROR'));
      };
    }
    case 'latency': {
      const lower = p.latency?.threshold_ms ?? 0;
      const upper = p.latency?.upper_threshold_ms ?? 0;
      // Duration = latest end − earliest start, whole milliseconds: the root span covers its trace.
      // Since contrib v0.157 (PR 49595) threshold_ms is exclusive, with or without an upper bound.
      return (seq) => {
        const d = Math.trunc(traceTraits(seq, shape).durationMs);
        return upper > 0 ? d > lower && d <= upper : d > lower;
      };
    }
    case 'probabilistic': {
      const percentage = p.probabilistic?.sampling_percentage ?? 0;
      const salt =
        p.probabilistic?.hash_salt === undefined || p.probabilistic.hash_salt === ''
          ? SALT_DEFAULT
          : p.probabilistic.hash_salt;
      const threshold = probabilisticThreshold(percentage / 100);
      const seed = fnv1a64(utf8(salt));
      return (_seq, traceId) => fnv1a64(traceId, seed) <= threshold;
    }
    case 'and': {
      const subs = (p.and?.and_sub_policy ?? []).map((s) => policy(s, shape));
      const bad = subs.find((s): s is string => typeof s === 'string');
      if (bad !== undefined) return bad;
      return (seq, id) => (subs as Decide[]).every((d) => d(seq, id));
    }
    default:
      return `policy type ${p.type ?? '(none)'}`;
  }
}

/**
 * The oracle of a collector configuration's tail_sampling processor in the traces pipeline, for traces of
 * `shape`; `none` when the traces pipeline samples nothing.
 */
export function samplingOracle(collectorConfig: string | undefined, shape: TraceShape): SamplingOracle {
  if (collectorConfig === undefined) return { kind: 'none' };
  const config = parse(collectorConfig) as {
    processors?: Record<string, TailSamplingConfig | null>;
    service?: { pipelines?: Record<string, { processors?: string[] }> };
  };
  const inTraces = Object.entries(config.service?.pipelines ?? {})
    .filter(([name]) => name === 'traces' || name.startsWith('traces/'))
    .flatMap(([, p]) => p.processors ?? [])
    .filter((name) => name === 'tail_sampling' || name.startsWith('tail_sampling/'));
  if (inTraces.length === 0) return { kind: 'none' };
  if (inTraces.length > 1)
    return { kind: 'unsupported', reason: 'more than one tail_sampling processor in the traces pipelines' };
  const ts = config.processors?.[inTraces[0]!] ?? {};
  const drops: Decide[] = [];
  const samples: Decide[] = [];
  const names: string[] = [];
  for (const p of ts.policies ?? []) {
    if (p.type === 'drop') {
      // A drop policy drops the trace when every one of its sub-policies samples it.
      const subs: Decide[] = [];
      for (const sub of p.drop?.drop_sub_policy ?? []) {
        const d = policy(sub, shape);
        if (typeof d === 'string')
          return { kind: 'unsupported', reason: `${d} (policy ${p.name ?? ''}) cannot be predicted` };
        subs.push(d);
      }
      drops.push((seq, id) => subs.every((d) => d(seq, id)));
      names.push(`drop ${p.name ?? ''}`);
      continue;
    }
    const d = policy(p, shape);
    if (typeof d === 'string')
      return { kind: 'unsupported', reason: `${d} (policy ${p.name ?? ''}) cannot be predicted` };
    samples.push(d);
    names.push(`${p.name ?? p.type ?? ''} (${p.type ?? ''})`);
  }
  const decisionWaitMs = durationMs(ts.decision_wait ?? '30s');
  return {
    kind: 'predict',
    describe: `tail_sampling ${inTraces[0]}: ${names.join(', ')}; decision_wait ${decisionWaitMs / 1000} s`,
    decisionWaitMs,
    keep: (seq, id) => !drops.some((d) => d(seq, id)) && samples.some((d) => d(seq, id)),
  };
}

function durationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text.trim());
  if (m === null) return 30_000;
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
}
