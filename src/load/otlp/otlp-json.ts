import type { Signal } from '../ledger.js';

/**
 * OTLP/JSON from the OTLP protobuf the generators build: the request is decoded field by field against the
 * OTLP message definitions (opentelemetry-proto, common/resource/trace/metrics/logs v1) and written as the
 * OTLP/HTTP JSON encoding asks — lowerCamelCase keys, trace and span ids as hex, other bytes as base64,
 * enums as integers, 64-bit integers as decimal strings. One encoder, so every payload the harness sends
 * over protobuf goes over JSON unchanged, item for item.
 */

type Kind =
  | 'string'
  | 'bool'
  | 'enum'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'sint32'
  | 'fixed32'
  | 'fixed64'
  | 'sfixed64'
  | 'double'
  | 'bytes'
  | 'id';

interface FieldDef {
  name: string;
  kind: Kind | MessageDef;
  repeated?: boolean;
}
interface MessageDef {
  [field: number]: FieldDef;
}

const f = (name: string, kind: Kind | MessageDef, repeated = false): FieldDef => ({ name, kind, repeated });

// common/v1, resource/v1
const anyValue: MessageDef = {};
const keyValue: MessageDef = { 1: f('key', 'string'), 2: f('value', anyValue) };
Object.assign(anyValue, {
  1: f('stringValue', 'string'),
  2: f('boolValue', 'bool'),
  3: f('intValue', 'int64'),
  4: f('doubleValue', 'double'),
  5: f('arrayValue', { 1: f('values', anyValue, true) }),
  6: f('kvlistValue', { 1: f('values', keyValue, true) }),
  7: f('bytesValue', 'bytes'),
});
const attributes = (n: number) => ({ [n]: f('attributes', keyValue, true) });
const scope: MessageDef = {
  1: f('name', 'string'),
  2: f('version', 'string'),
  ...attributes(3),
  4: f('droppedAttributesCount', 'uint32'),
};
const resource: MessageDef = { ...attributes(1), 2: f('droppedAttributesCount', 'uint32') };

/** ResourceX { resource = 1; scope_x = 2 { scope = 1; items = 2; schema_url = 3 }; schema_url = 3 } */
function envelope(resources: string, scopes: string, items: string, item: MessageDef): MessageDef {
  const scopeLevel: MessageDef = { 1: f('scope', scope), 2: f(items, item, true), 3: f('schemaUrl', 'string') };
  const resourceLevel: MessageDef = {
    1: f('resource', resource),
    2: f(scopes, scopeLevel, true),
    3: f('schemaUrl', 'string'),
  };
  return { 1: f(resources, resourceLevel, true) };
}

// trace/v1
const span: MessageDef = {
  1: f('traceId', 'id'),
  2: f('spanId', 'id'),
  3: f('traceState', 'string'),
  4: f('parentSpanId', 'id'),
  5: f('name', 'string'),
  6: f('kind', 'enum'),
  7: f('startTimeUnixNano', 'fixed64'),
  8: f('endTimeUnixNano', 'fixed64'),
  ...attributes(9),
  10: f('droppedAttributesCount', 'uint32'),
  11: f(
    'events',
    {
      1: f('timeUnixNano', 'fixed64'),
      2: f('name', 'string'),
      ...attributes(3),
      4: f('droppedAttributesCount', 'uint32'),
    },
    true,
  ),
  12: f('droppedEventsCount', 'uint32'),
  13: f(
    'links',
    {
      1: f('traceId', 'id'),
      2: f('spanId', 'id'),
      3: f('traceState', 'string'),
      ...attributes(4),
      5: f('droppedAttributesCount', 'uint32'),
      6: f('flags', 'fixed32'),
    },
    true,
  ),
  14: f('droppedLinksCount', 'uint32'),
  15: f('status', { 2: f('message', 'string'), 3: f('code', 'enum') }),
  16: f('flags', 'fixed32'),
};

