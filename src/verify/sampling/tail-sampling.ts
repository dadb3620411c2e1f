import { parse } from 'yaml';
import { runTag, traceId, traceTraits, type TraceShape } from '../../../generators/index.js';
import { seqsOf, type SeqRange } from '../../load/ledger.js';

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

const TWO_32 = 4294967296;

/**
 * FNV-1a 64 of `bytes` after the state `seed`, compared with `threshold` (≤), in 32-bit halves: the same
 * arithmetic as fnv1a64 without BigInt, for the millions of traces of a long run. The prime is
 * 2^40 + 0x1b3, so h × prime = (h << 40) + h × 0x1b3 (mod 2^64).
 */
function fnvAtMost(bytes: Uint8Array, seed: bigint, threshold: bigint): boolean {
  let hi = Number(seed >> 32n);
  let lo = Number(seed & 0xffffffffn);
  for (let i = 0; i < bytes.length; i++) {
    lo = (lo ^ bytes[i]!) >>> 0;
    const low = lo * 0x1b3; // < 2^41: exact
    const carry = Math.floor(low / TWO_32);
    hi = (Math.imul(hi, 0x1b3) + (lo << 8) + carry) >>> 0;
    lo = low % TWO_32;
  }
  const tHi = Number(threshold >> 32n);
  const tLo = Number(threshold & 0xffffffffn);
  return hi < tHi || (hi === tHi && lo <= tLo);
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
      return (_seq, id) => fnvAtMost(id, seed, threshold);
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
    describe: `${inTraces[0]}: ${names.join(', ')}; decision_wait ${decisionWaitMs / 1000} s`,
    decisionWaitMs,
    keep: (seq, id) => !drops.some((d) => d(seq, id)) && samples.some((d) => d(seq, id)),
  };
}

function durationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text.trim());
  if (m === null) return 30_000;
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
}

/**
 * What the harness knows of the sampling between its acknowledgement and the trace backend: nothing
 * samples (`none`), a decision predicted per trace (`predict`), or sampling it cannot predict
 * (`unsupported`, with the reason: absent traces then cannot be told from dropped ones).
 */
export type TraceSampling =
  | { kind: 'none' }
  | { kind: 'predict'; describe: string; decisionWaitMs: number; keep(seq: number): boolean }
  | { kind: 'unsupported'; reason: string };

/**
 * The sampling of the run's traces by the collectors that export to the backends (`configs`: their
 * effective configurations; undefined when unknown). Every such collector must sample alike: a trace is
 * decided by whichever one receives it.
 */
export function traceSamplingOf(
  configs: readonly (string | undefined)[],
  shape: TraceShape,
  runId: string,
): TraceSampling {
  const oracles = configs.map((c) => samplingOracle(c, shape));
  const first = oracles[0];
  if (first === undefined || oracles.every((o) => o.kind === 'none')) return { kind: 'none' };
  const bad = oracles.find((o): o is Extract<SamplingOracle, { kind: 'unsupported' }> => o.kind === 'unsupported');
  if (bad !== undefined) return bad;
  if (oracles.some((o) => o.kind === 'none'))
    return {
      kind: 'unsupported',
      reason:
        'some collectors exporting to the backends tail-sample traces and others do not (or their configuration is unknown)',
    };
  const sections = new Set(configs.map((c) => JSON.stringify(tailSamplingSection(c))));
  if (sections.size > 1)
    return {
      kind: 'unsupported',
      reason: 'the collectors exporting to the backends sample with different tail_sampling settings',
    };
  const oracle = first as Extract<SamplingOracle, { kind: 'predict' }>;
  const tag = runTag(runId);
  const id = new Uint8Array(16);
  return {
    kind: 'predict',
    describe: oracle.describe,
    decisionWaitMs: oracle.decisionWaitMs,
    keep: (seq) => oracle.keep(seq, traceId(tag, seq, id)),
  };
}

function tailSamplingSection(config: string | undefined): unknown {
  const c = parse(config ?? '') as { processors?: Record<string, unknown> } | null;
  return Object.entries(c?.processors ?? {}).filter(
    ([name]) => name === 'tail_sampling' || name.startsWith('tail_sampling/'),
  );
}

/** How many of the seqs in `ranges` the sampling keeps (all of them when nothing samples). */
export function keptCount(ranges: readonly SeqRange[], sampling: TraceSampling): number {
  let n = 0;
  if (sampling.kind !== 'predict') {
    for (const r of ranges) n += r.count;
    return n;
  }
  for (const seq of seqsOf(ranges)) if (sampling.keep(seq)) n++;
  return n;
}
