/**
 * A minimal protobuf wire-format writer for OTLP payloads. Plain JavaScript (no Node Buffer, no BigInt,
 * no TextEncoder) so the same module runs in Node and in k6.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/** A 64-bit unsigned value as two 32-bit halves (JavaScript numbers lose precision above 2^53). */
export interface Uint64 {
  hi: number;
  lo: number;
}

const TWO_32 = 4294967296;

/** Unix epoch milliseconds (plus extra nanoseconds) as a 64-bit nanosecond count. */
export function nanosFromMillis(ms: number, extraNanos = 0): Uint64 {
  const msHi = Math.floor(ms / TWO_32);
  const msLo = ms - msHi * TWO_32;
  const low = msLo * 1e6 + extraNanos; // < 2^53: exact
  const lo = low % TWO_32;
  const carry = Math.floor(low / TWO_32);
  const hi = (msHi * 1e6 + carry) % TWO_32;
  return { hi, lo };
}

/** Decimal string of a Uint64 (for JSON and logs). */
export function uint64ToString(v: Uint64): string {
  // Split into base-1e7 chunks to stay exact.
  const hiPart = v.hi * TWO_32;
  if (hiPart + v.lo <= Number.MAX_SAFE_INTEGER) return String(hiPart + v.lo);
  const digits: number[] = [];
  let hi = v.hi;
  let lo = v.lo;
  while (hi > 0 || lo > 0) {
    const hiRem = hi % 10;
    hi = Math.floor(hi / 10);
    const cur = hiRem * TWO_32 + lo;
    lo = Math.floor(cur / 10);
    digits.push(cur % 10);
  }
  return digits.reverse().join('') || '0';
}

export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function varintSize(value: number): number {
  let n = 1;
  let v = value;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

/** Growable byte buffer with protobuf primitives. Nested messages: `fork()` … `join(field)`. */
export class ProtoWriter {
  private buf: Uint8Array;
  private pos = 0;
  private readonly stack: number[] = [];

  constructor(initialSize = 4096) {
    this.buf = new Uint8Array(initialSize);
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  // Hot paths read `buf` and `pos` into locals: in k6's interpreter every `this.` access costs as much
  // as the byte write itself.
  private rawVarint(value: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    let v = value;
    if (v < 0x80) {
      buf[pos] = v;
      this.pos = pos + 1;
      return;
    }
    while (v >= 0x80) {
      buf[pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  private tag(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  /** Non-negative integer up to 2^53 (enums, uint32, uint64, int64 ≥ 0). */
  varint(field: number, value: number): this {
    this.tag(field, WIRE_VARINT);
    this.rawVarint(value);
    return this;
  }

  bool(field: number, value: boolean): this {
    return this.varint(field, value ? 1 : 0);
  }

  fixed64(field: number, value: Uint64): this {
    this.tag(field, WIRE_FIXED64);
    this.ensure(8);
    this.u32(value.lo);
    this.u32(value.hi);
    return this;
  }

  /** fixed64 nanoseconds of Unix epoch milliseconds, without allocating (hot path of span timestamps). */
  fixed64Millis(field: number, ms: number): this {
    const msHi = Math.floor(ms / TWO_32);
    const low = (ms - msHi * TWO_32) * 1e6;
    const carry = Math.floor(low / TWO_32);
    this.tag(field, WIRE_FIXED64);
    this.ensure(8);
    this.u32(low % TWO_32);
    this.u32((msHi * 1e6 + carry) % TWO_32);
    return this;
  }

  fixed32(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    this.ensure(4);
    this.u32(value);
    return this;
  }

  double(field: number, value: number): this {
    this.tag(field, WIRE_FIXED64);
    this.ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).setFloat64(0, value, true);
    this.pos += 8;
    return this;
  }

  private u32(v: number): void {
    const buf = this.buf;
    const pos = this.pos;
    buf[pos] = v & 0xff;
    buf[pos + 1] = (v >>> 8) & 0xff;
    buf[pos + 2] = (v >>> 16) & 0xff;
    buf[pos + 3] = (v >>> 24) & 0xff;
    this.pos = pos + 4;
  }

  /** A packed repeated fixed64 of non-negative integers up to 2^53. */
  packedFixed64(field: number, values: readonly number[]): this {
    this.tag(field, WIRE_LEN);
    this.rawVarint(values.length * 8);
    this.ensure(values.length * 8);
    for (const v of values) {
      const hi = Math.floor(v / TWO_32);
      this.u32(v - hi * TWO_32);
      this.u32(hi);
    }
    return this;
  }

  /** A packed repeated double. */
  packedDouble(field: number, values: readonly number[]): this {
    this.tag(field, WIRE_LEN);
    this.rawVarint(values.length * 8);
    this.ensure(values.length * 8);
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, values.length * 8);
    values.forEach((v, i) => view.setFloat64(i * 8, v, true));
    this.pos += values.length * 8;
    return this;
  }

  /** A packed repeated uint64/uint32 of non-negative integers up to 2^53. */
  packedVarint(field: number, values: readonly number[]): this {
    return this.fork().rawVarints(values).join(field);
  }

  private rawVarints(values: readonly number[]): this {
    for (const v of values) this.rawVarint(v);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.rawVarint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
    return this;
  }

  string(field: number, value: string): this {
    this.tag(field, WIRE_LEN);
    const len = utf8Length(value);
    this.rawVarint(len);
    this.ensure(len);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < value.length; i++) {
      let c = value.charCodeAt(i);
      if (c < 0x80) {
        buf[pos++] = c;
      } else if (c < 0x800) {
        buf[pos++] = 0xc0 | (c >> 6);
        buf[pos++] = 0x80 | (c & 0x3f);
      } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) {
        c = 0x10000 + ((c - 0xd800) << 10) + (value.charCodeAt(++i) - 0xdc00);
        buf[pos++] = 0xf0 | (c >> 18);
        buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
        buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
        buf[pos++] = 0x80 | (c & 0x3f);
      } else {
        buf[pos++] = 0xe0 | (c >> 12);
        buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
        buf[pos++] = 0x80 | (c & 0x3f);
      }
    }
    this.pos = pos;
    return this;
  }

  /** Appends already-encoded message bytes (a pre-built fragment) as-is. */
  raw(encoded: Uint8Array): this {
    this.ensure(encoded.length);
    this.buf.set(encoded, this.pos);
    this.pos += encoded.length;
    return this;
  }

  /** Starts a nested message; its length is written by the matching `join`. */
  fork(): this {
    this.stack.push(this.pos);
    return this;
  }

  /** Ends the nested message started by `fork()` as length-delimited field `field`. */
  join(field: number): this {
    const start = this.stack.pop();
    if (start === undefined) throw new Error('join() without fork()');
    // Shift the body right in place to make room for its tag and length (no allocation).
    const length = this.pos - start;
    const head = varintSize(field * 8 + WIRE_LEN) + varintSize(length);
    this.ensure(head);
    this.buf.copyWithin(start + head, start, this.pos);
    this.pos = start;
    this.tag(field, WIRE_LEN);
    this.rawVarint(length);
    this.pos += length;
    return this;
  }

  get length(): number {
    return this.pos;
  }

  /** The bytes written so far, without copying: valid until the next write or `reset()`. */
  view(): Uint8Array {
    if (this.stack.length > 0) throw new Error('view() with an open fork()');
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of the bytes written so far. */
  finish(): Uint8Array {
    if (this.stack.length > 0) throw new Error('finish() with an open fork()');
    return this.buf.slice(0, this.pos);
  }

  reset(): this {
    this.pos = 0;
    this.stack.length = 0;
    return this;
  }
}
