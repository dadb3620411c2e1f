import type { SeqRange } from './ledger.js';

/**
 * Arithmetic on sorted, non-overlapping sequence ranges, so that verification needs memory proportional
 * to the number of ranges (batches with distinct outcomes), never to the number of items.
 */

/** Index of the first range (sorted by `first`, not overlapping) that ends after `seq` (binary search). */
export function firstEndingAfter(ranges: readonly Pick<SeqRange, 'first' | 'count'>[], seq: number): number {
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const r = ranges[mid]!;
    if (r.first + r.count <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether `seq` lies in one of the sorted ranges. */
export function containsSeq(ranges: readonly SeqRange[], seq: number): boolean {
  const r = ranges[firstEndingAfter(ranges, seq)];
  return r !== undefined && r.first <= seq;
}

/** How many seqs of the sorted ranges lie in [from, to). */
export function countInRange(ranges: readonly SeqRange[], from: number, to: number): number {
  let n = 0;
  for (let i = firstEndingAfter(ranges, from); i < ranges.length; i++) {
    const r = ranges[i]!;
    if (r.first >= to) break;
    n += Math.min(to, r.first + r.count) - Math.max(from, r.first);
  }
  return n;
}

/** The parts of the sorted ranges inside [from, to). */
export function clipRanges(ranges: readonly SeqRange[], from: number, to: number): SeqRange[] {
  const out: SeqRange[] = [];
  for (let i = firstEndingAfter(ranges, from); i < ranges.length; i++) {
    const r = ranges[i]!;
    if (r.first >= to) break;
    const first = Math.max(from, r.first);
    out.push({ first, count: Math.min(to, r.first + r.count) - first });
  }
  return out;
}

/** One past the last seq of the ranges (0 when empty). */
export function endOf(ranges: readonly SeqRange[]): number {
  let end = 0;
  for (const r of ranges) end = Math.max(end, r.first + r.count);
  return end;
}

/**
 * For every residue s in [0, modulus), how many seqs n of the sorted ranges within [from, to) have
 * n mod modulus = s: whole cycles add to every residue, the rest to a contiguous (wrapping) run.
 */
export function residueCounts(ranges: readonly SeqRange[], from: number, to: number, modulus: number): Int32Array {
  const diff = new Int32Array(modulus + 1);
  let everyResidue = 0;
  for (const r of clipRanges(ranges, from, to)) {
    everyResidue += Math.floor(r.count / modulus);
    const rest = r.count % modulus;
    if (rest === 0) continue;
    const start = r.first % modulus;
    const end = start + rest;
    if (end <= modulus) {
      diff[start]! += 1;
      diff[end]! -= 1;
    } else {
      diff[start]! += 1;
      diff[modulus]! -= 1;
      diff[0]! += 1;
      diff[end - modulus]! -= 1;
    }
  }
  const out = new Int32Array(modulus);
  let running = 0;
  for (let s = 0; s < modulus; s++) {
    running += diff[s]!;
    out[s] = running + everyResidue;
  }
  return out;
}

/** Collects seqs or ranges given in ascending order into merged ranges, without holding the seqs. */
export class RangeBuilder {
  private readonly out: SeqRange[] = [];
  private total = 0;

  add(first: number, count = 1): void {
    if (count <= 0) return;
    this.total += count;
    const last = this.out[this.out.length - 1];
    if (last !== undefined && first < last.first + last.count) {
      throw new Error(`RangeBuilder: ${first} is not after ${last.first + last.count - 1}`);
    }
    if (last !== undefined && last.first + last.count === first) last.count += count;
    else this.out.push({ first, count });
  }

  get size(): number {
    return this.total;
  }

  ranges(): SeqRange[] {
    return this.out;
  }
}

/** The seqs of sorted ranges `a` that are not in sorted ranges `b`, as sorted ranges. */
export function subtractRanges(a: readonly SeqRange[], b: readonly SeqRange[]): SeqRange[] {
  const out: SeqRange[] = [];
  for (const r of a) {
    let from = r.first;
    const end = r.first + r.count;
    for (const cut of clipRanges(b, from, end)) {
      if (cut.first > from) out.push({ first: from, count: cut.first - from });
      from = cut.first + cut.count;
    }
    if (from < end) out.push({ first: from, count: end - from });
  }
  return out;
}

/** The union of two sorted range lists, sorted, adjacent and overlapping ranges joined. */
export function mergeRanges(a: readonly SeqRange[], b: readonly SeqRange[]): SeqRange[] {
  const all = [...a, ...b].sort((x, y) => x.first - y.first);
  const out: SeqRange[] = [];
  for (const r of all) {
    const last = out[out.length - 1];
    if (last !== undefined && r.first <= last.first + last.count)
      last.count = Math.max(last.count, r.first + r.count - last.first);
    else out.push({ first: r.first, count: r.count });
  }
  return out;
}
