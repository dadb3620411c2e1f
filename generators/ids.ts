/**
 * Identity of generated items. A trace id is the trace's sequence number (big-endian) followed by the run's
 * 8-byte tag, so any trace id a backend returns tells which run and which item it is, and any item can be
 * fetched by id without storing ids. Span ids follow the same idea within a trace. The varying bytes come
 * first so that hashes that mix their input poorly at the end — the tail-sampling processor's FNV-1a over
 * the trace id, Kafka's key partitioner — still spread a run's traces as they spread random ids.
 */

const TWO_32 = 4294967296;

/** FNV-1a, 32-bit, over the UTF-16 code units of `text`, starting from `seed`. */
export function fnv1a32(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** 8 bytes identifying a run (or a stream within it, e.g. `${runId}/canary`). */
export function runTag(runId: string): Uint8Array {
  const tag = new Uint8Array(8);
  writeU32(tag, 0, fnv1a32(runId));
  writeU32(tag, 4, fnv1a32(runId, 0x9e3779b9) | 1); // never all-zero
  return tag;
}

function writeU32(out: Uint8Array, offset: number, v: number): void {
  out[offset] = (v >>> 24) & 0xff;
  out[offset + 1] = (v >>> 16) & 0xff;
  out[offset + 2] = (v >>> 8) & 0xff;
  out[offset + 3] = v & 0xff;
}

function readU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

/** Writes a sequence number (0 ≤ seq < 2^53) as 8 big-endian bytes. */
function writeSeq(out: Uint8Array, offset: number, seq: number): void {
  writeU32(out, offset, Math.floor(seq / TWO_32));
  writeU32(out, offset + 4, seq % TWO_32);
}

/** Trace id of item `seq` of a run: seq (8 bytes) ‖ tag (8 bytes). Pass `into` to reuse a buffer. */
export function traceId(tag: Uint8Array, seq: number, into: Uint8Array = new Uint8Array(16)): Uint8Array {
  writeSeq(into, 0, seq);
  into.set(tag, 8);
  return into;
}

/** Maximum spans per trace (span index is 16 bits). */
export const MAX_SPANS_PER_TRACE = 65535;

/** Span id of span `index` of trace `seq`: 6 bytes of seq (+1, never zero) ‖ 2 bytes of index. */
export function spanId(seq: number, index: number, into: Uint8Array = new Uint8Array(8)): Uint8Array {
  const id = into;
  const v = seq + 1;
  const hi = Math.floor(v / TWO_32);
  const lo = v % TWO_32;
  id[0] = (hi >>> 8) & 0xff;
  id[1] = hi & 0xff;
  writeU32(id, 2, lo);
  id[6] = (index >>> 8) & 0xff;
  id[7] = index & 0xff;
  return id;
}

/** The run tag and sequence number encoded in a trace id, or undefined for a foreign id. */
export function decodeTraceId(id: Uint8Array, tag: Uint8Array): number | undefined {
  if (id.length !== 16) return undefined;
  for (let i = 0; i < 8; i++) if (id[8 + i] !== tag[i]) return undefined;
  return readU32(id, 0) * TWO_32 + readU32(id, 4);
}

/** The trace sequence number and span index encoded in a span id. */
export function decodeSpanId(id: Uint8Array): { seq: number; index: number } {
  const hi = (id[0]! << 8) | id[1]!;
  const v = hi * TWO_32 + readU32(id, 2);
  return { seq: v - 1, index: (id[6]! << 8) | id[7]! };
}

const HEX = '0123456789abcdef';

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]! >> 4]! + HEX[bytes[i]! & 15]!;
  return s;
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new Error(`not a hex string: ${hex}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * Deterministic uniform number in [0, 1) for item `seq` and a purpose `salt`: decides, reproducibly,
 * which items are errors, slow, and so on, so verifiers can predict them.
 */
export function unitHash(seq: number, salt: number): number {
  let h = Math.imul((seq % TWO_32) ^ salt, 0x9e3779b1) >>> 0;
  h ^= Math.floor(seq / TWO_32);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return h / TWO_32;
}
