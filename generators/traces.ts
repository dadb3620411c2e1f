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
  /**
   * Pre-encoded fields, copied with one `set` each (in k6's interpreter a byte written from JavaScript
   * costs about a thousand times a byte copied natively): trace id (1), span id (2) and parent span id (4)
   * as tag, length and a scratch id the builder fills in; span name (5) and kind (6) per span index.
   */
  private readonly tidField = idField(1, 16);
  private readonly sidField = idField(2, 8);
  private readonly parentField = idField(4, 8);
  private readonly tid = this.tidField.subarray(2);
  private readonly sid = this.sidField.subarray(2);
  private readonly rootId = this.parentField.subarray(2);
  private readonly nameKind: Uint8Array[] = [];
  private readonly seqKey: Uint8Array;
  private readonly spanSeqKey: Uint8Array;
  /** The trace's seq attribute, encoded once per trace and copied into each of its spans. */
  private readonly seqAttribute = new ProtoWriter(64);

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
    for (let index = 0; index < shape.spansPerTrace; index++) {
      this.nameKind.push(
        new ProtoWriter(32)
          .string(5, index === 0 ? 'soak-root' : `soak-child-${index}`)
          .varint(6, index === 0 ? SPAN_KIND_SERVER : SPAN_KIND_INTERNAL)
          .finish(),
      );
    }
    this.seqKey = new ProtoWriter(32).string(1, ATTR.seq).finish();
    this.spanSeqKey = new ProtoWriter(32).string(1, ATTR.spanSeq).finish();
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
    traceId(this.tag, seq, this.tid);
    spanId(seq, 0, this.rootId);
    const startMs = nowMs - traits.durationMs;
    const seqAttribute = this.seqAttribute
      .reset()
      .fork()
      .raw(this.seqKey)
      .fork()
      .string(1, String(seq))
      .join(2)
      .join(9)
      .view();
    for (let index = 0; index < spansPerTrace; index++) {
      w.fork(); // spans (2)
      w.raw(this.tidField);
      if (index === 0) {
        this.sid.set(this.rootId);
      } else {
        spanId(seq, index, this.sid);
      }
      w.raw(this.sidField);
      if (index > 0) w.raw(this.parentField);
      w.raw(this.nameKind[index]!);
      // Children start after the root and end before it.
      const childStart = index === 0 ? 0 : (traits.durationMs * index) / (spansPerTrace + 1);
      const childLength = index === 0 ? traits.durationMs : traits.durationMs / (spansPerTrace + 1);
      w.fixed64Millis(7, Math.floor(startMs + childStart));
      w.fixed64Millis(8, Math.floor(startMs + childStart + childLength));
      w.raw(seqAttribute);
      w.fork()
        .raw(this.spanSeqKey)
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

/** Tag and length of a `size`-byte bytes field, followed by room for the bytes. */
function idField(field: number, size: number): Uint8Array {
  const out = new Uint8Array(2 + size);
  out[0] = field * 8 + 2;
  out[1] = size;
  return out;
}
