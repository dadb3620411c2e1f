/**
 * An independent protobuf wire-format reader for tests: decodes bytes into fields without knowing the
 * schema, so generated payloads can be checked against the OTLP field numbers.
 */
export type WireValue =
  | { wire: 0; value: bigint }
  | { wire: 1; value: Uint8Array }
  | { wire: 2; value: Uint8Array }
  | { wire: 5; value: Uint8Array };

export function decodeFields(bytes: Uint8Array): { field: number; v: WireValue }[] {
  const out: { field: number; v: WireValue }[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = bytes[pos++];
      if (b === undefined) throw new Error('truncated varint');
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < bytes.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ field, v: { wire: 0, value: varint() } });
    else if (wire === 1) out.push({ field, v: { wire: 1, value: bytes.slice(pos, (pos += 8)) } });
    else if (wire === 5) out.push({ field, v: { wire: 5, value: bytes.slice(pos, (pos += 4)) } });
    else if (wire === 2) {
      const len = Number(varint());
      out.push({ field, v: { wire: 2, value: bytes.slice(pos, (pos += len)) } });
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  if (pos !== bytes.length) throw new Error('trailing bytes');
  return out;
}

export class Msg {
  readonly fields: { field: number; v: WireValue }[];
  constructor(bytes: Uint8Array) {
    this.fields = decodeFields(bytes);
  }
  all(field: number): WireValue[] {
    return this.fields.filter((f) => f.field === field).map((f) => f.v);
  }
  msgs(field: number): Msg[] {
    return this.all(field).map((v) => new Msg(v.value as Uint8Array));
  }
  msg(field: number): Msg {
    const m = this.msgs(field);
    if (m.length !== 1) throw new Error(`expected one message in field ${field}, found ${m.length}`);
    return m[0]!;
  }
  has(field: number): boolean {
    return this.all(field).length > 0;
  }
  bytes(field: number): Uint8Array {
    return this.all(field)[0]!.value as Uint8Array;
  }
  string(field: number): string {
    return new TextDecoder().decode(this.bytes(field));
  }
  uint(field: number): bigint {
    const v = this.all(field)[0]!;
    if (v.wire === 0) return v.value;
    return new DataView(v.value.buffer, v.value.byteOffset).getBigUint64(0, true);
  }
  double(field: number): number {
    const v = this.all(field)[0]!.value as Uint8Array;
    return new DataView(v.buffer, v.byteOffset).getFloat64(0, true);
  }
  /** KeyValue list (field `field`) as a plain object of string/number values. */
  attributes(field: number): Record<string, string | number | boolean> {
    const out: Record<string, string | number | boolean> = {};
    for (const kv of this.msgs(field)) {
      const any = kv.msg(2);
      out[kv.string(1)] = any.has(1)
        ? any.string(1)
        : any.has(2)
          ? any.uint(2) === 1n
          : any.has(3)
            ? Number(any.uint(3))
            : any.double(4);
    }
    return out;
  }
}
