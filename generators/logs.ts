import { runTag, spanId, traceId } from './ids.js';
import { ATTR, encodeResource, encodeScope, filler, type RunIdentity } from './otlp-common.js';
import { ResourcePicker, SYNTHETIC, webLogLevel, webLogLine, type PayloadShape } from './payload.js';
import { nanosFromMillis, ProtoWriter } from './protobuf-writer.js';
import type { Batch } from './traces.js';

export interface LogShape {
  /** Bytes of each log line (the body), at least the identity prefix. */
  bodyBytes: number;
  severityText: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Items per `otel_harness.seq_block` attribute value (verifiers count per block, then find gaps). */
  seqBlockSize: number;
  /** What the records look like besides their identity (payload.ts); synthetic when absent. */
  payload?: PayloadShape;
}

export function logShapeDefaults(): LogShape {
  return { bodyBytes: 200, severityText: 'INFO', seqBlockSize: 1000 };
}

const SEVERITY_NUMBER: Record<LogShape['severityText'], number> = { DEBUG: 5, INFO: 9, WARN: 13, ERROR: 17 };

/** The log line of record `seq`: unique per run and seq (Loki drops identical lines in a stream). */
export function logLine(runId: string, seq: number, bodyBytes: number): string {
  const head = `otel-harness run=${runId} seq=${seq}`;
  return head.length >= bodyBytes ? head : `${head} ${filler(bodyBytes - head.length - 1, seq)}`;
}

/**
 * The line of record `seq` as an application writes it to its container log (`--log-source file`): the
 * identity an agent's parser reads — run, seq and the seq block verifiers count by — then filler, or with
 * `--payload web` the service's JSON request log line (`webLogLine`).
 */
export function fileLogLine(runId: string, seq: number, bodyBytes: number, seqBlockSize: number, web = false): string {
  const head = `otel-harness run=${runId} seq=${seq} block=${Math.floor(seq / seqBlockSize)}`;
  if (web) return `${head} ${webLogLine(runId, seq)}`;
  return head.length >= bodyBytes ? head : `${head} ${filler(bodyBytes - head.length - 1, seq)}`;
}

/** Parses the seq out of a line made by `logLine`, `fileLogLine` or `webLogLine` (undefined for any other line). */
export function seqOfLogLine(line: string, runId: string): number | undefined {
  const match =
    /^otel-harness run=(\S+) seq=(\d+)(?: |$)/.exec(line) ??
    /^\{"otel_harness\.run_id":"([^"]+)","otel_harness\.seq":(\d+)[,}]/.exec(line);
  return match !== null && match[1] === runId ? Number(match[2]) : undefined;
}

/** Builds ExportLogsServiceRequest payloads of consecutive log records. */
export class LogBatchBuilder {
  private readonly resources: ResourcePicker;
  private readonly payload: PayloadShape;
  private readonly tag: Uint8Array;
  private readonly scope: Uint8Array;
  private readonly writer = new ProtoWriter(64 * 1024);

  constructor(
    private readonly identity: RunIdentity,
    readonly shape: LogShape,
  ) {
    this.payload = shape.payload ?? SYNTHETIC;
    this.resources = new ResourcePicker(identity, this.payload, () => encodeResource(identity));
    this.tag = runTag(identity.runId);
    this.scope = encodeScope();
  }

  build(firstSeq: number, count: number, nowMs: number): Batch {
    const w = this.writer.reset();
    const time = nanosFromMillis(nowMs);
    w.fork(); // resource_logs (1)
    w.raw(this.resources.forBatch(firstSeq));
    w.fork(); // scope_logs (2)
    w.raw(this.scope);
    for (let seq = firstSeq; seq < firstSeq + count; seq++) {
      w.fork(); // log_records (2)
      w.fixed64(1, time);
      const web = this.payload.profile === 'web';
      const severity = web ? webLogLevel(seq) : this.shape.severityText;
      w.varint(2, SEVERITY_NUMBER[severity]);
      w.string(3, severity);
      w.fork()
        .string(1, web ? webLogLine(this.identity.runId, seq) : logLine(this.identity.runId, seq, this.shape.bodyBytes))
        .join(5);
      // The request's trace: the server span of trace `seq` of the same run.
      if (web) w.bytes(9, traceId(this.tag, seq)).bytes(10, spanId(seq, 0));
      w.fork().string(1, ATTR.seq).fork().string(1, String(seq)).join(2).join(6);
      w.fork()
        .string(1, ATTR.seqBlock)
        .fork()
        .string(1, String(Math.floor(seq / this.shape.seqBlockSize)))
        .join(2)
        .join(6);
      w.fixed64(11, time);
      w.join(2);
    }
    w.join(2);
    w.join(1);
    return { body: w.finish(), items: count };
  }
}
