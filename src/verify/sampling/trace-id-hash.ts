/** Hashes of trace ids as the collector's samplers compute them, cheap enough for every trace of a long run. */

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
export function fnvAtMost(bytes: Uint8Array, seed: bigint, threshold: bigint): boolean {
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

/** FNV-1a 32 of the 4 little-endian bytes of `seed` then `bytes`: the probabilistic_sampler's computeHash. */
export function fnv1a32Seeded(bytes: Uint8Array, seed: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < 4; i++) h = Math.imul(h ^ ((seed >>> (8 * i)) & 0xff), 0x01000193);
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}
