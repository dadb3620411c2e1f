import { MAX_SPANS_PER_TRACE, runTag, spanId, traceId, unitHash } from './ids.js';
import { ATTR, encodeAttributes, encodeResource, encodeScope, filler, type RunIdentity } from './otlp-common.js';
import {
  exceptionEvent,
  ResourcePicker,
  spanNameKind,
  SYNTHETIC,
  webSpanAttributes,
  type PayloadShape,
} from './payload.js';
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
  /** What the spans look like besides their identity (payload.ts); synthetic when absent. */
  payload?: PayloadShape;
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
const STATUS_ERROR = 2;
/** Every tenth trace of the web profile links its server span to the previous trace's (a batch job's fan-in). */
const LINK_EVERY = 10;

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
  private readonly resources: ResourcePicker;
  private readonly payload: PayloadShape;
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
    this.payload = shape.payload ?? SYNTHETIC;
    this.resources = new ResourcePicker(identity, this.payload, () => encodeResource(identity));
    this.scope = encodeScope();
    const attrs: Record<string, string> = {};
    for (let i = 0; i < shape.attributesPerSpan; i++) attrs[`attr.${i}`] = filler(shape.attributeValueBytes, i);
    this.fillerAttributes = encodeAttributes(9, attrs);
    // Names and kinds fixed per span index (the web profile's server span is named per trace, by its route).
    for (let index = 0; index < shape.spansPerTrace; index++) {
      const { name, kind } = spanNameKind(this.payload, 0, index);
      this.nameKind.push(new ProtoWriter(64).string(5, name).varint(6, kind).finish());
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
    w.raw(this.resources.forBatch(firstSeq));
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
      const web = this.payload.profile === 'web';
      if (web && index === 0) {
        const { name, kind } = spanNameKind(this.payload, seq, 0);
        w.string(5, name).varint(6, kind);
      } else w.raw(this.nameKind[index]!);
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
      if (web) {
        w.raw(encodeAttributes(9, webSpanAttributes(seq, index, traits.error)));
        if (index === 0 && traits.error) w.raw(exceptionEvent(Math.floor(startMs + traits.durationMs / 2)));
        if (index === 0 && seq > 0 && seq % LINK_EVERY === 0) {
          w.fork()
            .bytes(1, traceId(this.tag, seq - 1))
            .bytes(2, spanId(seq - 1, 0))
            .join(13);
        }
      }
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
