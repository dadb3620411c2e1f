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
import { SeverityNumber, type Logger } from '@opentelemetry/api-logs';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as HttpLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as HttpMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  type LogRecordExporter,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { credentials, Metadata } from '@grpc/grpc-js';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  type IdGenerator,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import {
  ATTR,
  decodeSpanId,
  filler,
  logLine,
  METRIC_NAME,
  pointOf,
  runTag,
  spanId,
  tickTimeMs,
  toHex,
  traceId,
  traceTraits,
} from '../../../../generators/index.js';
import { configurationError } from '../../../harness-error.js';
import type { LogShape, MetricShape, MetricTimeline, TraceShape } from '../../../../generators/index.js';
import type { RateProfile } from '../../rate-profile.js';
import { SOAK_SERVICE_NAME } from '../../run-identity.js';
import { classifyGrpcCode, classifyHttpStatus } from '../../answer.js';
import type { Transport } from '../../otlp/transport.js';
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

/** An export's result as the ledger records it: a gRPC status, an HTTP status, or a transport error. */
function answerOf(result: ExportResult, grpc: boolean): { outcome: Outcome; answer: string } {
  if (result.code === ExportResultCode.SUCCESS) return { outcome: 'acknowledged', answer: grpc ? 'OK' : '200' };
  const code = (result.error as { code?: number } | undefined)?.code;
  if (grpc) return { outcome: classifyGrpcCode(code ?? 2), answer: `grpc-${code ?? 2}` };
  return code === undefined
    ? { outcome: 'failed', answer: 'error' }
    : { outcome: classifyHttpStatus(code), answer: String(code) };
}

/**
 * Wraps one of the SDK's exporters and records every export's final result (after the exporter's own
 * retries) item by item: this record is the truth of what the pipeline acknowledged.
 */
abstract class Recording<T> {
  /**
   * The partial success the exporter logged for the export whose callback runs next: the JS exporters
   * only log it (diag.warn) and report success, right before calling back, with nothing in between.
   */
  pendingPartial: { rejected: number; message: string } | undefined;
  /** Rejected items per export callback, with the seqs of the batch it concerned. */
  readonly rejections: { seqs: number[]; rejected: number; message: string }[] = [];

  constructor(
    private readonly inner: {
      export(items: T[], callback: (result: ExportResult) => void): void;
      shutdown(): Promise<void>;
      forceFlush?(): Promise<void>;
    },
    private readonly grpc: boolean,
  ) {}

  /** The seqs of the exported items, ascending. */
  protected abstract seqsOf(items: T[]): number[];
  protected abstract record(seqs: number[], outcome: Outcome, answer: string): void;

