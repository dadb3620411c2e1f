import { ProtoWriter } from './protobuf-writer.js';

/** Attribute values the generators use. */
export type AttributeValue = string | number | boolean;

/** Encodes a KeyValue (common.proto): key = 1, value = 2 (AnyValue: string 1, bool 2, int 3, double 4). */
export function writeKeyValue(w: ProtoWriter, field: number, key: string, value: AttributeValue): void {
  w.fork().string(1, key).fork();
  if (typeof value === 'string') w.string(1, value);
  else if (typeof value === 'boolean') w.bool(2, value);
  else if (Number.isInteger(value) && value >= 0) w.varint(3, value);
  else w.double(4, value);
  w.join(2).join(field);
}

/** Pre-encodes repeated KeyValue field `field` (a reusable fragment). */
export function encodeAttributes(field: number, attributes: Readonly<Record<string, AttributeValue>>): Uint8Array {
  const w = new ProtoWriter(256);
  for (const [key, value] of Object.entries(attributes)) writeKeyValue(w, field, key, value);
  return w.finish();
}

/** Identity every generated item carries. */
export interface RunIdentity {
  runId: string;
  /** `service.name` of generated telemetry (a Loki index label, Prometheus `job`). */
  serviceName: string;
}

export const HARNESS_SCOPE = 'otel-harness';
/** Attribute keys of item identity (Loki keeps them as structured metadata with `_` for `.`). */
export const ATTR = {
  runId: 'otel_harness.run_id',
  seq: 'otel_harness.seq',
  spanSeq: 'otel_harness.span_seq',
  seqBlock: 'otel_harness.seq_block',
} as const;

/**
 * Resource (field 1 of Resource*) with service.name, service.instance.id = run id (a Loki index label and
 * the Prometheus `instance` label) and the run id attribute; followed by the scope (field 1 of Scope*).
 */
export function encodeResource(identity: RunIdentity): Uint8Array {
  const w = new ProtoWriter(256);
  w.fork();
  w.raw(
    encodeAttributes(1, {
      'service.name': identity.serviceName,
      'service.instance.id': identity.runId,
      [ATTR.runId]: identity.runId,
    }),
  );
  w.join(1);
  return w.finish();
}

export function encodeScope(): Uint8Array {
  return new ProtoWriter(64).fork().string(1, HARNESS_SCOPE).join(1).finish();
}

/** Deterministic filler text of exactly `length` ASCII characters. */
export function filler(length: number, seed: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    s += alphabet[x % alphabet.length];
  }
  return s;
}
