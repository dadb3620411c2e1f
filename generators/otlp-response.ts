/**
 * Decodes the `partial_success` of an OTLP Export{Trace,Metrics,Logs}ServiceResponse: how many items the
 * server declared rejected (`rejected_spans`, `rejected_data_points`, `rejected_log_records`) and why.
 * The three messages share one layout — partial_success = 1 { int64 rejected = 1; string error_message = 2 }
 * — so one reader serves every signal. Plain JavaScript (no Buffer, no BigInt) so k6 can use it too.
 */
export interface PartialSuccess {
  /** Items the server declared rejected (0 when the response has no partial_success). */
  rejected: number;
  errorMessage: string;
}

const NONE: PartialSuccess = { rejected: 0, errorMessage: '' };

/** Protobuf body (application/x-protobuf). Malformed input yields an Error naming the offset. */
export function decodePartialSuccess(body: Uint8Array): PartialSuccess {
  const outer = fields(body, 0, body.length);
  let result = NONE;
  for (const f of outer) {
    if (f.field !== 1 || f.wire !== 2) continue;
    let rejected = 0;
    let errorMessage = '';
    for (const g of fields(body, f.start, f.end)) {
      if (g.field === 1 && g.wire === 0) rejected = g.value;
      if (g.field === 2 && g.wire === 2) errorMessage = utf8(body, g.start, g.end);
    }
    result = { rejected, errorMessage };
  }
  return result;
}

/** JSON body (application/json): `{"partialSuccess":{"rejectedSpans":"3","errorMessage":"…"}}`. */
export function decodePartialSuccessJson(text: string): PartialSuccess {
  if (text.trim() === '') return NONE;
  const parsed = JSON.parse(text) as {
    partialSuccess?: Record<string, unknown>;
    partial_success?: Record<string, unknown>;
  };
  const p = parsed.partialSuccess ?? parsed.partial_success;
  if (p === undefined || p === null) return NONE;
  let rejected = 0;
  for (const key of [
    'rejectedSpans',
    'rejectedDataPoints',
    'rejectedLogRecords',
    'rejected_spans',
    'rejected_data_points',
    'rejected_log_records',
  ]) {
    if (p[key] !== undefined) rejected = Number(p[key]);
  }
  const message = p.errorMessage ?? p.error_message;
  return {
    rejected: Number.isFinite(rejected) ? rejected : 0,
    errorMessage: typeof message === 'string' ? message : '',
  };
}

/**
 * The retry delay a refused gRPC call asked for: the `google.rpc.RetryInfo` among the details of its
 * `grpc-status-details-bin` trailer (a google.rpc.Status: details = 3, each an Any of type_url = 1 and
 * value = 2; RetryInfo.retry_delay = 1, a Duration of seconds = 1 and nanos = 2), in ms; undefined when the
 * status carries none. Malformed input yields an Error naming the offset.
 */
export function decodeRetryInfoMs(status: Uint8Array): number | undefined {
  for (const d of fields(status, 0, status.length)) {
    if (d.field !== 3 || d.wire !== 2) continue;
    let typeUrl = '';
    let value: Field | undefined;
    for (const a of fields(status, d.start, d.end)) {
      if (a.field === 1 && a.wire === 2) typeUrl = utf8(status, a.start, a.end);
      if (a.field === 2 && a.wire === 2) value = a;
    }
    if (!typeUrl.endsWith('/google.rpc.RetryInfo') || value === undefined) continue;
    let ms = 0;
    for (const r of fields(status, value.start, value.end)) {
      if (r.field !== 1 || r.wire !== 2) continue;
      for (const t of fields(status, r.start, r.end)) {
        if (t.field === 1 && t.wire === 0) ms += t.value * 1000;
        if (t.field === 2 && t.wire === 0) ms += t.value / 1e6;
      }
    }
    return ms;
  }
  return undefined;
}

interface Field {
  field: number;
  wire: number;
  /** Varint value (wire 0). */
  value: number;
  /** Payload bounds (wire 2). */
  start: number;
  end: number;
}

function fields(buf: Uint8Array, from: number, to: number): Field[] {
  const out: Field[] = [];
  let pos = from;
  while (pos < to) {
    const key = varint(buf, pos, to);
    pos = key.next;
    const field = Math.floor(key.value / 8);
    const wire = key.value % 8;
    if (wire === 0) {
      const v = varint(buf, pos, to);
      out.push({ field, wire, value: v.value, start: pos, end: v.next });
      pos = v.next;
    } else if (wire === 2) {
      const len = varint(buf, pos, to);
      const start = len.next;
      const end = start + len.value;
      if (end > to) throw new Error(`OTLP response: field ${field} runs past the end (offset ${start})`);
      out.push({ field, wire, value: 0, start, end });
      pos = end;
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 5) {
      pos += 4;
    } else {
      throw new Error(`OTLP response: unsupported wire type ${wire} at offset ${pos}`);
    }
  }
  return out;
}

function varint(buf: Uint8Array, pos: number, to: number): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  for (let i = pos; i < to && i < pos + 10; i++) {
    const b = buf[i]!;
    value += (b & 0x7f) * scale;
    scale *= 128;
    if (b < 0x80) return { value, next: i + 1 };
  }
  throw new Error(`OTLP response: truncated varint at offset ${pos}`);
}

/** UTF-8 → string (a truncated or stray byte becomes U+FFFD). */
function utf8(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  let i = start;
  while (i < end) {
    const b = buf[i]!;
    const need = b < 0x80 ? 0 : b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : b >= 0xc0 ? 1 : -1;
    if (need < 0 || i + need >= end) {
      s += need === 0 ? String.fromCharCode(b) : '\ufffd';
      i++;
      continue;
    }
    let cp = need === 0 ? b : b & (0x3f >> need);
    for (let k = 1; k <= need; k++) cp = cp * 64 + (buf[i + k]! & 0x3f);
    s += String.fromCodePoint(cp);
    i += need + 1;
  }
  return s;
}

/** gRPC status codes by number, as the ledger names them. */
const GRPC_CODE_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** The name of gRPC status `code` ("UNAVAILABLE"), or "grpc-status 42" for one the specification lacks. */
export function grpcCodeName(code: number): string {
  return GRPC_CODE_NAMES[code] ?? `grpc-status ${code}`;
}

/**
 * gRPC status codes the OTLP specification calls retryable: CANCELLED, DEADLINE_EXCEEDED,
 * RESOURCE_EXHAUSTED (only with RetryInfo; treated as refused), ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS.
 */
const RETRYABLE_GRPC = [1, 4, 8, 10, 11, 14, 15];

/** A gRPC status as the ledger records it: OK acknowledged, a retryable code refused, any other failed. */
export function grpcOutcome(code: number): 'acknowledged' | 'refused' | 'failed' {
  if (code === 0) return 'acknowledged';
  return RETRYABLE_GRPC.indexOf(code) >= 0 ? 'refused' : 'failed';
}
