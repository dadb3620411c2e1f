import type { SeqRange, Signal } from '../load/ledger.js';

/** A verifier's verdict; a value, never an exception (exceptions are for bugs and broken infrastructure). */
export type VerifierOutcome =
  | { status: 'pass' }
  | { status: 'fail'; expected: number; actual: number; reason: string }
  | { status: 'inconclusive'; reason: string };

/** When a verifier checked a sample instead of every item. */
export interface SampleBound {
  population: number;
  sampleSize: number;
  missingInSample: number;
  /** Estimated lost items over the whole population. */
  estimatedLost: number;
  /** 95 % upper bound of the lost fraction (Wilson score; k = 0 gives about 3/n). */
  lostFractionUpper95: number;
}

/** What one backend holds of one signal, compared with what the pipeline acknowledged. */
export interface SignalVerification {
  signal: Signal;
  backend: string;
  /** How it was counted, e.g. 'trace by id, every trace' or 'LogQL count_over_time by seq block'. */
  method: string;
  /** Items acknowledged by the pipeline (the ones that must arrive). */
  expected: number;
  /** Of those, found in the backend. */
  found: number;
  /** expected − found: acknowledged and absent after drain. Exact unless `sample` is set. */
  lost: number;
  /** Items found more than once (reported apart, not loss). */
  duplicates: number;
  /** Items found that were never acknowledged (refused, failed or timed-out requests that got through). */
  unacknowledgedFound: number;
  /** Lost items by sequence range (traces: trace seqs; metrics: data point seqs; logs: record seqs). */
  lostRanges: SeqRange[];
  /** Sequence ranges holding duplicated items (traces: trace seqs). */
  duplicateRanges: SeqRange[];
  /** Traces only: missing spans per lost trace seq, and extra spans per duplicated trace seq. */
  itemsBySeq?: { lost: Record<string, number>; duplicates: Record<string, number> };
  /** Lost items named individually (up to a limit), e.g. `trace 89401d94…0007 span 3`. */
  lostExamples: string[];
  sample?: SampleBound;
  /** Extra exact figures (e.g. Tempo TraceQL span count). */
  figures: Record<string, number>;
  outcome: VerifierOutcome;
  notes: string[];
}

export function verdict(expected: number, found: number, what: string): VerifierOutcome {
  return found >= expected
    ? { status: 'pass' }
    : {
        status: 'fail',
        expected,
        actual: found,
        reason: `${expected - found} ${what} acknowledged and absent after drain`,
      };
}

/** Wilson score upper bound (95 %) of a proportion with k successes in n trials. */
export function wilsonUpper95(k: number, n: number): number {
  if (n === 0) return 1;
  const z = 1.959963984540054;
  const p = k / n;
  const denom = 1 + (z * z) / n;
  const centre = p + (z * z) / (2 * n);
  const margin = z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return Math.min(1, (centre + margin) / denom);
}

/** `n` distinct indices from [0, size), uniformly, reproducibly from `seed` (Floyd's algorithm). */
export function uniformSample(size: number, n: number, seed: number): number[] {
  if (n >= size) return Array.from({ length: size }, (_, i) => i);
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
  const chosen = new Set<number>();
  for (let j = size - n; j < size; j++) {
    const t = Math.floor(next() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((a, b) => a - b);
}

/** Runs `fn` over `items` with at most `concurrency` at once; results in input order. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