// metrics/v1
const exemplar: MessageDef = {
  7: f('filteredAttributes', keyValue, true),
  2: f('timeUnixNano', 'fixed64'),
  3: f('asDouble', 'double'),
  6: f('asInt', 'sfixed64'),
  4: f('spanId', 'id'),
  5: f('traceId', 'id'),
};
const times = { 2: f('startTimeUnixNano', 'fixed64'), 3: f('timeUnixNano', 'fixed64') };
/** Times, count and sum: fields 2–5 of every distribution point. */
const distribution = { ...times, 4: f('count', 'fixed64'), 5: f('sum', 'double') };
const numberPoint: MessageDef = {
  ...attributes(7),
  ...times,
  4: f('asDouble', 'double'),
  6: f('asInt', 'sfixed64'),
  5: f('exemplars', exemplar, true),
  8: f('flags', 'uint32'),
};
const histogramPoint: MessageDef = {
  ...attributes(9),
  ...distribution,
  6: f('bucketCounts', 'fixed64', true),
  7: f('explicitBounds', 'double', true),
  8: f('exemplars', exemplar, true),
  10: f('flags', 'uint32'),
  11: f('min', 'double'),
  12: f('max', 'double'),
};
const buckets: MessageDef = { 1: f('offset', 'sint32'), 2: f('bucketCounts', 'uint64', true) };
const exponentialPoint: MessageDef = {
  ...attributes(1),
  ...distribution,
  6: f('scale', 'sint32'),
  7: f('zeroCount', 'fixed64'),
  8: f('positive', buckets),
  9: f('negative', buckets),
  10: f('flags', 'uint32'),
  11: f('exemplars', exemplar, true),
  12: f('min', 'double'),
  13: f('max', 'double'),
  14: f('zeroThreshold', 'double'),
};
const summaryPoint: MessageDef = {
  ...attributes(7),
  ...distribution,
  6: f('quantileValues', { 1: f('quantile', 'double'), 2: f('value', 'double') }, true),
  8: f('flags', 'uint32'),
};
const temporality = f('aggregationTemporality', 'enum');
const metric: MessageDef = {
  1: f('name', 'string'),
  2: f('description', 'string'),
  3: f('unit', 'string'),
  5: f('gauge', { 1: f('dataPoints', numberPoint, true) }),
  7: f('sum', { 1: f('dataPoints', numberPoint, true), 2: temporality, 3: f('isMonotonic', 'bool') }),
  9: f('histogram', { 1: f('dataPoints', histogramPoint, true), 2: temporality }),
  10: f('exponentialHistogram', { 1: f('dataPoints', exponentialPoint, true), 2: temporality }),
  11: f('summary', { 1: f('dataPoints', summaryPoint, true) }),
  12: f('metadata', keyValue, true),
};

// logs/v1
const logRecord: MessageDef = {
  1: f('timeUnixNano', 'fixed64'),
  11: f('observedTimeUnixNano', 'fixed64'),
  2: f('severityNumber', 'enum'),
  3: f('severityText', 'string'),
  5: f('body', anyValue),
  ...attributes(6),
  7: f('droppedAttributesCount', 'uint32'),
  8: f('flags', 'fixed32'),
  9: f('traceId', 'id'),
  10: f('spanId', 'id'),
  12: f('eventName', 'string'),
};

const REQUESTS: Readonly<Record<Signal, MessageDef>> = {
  traces: envelope('resourceSpans', 'scopeSpans', 'spans', span),
  metrics: envelope('resourceMetrics', 'scopeMetrics', 'metrics', metric),
  logs: envelope('resourceLogs', 'scopeLogs', 'logRecords', logRecord),
};

/**
 * Reads one message's fields between `pos` and `end` of the request. Tags, lengths and 32-bit values are
 * read as numbers; only 64-bit values (timestamps, counts) go through BigInt, for their exact decimal text.
 */
class Reader {
  constructor(
    private readonly buf: Buffer,
    private readonly view: DataView,
    public pos: number,
    private readonly end: number,
  ) {}
  get done(): boolean {
    return this.pos >= this.end;
  }
  /** A varint of up to 53 bits as a number (tags, lengths, enums, 32-bit integers, bools). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) throw new Error('OTLP protobuf: a varint runs past the end');
      const byte = this.buf[this.pos++]!;
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 128;
    }
    // Longer: a 64-bit value (a negative int32 is sign-extended to 10 bytes); its low 32 bits are the number.
    this.pos -= 8;
    return Number(BigInt.asIntN(32, this.varint64()));
  }
  varint64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new Error('OTLP protobuf: a varint runs past the end');
      const byte = this.buf[this.pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new Error('OTLP protobuf: a varint longer than 10 bytes');
    }
  }
  fixed64(): bigint {
    return this.view.getBigUint64(this.take(8), true);
  }
  fixed32(): number {
    return this.view.getUint32(this.take(4), true);
  }
  double(): number {
    return this.view.getFloat64(this.take(8), true);
  }
  /** The span of a length-delimited field: [start, end). */
  span(): [number, number] {
    const length = this.varint();
    const at = this.take(length);
    return [at, at + length];
  }
  text(encoding: 'utf8' | 'hex' | 'base64'): string {
    const [from, to] = this.span();
    return this.buf.toString(encoding, from, to);
  }
  sub(): Reader {
    const [from, to] = this.span();
    return new Reader(this.buf, this.view, from, to);
  }
  private take(n: number): number {
    const at = this.pos;
    if (at + n > this.end) throw new Error('OTLP protobuf: a field runs past the end');
    this.pos += n;
    return at;
  }
}

