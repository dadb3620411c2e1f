import { MAX_SPANS_PER_TRACE, runTag, spanId, traceId, unitHash } from './ids.js';
import { ATTR, encodeAttributes, encodeResource, encodeScope, filler, type RunIdentity } from './otlp-common.js';
import { ProtoWriter } from './protobuf-writer.js';

/** Shape of generated traces. Every field has a default in `traceShapeDefaults()`. */
export interface TraceShape {
  spansPerTrace: number;
  /** Filler attributes per span (besides the identity attributes). */
  attributesPerSpan: number;
  attributeValueBytes: number;
  /** Fraction of traces whose root span has status ERROR (decided per trace by a hash of its seq). */
  errorFraction: number;
  /** Fraction of traces whose root span lasts `slowDurationMs` instead of `spanDurationMs`. */
  slowFraction: number;
  spanDurationMs: number;
  slowDurationMs: number;
}

export function traceShapeDefaults(): TraceShape {
  return {
    spansPerTrace: 5,
    attributesPerSpan: 8,
    attributeValueBytes: 16,
    errorFraction: 0.01,
    slowFraction: 0.01,
    spanDurationMs: 20,
    slowDurationMs: 1_000,
  };
}

const SALT_ERROR = 0x5eed0001;
const SALT_SLOW = 0x5eed0002;
const SPAN_KIND_SERVER = 2;
const SPAN_KIND_INTERNAL = 1;
const STATUS_ERROR = 2;

export interface TraceTraits {
  error: boolean;
  slow: boolean;
  durationMs: number;
}

/** Whether trace `seq` is an error and/or slow trace: reproducible, so a verifier can predict it. */
export function traceTraits(seq: number, shape: TraceShape): TraceTraits {
  const error = unitHash(seq, SALT_ERROR) < shape.errorFraction;
  const slow = unitHash(seq, SALT_SLOW) < shape.slowFraction;
  return { error, slow, durationMs: slow ? shape.slowDurationMs : shape.spanDurationMs };
}

export interface Batch {
  /** Encoded OTLP Export*ServiceRequest. */
  body: Uint8Array;
  /** Items in the batch (spans, log records or data points). */
  items: number;
}

/**
 * Builds ExportTraceServiceRequest payloads: `count` traces starting at trace sequence `firstSeq`, each a
 * root SERVER span with INTERNAL children. Trace and span ids are derived from (run, seq, index).
 */
export class TraceBatchBuilder {
  private readonly tag: Uint8Array;
  private readonly resource: Uint8Array;
  private readonly scope: Uint8Array;
  private readonly fillerAttributes: Uint8Array;
  private readonly writer = new ProtoWriter(64 * 1024);
  /** Scratch buffers for ids (the writer copies them). */
  private readonly tid = new Uint8Array(16);
  private readonly rootId = new Uint8Array(8);
  private readonly sid = new Uint8Array(8);

  constructor(
    private readonly identity: RunIdentity,
    readonly shape: TraceShape,
  ) {
    if (shape.spansPerTrace < 1 || shape.spansPerTrace > MAX_SPANS_PER_TRACE) {
      throw new Error(`spansPerTrace must be 1..${MAX_SPANS_PER_TRACE}`);
    }
    this.tag = runTag(identity.runId);
    this.resource = encodeResource(identity);
    this.scope = encodeScope();
    const attrs: Record<string, string> = {};
    for (let i = 0; i < shape.attributesPerSpan; i++) attrs[`attr.${i}`] = filler(shape.attributeValueBytes, i);
    this.fillerAttributes = encodeAttributes(9, attrs);
  }

  /** Spans in `traces` traces. */
  spansOf(traces: number): number {
    return traces * this.shape.spansPerTrace;
  }

  build(firstSeq: number, count: number, nowMs: number): Batch {
    const w = this.writer.reset();
    w.fork(); // resource_spans (1)
    w.raw(this.resource);
    w.fork(); // scope_spans (2)
    w.raw(this.scope);
    for (let seq = firstSeq; seq < firstSeq + count; seq++) this.writeTrace(w, seq, nowMs);
    w.join(2);
    w.join(1);
    return { body: w.finish(), items: this.spansOf(count) };
  }

  private writeTrace(w: ProtoWriter, seq: number, nowMs: number): void {
    const { spansPerTrace } = this.shape;
    const traits = traceTraits(seq, this.shape);
    const tid = traceId(this.tag, seq, this.tid);
    const rootId = spanId(seq, 0, this.rootId);
    const startMs = nowMs - traits.durationMs;
    const seqText = String(seq);
    for (let index = 0; index < spansPerTrace; index++) {
      w.fork(); // spans (2)
      w.bytes(1, tid).bytes(2, index === 0 ? rootId : spanId(seq, index, this.sid));
      if (index > 0) w.bytes(4, rootId);
      w.string(5, index === 0 ? 'soak-root' : `soak-child-${index}`);
      w.varint(6, index === 0 ? SPAN_KIND_SERVER : SPAN_KIND_INTERNAL);
      // Children start after the root and end before it.
      const childStart = index === 0 ? 0 : (traits.durationMs * index) / (spansPerTrace + 1);
      const childLength = index === 0 ? traits.durationMs : traits.durationMs / (spansPerTrace + 1);
      w.fixed64Millis(7, Math.floor(startMs + childStart));
      w.fixed64Millis(8, Math.floor(startMs + childStart + childLength));
      w.fork().string(1, ATTR.seq).fork().string(1, seqText).join(2).join(9);
      w.fork()
        .string(1, ATTR.spanSeq)
        .fork()
        .string(1, String(seq * spansPerTrace + index))
        .join(2)
        .join(9);
      w.raw(this.fillerAttributes);
      if (index === 0 && traits.error) w.fork().string(2, 'generated error').varint(3, STATUS_ERROR).join(15);
      w.join(2);
    }
  }
}
