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
  ...times,
  4: f('count', 'fixed64'),
  5: f('sum', 'double'),
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
  ...times,
  4: f('count', 'fixed64'),
  5: f('sum', 'double'),
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
  ...times,
  4: f('count', 'fixed64'),
  5: f('sum', 'double'),
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

type Json = string | number | boolean | Json[] | { [key: string]: Json };

class Reader {
  pos = 0;
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('OTLP protobuf: a varint runs past the end');
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
  bytes(): Uint8Array {
    const length = Number(this.varint());
    const at = this.take(length);
    return this.buf.subarray(at, at + length);
  }
  private take(n: number): number {
    const at = this.pos;
    if (at + n > this.buf.length) throw new Error('OTLP protobuf: a field runs past the end');
    this.pos += n;
    return at;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One scalar of `kind` at the reader (wire type already known to fit). */
function scalar(r: Reader, kind: Kind, wire: number): Json {
  switch (kind) {
    case 'string':
      return utf8.decode(r.bytes());
    case 'bytes':
      return Buffer.from(r.bytes()).toString('base64');
    case 'id':
      return Buffer.from(r.bytes()).toString('hex');
    case 'bool':
      return r.varint() !== 0n;
    case 'enum':
    case 'uint32':
      return Number(BigInt.asIntN(32, r.varint()));
    case 'sint32': {
      const n = Number(r.varint() & 0xffffffffn);
      return (n >>> 1) ^ -(n & 1);
    }
    case 'int64':
      return BigInt.asIntN(64, r.varint()).toString();
    case 'uint64':
      return (wire === 1 ? r.fixed64() : r.varint()).toString();
    case 'fixed64':
      return r.fixed64().toString();
    case 'sfixed64':
      return BigInt.asIntN(64, r.fixed64()).toString();
    case 'fixed32':
      return r.fixed32();
    case 'double':
      return r.double();
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
  if (wire === 0) r.varint();
  else if (wire === 1) r.fixed64();
  else if (wire === 2) r.bytes();
  else if (wire === 5) r.fixed32();
  else throw new Error(`OTLP protobuf: wire type ${wire} is not one OTLP uses`);
}

function message(buf: Uint8Array, def: MessageDef): { [key: string]: Json } {
  const r = new Reader(buf);
  const out: { [key: string]: Json } = {};
  while (!r.done) {
    const tag = Number(r.varint());
    const field = tag >>> 3;
    const wire = tag & 7;
    const d = def[field];
    if (d === undefined) {
      // A field this encoder does not know (a newer OTLP): left out, as a receiver ignores it.
      skip(r, wire);
      continue;
    }
    let values: Json[];
    if (typeof d.kind === 'object') values = [message(r.bytes(), d.kind)];
    else if (wire === 2 && WIRE[d.kind] !== 2) {
      // A packed repeated scalar.
      const packed = new Reader(r.bytes());
      values = [];
      while (!packed.done) values.push(scalar(packed, d.kind, WIRE[d.kind]));
    } else if (wire !== WIRE[d.kind] && !(d.kind === 'uint64' && wire === 1))
      throw new Error(`OTLP protobuf: field ${d.name} has wire type ${wire}`);
    else values = [scalar(r, d.kind, wire)];
    if (d.repeated === true) out[d.name] = [...((out[d.name] as Json[] | undefined) ?? []), ...values];
    else out[d.name] = values[values.length - 1]!;
  }
  return out;
}

/** The OTLP/JSON text of a `signal` export request given as OTLP protobuf (an empty request is `{}`). */
export function otlpJsonOf(signal: Signal, protobuf: Uint8Array): string {
  return JSON.stringify(message(protobuf, REQUESTS[signal]));
}