  export(items: T[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(items, (result) => {
      const partial = this.pendingPartial;
      this.pendingPartial = undefined;
      const { outcome, answer } = answerOf(result, this.grpc);
      const seqs = this.seqsOf(items);
      if (partial !== undefined && partial.rejected > 0)
        this.rejections.push({ seqs: [...new Set(seqs)], rejected: partial.rejected, message: partial.message });
      this.record(seqs, outcome, answer);
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

/** Spans: a trace counts once all its spans were exported, as acknowledged only when every one was. */
class RecordingSpans extends Recording<ReadableSpan> implements SpanExporter {
  /** seq → outcomes of its spans so far. */
  private readonly spans = new Map<number, Outcome[]>();

  constructor(
    inner: SpanExporter,
    private readonly onTrace: (seq: number, outcome: Outcome, answer: string) => void,
    private readonly spansPerTrace: number,
    grpc: boolean,
  ) {
    super(inner, grpc);
  }

  protected seqsOf(spans: ReadableSpan[]): number[] {
    return spans.map((sp) => decodeSpanId(hexToBytes(sp.spanContext().spanId)).seq).sort((a, b) => a - b);
  }

  protected record(seqs: number[], outcome: Outcome, answer: string): void {
    for (const seq of seqs) {
      const list = this.spans.get(seq) ?? [];
      list.push(outcome);
      if (list.length === this.spansPerTrace) {
        this.spans.delete(seq);
        const traceOutcome = list.every((o) => o === 'acknowledged')
          ? 'acknowledged'
          : (list.find((o) => o !== 'acknowledged') ?? 'failed');
        this.onTrace(seq, traceOutcome, answer);
      } else {
        this.spans.set(seq, list);
      }
    }
  }
}

/** Log records, by their seq attribute, in ranges of consecutive records. */
class RecordingLogs extends Recording<ReadableLogRecord> implements LogRecordExporter {
  constructor(
    inner: LogRecordExporter,
    private readonly onRange: (first: number, count: number, outcome: Outcome, answer: string) => void,
    grpc: boolean,
  ) {
    super(inner, grpc);
  }

  protected seqsOf(records: ReadableLogRecord[]): number[] {
    return records.map((r) => Number(r.attributes[ATTR.seq])).sort((a, b) => a - b);
  }

  protected record(seqs: number[], outcome: Outcome, answer: string): void {
    let first = seqs[0];
    let count = 0;
    for (const seq of seqs) {
      if (first !== undefined && seq === first + count) count++;
      else {
        if (first !== undefined && count > 0) this.onRange(first, count, outcome, answer);
        first = seq;
        count = 1;
      }
    }
    if (first !== undefined && count > 0) this.onRange(first, count, outcome, answer);
  }
}

/** A reader the driver collects from itself: delta temporality, so a collection holds what was recorded since the last. */
class ManualReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA, cardinalitySelector: () => 1 << 30 });
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Metrics through the SDK: a MeterProvider of the run, the gauge `otel_harness_soak_value` recorded per
 * series (its value the tick), collected by a delta reader once per tick's group of a batch and exported
 * with the SDK's OTLP metric exporter. The SDK stamps a point with its collection time; the driver sets it
 * to the tick's scheduled time before the export, so every sample can be found where the verifier looks.
 */
class SdkMetrics {
  readonly rejections: { seqs: number[]; rejected: number; message: string }[] = [];
  pendingPartial: { rejected: number; message: string } | undefined;
  private readonly reader = new ManualReader();
  private readonly provider: MeterProvider;
  private readonly gauge;
  /** Collections one after another: a group's records and its collection are never interleaved. */
  private chain: Promise<void> = Promise.resolve();
  private readonly exports = new Set<Promise<void>>();

  constructor(
    private readonly exporter: PushMetricExporter,
    private readonly load: SdkLoad,
    private readonly runId: string,
    private readonly onRange: (first: number, count: number, outcome: Outcome, answer: string | undefined) => void,
    private readonly grpc: boolean,
  ) {
    this.provider = new MeterProvider({
      resource: resourceFromAttributes({
        'service.name': SOAK_SERVICE_NAME,
        'service.instance.id': runId,
        [ATTR.runId]: runId,
      }),
      readers: [this.reader],
    });
    this.gauge = this.provider
      .getMeter('otel-harness')
      .createGauge(METRIC_NAME, { description: 'otel-harness soak gauge: the tick number of each sample' });
  }

  /** Data points first … first + count − 1: one collection and export per tick they cover. */
  batch(first: number, count: number): Promise<void> {
    const run = this.chain.then(async () => {
      const S = this.load.metricShape.series;
      let group = first;
      for (let seq = first; seq <= first + count; seq++) {
        if (seq === first + count || (seq > group && seq % S === 0)) {
          await this.collectAndExport(group, seq - group);
          group = seq;
        }
        if (seq < first + count) {
          const { series, tick } = pointOf(seq, this.load.metricShape);
          this.gauge.record(tick, { run_id: this.runId, series: String(series) });
        }
      }
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async collectAndExport(first: number, count: number): Promise<void> {
    const { resourceMetrics } = await this.reader.collect();
    const tick = pointOf(first, this.load.metricShape).tick;
    const ms = tickTimeMs(tick, this.load.metricShape, this.load.metricTimeline);
    const at: [number, number] = [Math.floor(ms / 1000), (ms % 1000) * 1_000_000];
    const present = new Set<string>();
    for (const scope of resourceMetrics.scopeMetrics)
      for (const metric of scope.metrics)
        for (const point of metric.dataPoints) {
          Object.assign(point, { startTime: at, endTime: at }); // the collected objects are the export's own
          present.add(String(point.attributes.series));
        }
    const exported: number[] = [];
    for (let seq = first; seq < first + count; seq++) {
      // A point the SDK did not collect never left: dropped at the generator.
      if (present.has(String(seq % this.load.metricShape.series))) exported.push(seq);
      else this.onRange(seq, 1, 'dropped', undefined);
    }
    if (exported.length === 0) return;
    const done = new Promise<void>((resolve) => {
      this.exporter.export(resourceMetrics, (result) => {
        const partial = this.pendingPartial;
        this.pendingPartial = undefined;
        const { outcome, answer } = answerOf(result, this.grpc);
        if (partial !== undefined && partial.rejected > 0)
          this.rejections.push({ seqs: exported, rejected: partial.rejected, message: partial.message });
        for (const [runFirst, runCount] of consecutiveRuns(exported)) this.onRange(runFirst, runCount, outcome, answer);
        resolve();
      });
    });
    this.exports.add(done);
    void done.then(() => this.exports.delete(done));
  }

  async shutdown(): Promise<void> {
    await this.chain;
    await Promise.all(this.exports);
    await this.provider.shutdown();
    await this.exporter.shutdown();
  }
}

/** Ascending seqs → [first, count] runs of consecutive ones. */
function consecutiveRuns(seqs: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const seq of seqs) {
    const last = out[out.length - 1];
    if (last !== undefined && seq === last[0] + last[1]) last[1]++;
    else out.push([seq, 1]);
  }
  return out;
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** One signal's schedule: items per second, units (traces or records) per second and per batch. */
export interface SdkSignalLoad {
  rateRps: number;
  unitRate: number;
  batchUnits: number;
}

/** What the SDK driver needs: the traces and logs loads of a plan, and how to send them. */
export interface SdkLoad {
  traces?: SdkSignalLoad;
  metrics?: SdkSignalLoad;
  logs?: SdkSignalLoad;
  traceShape: TraceShape;
  logShape: LogShape;
  metricShape: MetricShape;
  metricTimeline: MetricTimeline;
  batchItems: number;
  profile: RateProfile;
  durationMs: number;
  requestTimeoutMs: number;
  transport: Transport;
}

/** Where the SDK's exporters send: the stack's OTLP/HTTP base URL and its gRPC address (host:port). */
export interface SdkTarget {
  otlpHttp: string;
  otlpGrpc: string | undefined;
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

/** The SDK's span and log exporters for `transport`, built without the application's OTEL_EXPORTER_OTLP_*. */
function sdkExporters(
  load: SdkLoad,
  target: SdkTarget,
  headers: Readonly<Record<string, string>>,
): { spans: SpanExporter; logs: LogRecordExporter; metrics: PushMetricExporter } {
  const compression = load.transport.compression === 'gzip' ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE;
  // Everything the exporters would otherwise take from OTEL_EXPORTER_OTLP_* is set here, and they are built
  // without them: an application's variables in the harness's environment change nothing of the load (the
  // run's own headers, resolved from them in attach mode, are `headers`).
  return withoutOtlpEnv(() => {
    if (load.transport.protocol === 'grpc') {
      if (target.otlpGrpc === undefined)
        throw configurationError('--protocol', 'http/protobuf for a stack without an OTLP gRPC endpoint', 'grpc');
      const grpc = {
        url: `http://${target.otlpGrpc}`,
        timeoutMillis: load.requestTimeoutMs,
        credentials: credentials.createInsecure(),
        compression,
        metadata: metadataOf(headers),
      };
      return {
        spans: new GrpcTraceExporter(grpc),
        logs: new GrpcLogExporter(grpc),
        metrics: new GrpcMetricExporter(grpc),
      };
    }
    const base = target.otlpHttp.replace(/\/$/, '');
    const http = (signal: string) => ({
      url: `${base}/v1/${signal}`,
      timeoutMillis: load.requestTimeoutMs,
      headers: { ...headers },
      compression,
    });
    return {
      spans: new HttpTraceExporter(http('traces')),
      logs: new HttpLogExporter(http('logs')),
      metrics: new HttpMetricExporter(http('metrics')),
    };
  });
}

/**
 * The SDK driver: traces and logs created through the OpenTelemetry JS SDK (NodeSDK with a
 * BatchSpanProcessor, a LoggerProvider with a BatchLogRecordProcessor, and the SDK's OTLP exporters over
 * gRPC or HTTP protobuf) as an instrumented application sends them, on the open-model schedule. Span ids
 * are still derived from (run, seq, index) and every record carries its seq, so the same verifiers apply.
 * Items the batch processors drop (queue full) are recorded as dropped at the generator.
 */
export async function driveSdk(
  load: SdkLoad,
  runId: string,
  ledger: Ledger,
  live: LiveCounters,
  target: SdkTarget,
  abort: AbortSignal,
  headers: Readonly<Record<string, string>> = {},
): Promise<Map<Signal, SchedulerReport>> {
  const grpc = load.transport.protocol === 'grpc';
  const { spansPerTrace } = load.traceShape;
  const start = Date.now();
  const ids = new DerivedIds();
  const built = sdkExporters(load, target, headers);
  const exporter = new RecordingSpans(
    built.spans,
    (seq, outcome, answer) => {
      ledger.record('traces', { first: seq, count: 1, outcome, answer, atMs: Date.now() - start });
      live.add('traces', outcome, spansPerTrace);
    },
    spansPerTrace,
    grpc,
  );
  const logExporter = new RecordingLogs(
    built.logs,
    (first, count, outcome, answer) => {
      ledger.record('logs', { first, count, outcome, answer, atMs: Date.now() - start });
      live.add('logs', outcome, count);
    },
    grpc,
  );
  const metrics = new SdkMetrics(
    built.metrics,
    load,
    runId,
    (first, count, outcome, answer) => {
      ledger.record('metrics', {
        first,
        count,
        outcome,
        ...(answer === undefined ? {} : { answer }),
        atMs: Date.now() - start,
      });
      live.add('metrics', outcome, count);
    },
    grpc,
  );
  // The exporters report a partial success only through diag.warn, just before their callback.
  diag.setLogger(
    {
      warn: (message: string, ...args: unknown[]) => {
        if (!message.startsWith('Received Partial Success response')) return;
        let p: {
          rejectedSpans?: number | string;
          rejectedLogRecords?: number | string;
          rejectedDataPoints?: number | string;
          errorMessage?: string;
        } = {};
        try {
          p = JSON.parse(String(args[0])) as typeof p;
        } catch {
          // Unreadable: nothing counted as rejected.
        }
        const message_ = p.errorMessage ?? '';
        if (p.rejectedDataPoints !== undefined)
          metrics.pendingPartial = { rejected: Number(p.rejectedDataPoints), message: message_ };
        else if (p.rejectedLogRecords !== undefined)
          logExporter.pendingPartial = { rejected: Number(p.rejectedLogRecords), message: message_ };
        else exporter.pendingPartial = { rejected: Number(p.rejectedSpans ?? 0), message: message_ };
      },
      error: () => undefined,
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    DiagLogLevel.WARN,
  );
  const resource = resourceFromAttributes({
    'service.name': SOAK_SERVICE_NAME,
    'service.instance.id': runId,
    [ATTR.runId]: runId,
  });
  const batchSpans = Math.max(spansPerTrace, Math.round(load.batchItems / spansPerTrace) * spansPerTrace);
  // Providers of this run only, never registered globally: every run of a process (capacity and gate steps)
  // creates spans and records through its own exporters.
  const tracerProvider = new BasicTracerProvider({
    // Every trace is sampled, whatever OTEL_TRACES_SAMPLER says: the ledger counts every one sent.
    sampler: new AlwaysOnSampler(),
    resource,
    idGenerator: ids,
    spanProcessors: [
      new BatchSpanProcessor(exporter, {
        maxExportBatchSize: batchSpans,
        maxQueueSize: Math.max(2048, Math.ceil((load.traces?.rateRps ?? 0) * 2)),
        scheduledDelayMillis: 200,
        exportTimeoutMillis: load.requestTimeoutMs,
      }),
    ],
  });
  const loggerProvider = new LoggerProvider({
    resource,
    processors: [
      new BatchLogRecordProcessor({
        exporter: logExporter,
        maxExportBatchSize: Math.max(1, load.batchItems),
        maxQueueSize: Math.max(2048, Math.ceil((load.logs?.rateRps ?? 0) * 2)),
        scheduledDelayMillis: 200,
        exportTimeoutMillis: load.requestTimeoutMs,
      }),
    ],
  });
  const tracer = tracerProvider.getTracer('otel-harness');
  const logger = loggerProvider.getLogger('otel-harness');
  const tag = runTag(runId);
  const created: Record<'traces' | 'metrics' | 'logs', Set<number>> = {
    traces: new Set(),
    metrics: new Set(),
    logs: new Set(),
  };
  const fillers: Record<string, string> = {};
  for (let i = 0; i < load.traceShape.attributesPerSpan; i++)
    fillers[`attr.${i}`] = filler(load.traceShape.attributeValueBytes, i);

  const schedule = (
    signal: 'traces' | 'metrics' | 'logs',
    l: SdkSignalLoad,
    make: (seq: number) => void,
    batch?: (firstSeq: number, count: number) => Promise<void>,
  ) =>
    runOpenModel(
      {
        unitRate: l.unitRate,
        profile: load.profile,
        durationMs: load.durationMs,
        batchUnits: l.batchUnits,
        maxInFlight: Number.MAX_SAFE_INTEGER, // the SDK queues; its own drops are counted below
        signal: abort,
      },
      {
        send: (ticket) => {
          for (let seq = ticket.firstSeq; seq < ticket.firstSeq + ticket.count; seq++) {
            make(seq);
            created[signal].add(seq);
          }
          return batch?.(ticket.firstSeq, ticket.count) ?? Promise.resolve();
        },
        drop: () => undefined,
      },
    ).then((report) => [signal, report] as const);

  const reports = new Map<Signal, SchedulerReport>();
  try {
    const runs = [
      ...(load.traces === undefined
        ? []
        : [
            schedule('traces', load.traces, (seq) =>
              createTrace(tracer, ids, tag, seq, spansPerTrace, load.traceShape, fillers),
            ),
          ]),
      ...(load.logs === undefined
        ? []
        : [schedule('logs', load.logs, (seq) => emitLog(logger, runId, seq, load.logShape))]),
      ...(load.metrics === undefined
        ? []
        : [
            schedule(
              'metrics',
              load.metrics,
              () => undefined,
              (first, count) => metrics.batch(first, count),
            ),
          ]),
    ];
    for (const [signal, report] of await Promise.all(runs)) reports.set(signal, report);
    // Flush the batch processors and the exporters.
    await Promise.all([tracerProvider.shutdown(), loggerProvider.shutdown(), metrics.shutdown()]);
  } catch (err) {
    await Promise.all([
      tracerProvider.shutdown().catch(() => undefined),
      loggerProvider.shutdown().catch(() => undefined),
      metrics.shutdown().catch(() => undefined),
    ]);
    throw err;
  } finally {
    diag.disable();
  }
  for (const [signal, rejections] of [
    ['traces', exporter.rejections],
    ['metrics', metrics.rejections],
    ['logs', logExporter.rejections],
  ] as const) {
    for (const r of rejections) {
      const first = Math.min(...r.seqs);
      ledger.recordRejection(signal, {
        first,
        count: Math.max(...r.seqs) - first + 1,
        rejected: r.rejected,
        message: r.message,
      });
    }
  }
  // Items created but never (fully) exported were dropped inside the SDK (queue full).
  for (const signal of ['traces', 'metrics', 'logs'] as const) {
    const reported = new Set<number>();
    for (const e of ledger.entriesOf(signal)) for (let s = e.first; s < e.first + e.count; s++) reported.add(s);
    const perUnit = signal === 'traces' ? spansPerTrace : 1;
    for (const seq of created[signal]) {
      if (!reported.has(seq)) {
        ledger.record(signal, { first: seq, count: 1, outcome: 'dropped', atMs: Date.now() - start });
        live.add(signal, 'dropped', perUnit);
      }
    }
  }
  return reports;
}

const SEVERITY: Record<LogShape['severityText'], SeverityNumber> = {
  DEBUG: SeverityNumber.DEBUG,
  INFO: SeverityNumber.INFO,
  WARN: SeverityNumber.WARN,
  ERROR: SeverityNumber.ERROR,
};

/** Log record `seq` through the SDK's logger: the native driver's line and identity attributes. */
function emitLog(logger: Logger, runId: string, seq: number, shape: LogShape): void {
  const now = Date.now();
  logger.emit({
    timestamp: now,
    observedTimestamp: now,
    severityNumber: SEVERITY[shape.severityText],
    severityText: shape.severityText,
    body: logLine(runId, seq, shape.bodyBytes),
    attributes: { [ATTR.seq]: String(seq), [ATTR.seqBlock]: String(Math.floor(seq / shape.seqBlockSize)) },
  });
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