/** A double as JSON: the protobuf JSON mapping's strings for the values JSON has no number for. */
function doubleJson(v: number): string {
  return Number.isFinite(v) ? String(v) : `"${Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'}"`;
}

/** One scalar of `kind` at the reader as JSON text (wire type already known to fit). */
function scalar(r: Reader, kind: Kind, wire: number): string {
  switch (kind) {
    case 'string':
      return JSON.stringify(r.text('utf8'));
    case 'bytes':
      return `"${r.text('base64')}"`;
    case 'id':
      return `"${r.text('hex')}"`;
    case 'bool':
      return r.varint() !== 0 ? 'true' : 'false';
    case 'enum':
    case 'uint32':
      return String(r.varint() | 0);
    case 'sint32': {
      const n = r.varint() >>> 0;
      return String((n >>> 1) ^ -(n & 1));
    }
    case 'int64':
      return `"${BigInt.asIntN(64, r.varint64())}"`;
    case 'uint64':
      return `"${wire === 1 ? r.fixed64() : r.varint64()}"`;
    case 'fixed64':
      return `"${r.fixed64()}"`;
    case 'sfixed64':
      return `"${BigInt.asIntN(64, r.fixed64())}"`;
    case 'fixed32':
      return String(r.fixed32());
    case 'double':
      return doubleJson(r.double());
  }
}

const WIRE: Readonly<Record<Kind, number>> = {
  string: 2,
  bytes: 2,
  id: 2,
  bool: 0,
  enum: 0,
  uint32: 0,
  sint32: 0,
  int64: 0,
  uint64: 0,
  fixed64: 1,
  sfixed64: 1,
  fixed32: 5,
  double: 1,
};

function skip(r: Reader, wire: number): void {
  if (wire === 0) r.varint64();
  else if (wire === 1) r.fixed64();
  else if (wire === 2) r.span();
  else if (wire === 5) r.fixed32();
  else throw new Error(`OTLP protobuf: wire type ${wire} is not one OTLP uses`);
}

/** The JSON text of each value of field `d` at the reader (several for a packed repeated scalar). */
function values(r: Reader, d: FieldDef, wire: number, into: string[]): void {
  if (typeof d.kind === 'object') into.push(message(r.sub(), d.kind));
  else if (wire === 2 && WIRE[d.kind] !== 2) {
    // A packed repeated scalar.
    const packed = r.sub();
    while (!packed.done) into.push(scalar(packed, d.kind, WIRE[d.kind]));
  } else if (wire !== WIRE[d.kind] && !(d.kind === 'uint64' && wire === 1))
    throw new Error(`OTLP protobuf: field ${d.name} has wire type ${wire}`);
  else into.push(scalar(r, d.kind, wire));
}

/**
 * The JSON text of one message: each known field once, a repeated field as an array of all its
 * occurrences (packed or not), a singular field seen twice as its last value (protobuf merges it). Fields
 * are written as they come while each appears in one run, as encoders write them; a field that comes back
 * after another reads the message again, gathering every field first.
 */
/**
 * The JSON text of one message: each known field once, in the order it first appears, a repeated field as
 * an array of all its occurrences (packed or not); a singular field seen twice keeps the last, as protobuf
 * merges it.
 */
function message(r: Reader, def: MessageDef): string {
  const fields = new Map<FieldDef, string[]>();
  while (!r.done) {
    const tag = r.varint();
    const wire = tag & 7;
    const d = def[Math.floor(tag / 8)];
    if (d === undefined) {
      skip(r, wire);
      continue;
    }
    let list = fields.get(d);
    if (list === undefined) fields.set(d, (list = []));
    else if (d.repeated !== true) list.length = 0;
    values(r, d, wire, list);
  }
  let out = '{';
  for (const [d, list] of fields) {
    if (out.length > 1) out += ',';
    out += `"${d.name}":${d.repeated === true ? `[${list.join(',')}]` : list[0]!}`;
  }
  return `${out}}`;
}

/** The OTLP/JSON text of a `signal` export request given as OTLP protobuf (an empty request is `{}`). */
export function otlpJsonOf(signal: Signal, protobuf: Uint8Array): string {
  const buf = Buffer.from(protobuf.buffer, protobuf.byteOffset, protobuf.byteLength);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return message(new Reader(buf, view, 0, buf.length), REQUESTS[signal]);
}
