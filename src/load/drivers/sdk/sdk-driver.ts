import {
  context,
  diag,
  DiagLogLevel,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { credentials, Metadata } from '@grpc/grpc-js';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  type IdGenerator,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import {
  ATTR,
  decodeSpanId,
  filler,
  runTag,
  spanId,
  toHex,
  traceId,
  traceTraits,
} from '../../../../generators/index.js';
import { configurationError } from '../../../harness-error.js';
import type { TraceShape } from '../../../../generators/index.js';
import type { RateProfile } from '../../rate-profile.js';
import { SOAK_SERVICE_NAME } from '../../run-identity.js';
import { classifyGrpcCode } from '../../answer.js';
import type { Ledger, Outcome, Signal } from '../../ledger.js';
import type { LiveCounters } from '../../live-counters.js';
import { runOpenModel, type SchedulerReport } from '../../open-model-scheduler.js';

/** Ids for the next spans the SDK creates: trace and span ids derived from (run, seq, index). */
class DerivedIds implements IdGenerator {
  traceIdHex = '';
  private readonly queue: string[] = [];

  next(traceIdHex: string, spanIdsHex: string[]): void {
    this.traceIdHex = traceIdHex;
    this.queue.push(...spanIdsHex);
  }

  generateTraceId(): string {
    return this.traceIdHex;
  }

  generateSpanId(): string {
    const id = this.queue.shift();
    if (id === undefined) throw new Error('span created without a derived id');
    return id;
  }
}

/**
 * Wraps the OTLP gRPC exporter and records every export's result per trace. The JS gRPC exporter never
 * retries (it reports every gRPC error as a failure), so this record is the truth of what the pipeline
 * acknowledged.
 */
class RecordingExporter implements SpanExporter {
  /** seq → outcomes of its spans so far. */
  readonly spans = new Map<number, Outcome[]>();
  readonly answers = new Map<string, number>();
  exportedSpans = 0;
  /**
   * The partial success the exporter logged for the export whose callback runs next: the JS exporter
   * only logs it (diag.warn) and reports success, right before calling back, with nothing in between.
   */
  pendingPartial: { rejected: number; message: string } | undefined;
  /** Rejected spans per export callback, for the batch it concerned. */
  readonly rejections: { seqs: number[]; rejected: number; message: string }[] = [];

  constructor(
    private readonly inner: SpanExporter,
    private readonly onTrace: (seq: number, outcome: Outcome, answer: string) => void,
    private readonly spansPerTrace: number,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      const partial = this.pendingPartial;
      this.pendingPartial = undefined;
      const code =
        result.code === ExportResultCode.SUCCESS ? 0 : ((result.error as { code?: number } | undefined)?.code ?? 2);
      const outcome = classifyGrpcCode(code);
      const answer = code === 0 ? 'OK' : `grpc-${code}`;
      this.answers.set(answer, (this.answers.get(answer) ?? 0) + spans.length);
      this.exportedSpans += spans.length;
      if (partial !== undefined && partial.rejected > 0) {
        const seqs = [...new Set(spans.map((sp) => decodeSpanId(hexToBytes(sp.spanContext().spanId)).seq))];
        this.rejections.push({ seqs, rejected: partial.rejected, message: partial.message });
      }
      for (const span of spans) {
        const { seq } = decodeSpanId(hexToBytes(span.spanContext().spanId));
        const list = this.spans.get(seq) ?? [];
        list.push(outcome);
        if (list.length === this.spansPerTrace) {
          this.spans.delete(seq);
          // A trace counts as acknowledged only when every span was.
          const traceOutcome = list.every((o) => o === 'acknowledged')
            ? 'acknowledged'
            : (list.find((o) => o !== 'acknowledged') ?? 'failed');
          this.onTrace(seq, traceOutcome, answer);
        } else {
          this.spans.set(seq, list);
        }
      }
      resultCallback(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** What the SDK driver needs: the traces load of a plan. */
export interface SdkLoad {
  traceShape: TraceShape;
  rateRps: number;
  unitRate: number;
  batchUnits: number;
  batchItems: number;
  profile: RateProfile;
  durationMs: number;
  requestTimeoutMs: number;
}

/** `build()` with the OTEL_EXPORTER_OTLP_* variables out of the process environment (put back after). */
function withoutOtlpEnv<T>(build: () => T): T {
  const saved = Object.entries(process.env).filter(([k]) => k.startsWith('OTEL_EXPORTER_OTLP_'));
  for (const [k] of saved) delete process.env[k];
  try {
    return build();
  } finally {
    for (const [k, v] of saved) process.env[k] = v;
  }
}

/** The run's OTLP headers (a tenant, an authorization) as gRPC metadata. */
function metadataOf(headers: Readonly<Record<string, string>>): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(headers)) metadata.set(key.toLowerCase(), value);
  return metadata;
}

/**
 * The SDK driver: traces created through @opentelemetry/sdk-node (BatchSpanProcessor, OTLP gRPC exporter)
 * as an instrumented application would, on the open-model schedule. Span ids are still derived from
 * (run, seq, index) so the same verifiers apply. Spans the BatchSpanProcessor drops (queue full) are
 * recorded as dropped at the generator.
 */
export async function driveSdk(
  load: SdkLoad,
  runId: string,
  ledger: Ledger,
  live: LiveCounters,
  otlpGrpc: string | undefined,
  abort: AbortSignal,
  headers: Readonly<Record<string, string>> = {},
): Promise<Map<Signal, SchedulerReport>> {
  if (otlpGrpc === undefined)
    throw configurationError('--driver', 'native for a stack without an OTLP gRPC endpoint', 'sdk');
  const { spansPerTrace } = load.traceShape;
  const start = Date.now();
  const ids = new DerivedIds();
  const exporter = new RecordingExporter(
    // Everything the exporter would otherwise take from OTEL_EXPORTER_OTLP_* is set here, and it is built
    // without them: an application's variables in the harness's environment change nothing of the load
    // (the run's own headers, resolved from them in attach mode, are `headers`).
    withoutOtlpEnv(
      () =>
        new OTLPTraceExporter({
          url: `http://${otlpGrpc}`,
          timeoutMillis: load.requestTimeoutMs,
          credentials: credentials.createInsecure(),
          compression: CompressionAlgorithm.NONE,
          metadata: metadataOf(headers),
        }),
    ),
    (seq, outcome, answer) => {
      ledger.record('traces', { first: seq, count: 1, outcome, answer, atMs: Date.now() - start });
      live.add('traces', outcome, spansPerTrace);
    },
    spansPerTrace,
  );
  // The exporter reports a partial success only through diag.warn, just before its callback.
  diag.setLogger(
    {
      warn: (message: string, ...args: unknown[]) => {
        if (!message.startsWith('Received Partial Success response')) return;
        try {
          const p = JSON.parse(String(args[0])) as { rejectedSpans?: number | string; errorMessage?: string };
          exporter.pendingPartial = { rejected: Number(p.rejectedSpans ?? 0), message: p.errorMessage ?? '' };
        } catch {
          exporter.pendingPartial = { rejected: 0, message: '' };
        }
      },
      error: () => undefined,
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    DiagLogLevel.WARN,
  );
  const batchSpans = Math.max(spansPerTrace, Math.round(load.batchItems / spansPerTrace) * spansPerTrace);
  const sdk = new NodeSDK({
    // Every trace is sampled, whatever OTEL_TRACES_SAMPLER says: the ledger counts every one sent.
    sampler: new AlwaysOnSampler(),
    resource: resourceFromAttributes({
      'service.name': SOAK_SERVICE_NAME,
      'service.instance.id': runId,
      [ATTR.runId]: runId,
    }),
    autoDetectResources: false,
    idGenerator: ids,
    spanProcessors: [
      new BatchSpanProcessor(exporter, {
        maxExportBatchSize: batchSpans,
        maxQueueSize: Math.max(2048, Math.ceil(load.rateRps * 2)),
        scheduledDelayMillis: 200,
        exportTimeoutMillis: load.requestTimeoutMs,
      }),
    ],
    instrumentations: [],
  });
  sdk.start();
  const tracer = trace.getTracer('otel-harness');
  const tag = runTag(runId);
  const created = new Set<number>();
  const fillers: Record<string, string> = {};
  for (let i = 0; i < load.traceShape.attributesPerSpan; i++)
    fillers[`attr.${i}`] = filler(load.traceShape.attributeValueBytes, i);

  let report: SchedulerReport;
  try {
    report = await runOpenModel(
      {
        unitRate: load.unitRate,
        profile: load.profile,
        durationMs: load.durationMs,
        batchUnits: load.batchUnits,
        maxInFlight: Number.MAX_SAFE_INTEGER, // the SDK queues; its own drops are counted below
        signal: abort,
      },
      {
        send: (ticket) => {
          for (let seq = ticket.firstSeq; seq < ticket.firstSeq + ticket.count; seq++) {
            createTrace(tracer, ids, tag, seq, spansPerTrace, load.traceShape, fillers);
            created.add(seq);
          }
          return Promise.resolve();
        },
        drop: () => undefined,
      },
    );
    await sdk.shutdown(); // flushes the BatchSpanProcessor and the exporter
  } catch (err) {
    await sdk.shutdown().catch(() => undefined);
    throw err;
  } finally {
    diag.disable();
  }
  for (const r of exporter.rejections) {
    const first = Math.min(...r.seqs);
    ledger.recordRejection('traces', {
      first,
      count: Math.max(...r.seqs) - first + 1,
      rejected: r.rejected,
      message: r.message,
    });
  }
  // Traces created but never (fully) exported were dropped inside the SDK (queue full).
  const reported = new Set<number>();
  for (const e of ledger.entriesOf('traces')) for (let s = e.first; s < e.first + e.count; s++) reported.add(s);
  for (const seq of created) {
    if (!reported.has(seq)) {
      ledger.record('traces', { first: seq, count: 1, outcome: 'dropped', atMs: Date.now() - start });
      live.add('traces', 'dropped', spansPerTrace);
    }
  }
  return new Map([['traces', report]]);
}

function createTrace(
  tracer: Tracer,
  ids: DerivedIds,
  tag: Uint8Array,
  seq: number,
  spansPerTrace: number,
  shape: TraceShape,
  fillers: Record<string, string>,
): void {
  const traits = traceTraits(seq, shape);
  const spanIds = Array.from({ length: spansPerTrace }, (_, i) => toHex(spanId(seq, i)));
  ids.next(toHex(traceId(tag, seq)), spanIds);
  const now = Date.now();
  const startMs = now - traits.durationMs;
  const root: Span = tracer.startSpan(
    'soak-root',
    {
      kind: SpanKind.SERVER,
      startTime: startMs,
      attributes: { [ATTR.seq]: String(seq), [ATTR.spanSeq]: String(seq * spansPerTrace), ...fillers },
    },
    context.active(),
  );
  const parent = trace.setSpan(context.active(), root);
  for (let index = 1; index < spansPerTrace; index++) {
    const childStart = startMs + (traits.durationMs * index) / (spansPerTrace + 1);
    const child = tracer.startSpan(
      `soak-child-${index}`,
      {
        kind: SpanKind.INTERNAL,
        startTime: childStart,
        attributes: { [ATTR.seq]: String(seq), [ATTR.spanSeq]: String(seq * spansPerTrace + index), ...fillers },
      },
      parent,
    );
    child.end(childStart + traits.durationMs / (spansPerTrace + 1));
  }
  if (traits.error) root.setStatus({ code: SpanStatusCode.ERROR, message: 'generated error' });
  root.end(now);
}
