import { encodeResource, encodeScope, type RunIdentity } from './otlp-common.js';
import { nanosFromMillis, ProtoWriter } from './protobuf-writer.js';
import type { Batch } from './traces.js';

/**
 * Metrics are a known set of `series` gauge series sampled every `intervalMs` from `startMs`: data point
 * `seq` is series `seq % series` at tick `floor(seq / series)`, timestamp `startMs + tick * intervalMs`,
 * value `tick`. Every sample a verifier should find is known in advance.
 */
export interface MetricShape {
  series: number;
  intervalMs: number;
}

export const METRIC_NAME = 'otel_harness_soak_value';

export function pointOf(seq: number, shape: MetricShape): { series: number; tick: number } {
  return { series: seq % shape.series, tick: Math.floor(seq / shape.series) };
}

export function sampleTimeMs(tick: number, startMs: number, shape: MetricShape): number {
  return startMs + tick * shape.intervalMs;
}

/** Builds ExportMetricsServiceRequest payloads of consecutive data points of the gauge. */
export class MetricBatchBuilder {
  private readonly resource: Uint8Array;
  private readonly scope: Uint8Array;
  private readonly writer = new ProtoWriter(64 * 1024);

  constructor(
    private readonly identity: RunIdentity,
    readonly shape: MetricShape,
    /** Timestamp of tick 0 (Unix ms). */
    readonly startMs: number,
  ) {
    if (!Number.isInteger(shape.series) || shape.series < 1) throw new Error('series must be a positive integer');
    this.resource = encodeResource(identity);
    this.scope = encodeScope();
  }

  build(firstSeq: number, count: number): Batch {
    const w = this.writer.reset();
    w.fork(); // resource_metrics (1)
    w.raw(this.resource);
    w.fork(); // scope_metrics (2)
    w.raw(this.scope);
    w.fork(); // metrics (2)
    w.string(1, METRIC_NAME);
    w.string(2, 'otel-harness soak gauge: the tick number of each sample');
    w.fork(); // gauge (5)
    for (let seq = firstSeq; seq < firstSeq + count; seq++) {
      const { series, tick } = pointOf(seq, this.shape);
      w.fork(); // data_points (1)
      w.fork().string(1, 'run_id').fork().string(1, this.identity.runId).join(2).join(7);
      w.fork().string(1, 'series').fork().string(1, String(series)).join(2).join(7);
      w.fixed64(3, nanosFromMillis(sampleTimeMs(tick, this.startMs, this.shape)));
      w.double(4, tick);
      w.join(1);
    }
    w.join(5);
    w.join(2);
    w.join(2);
    w.join(1);
    return { body: w.finish(), items: count };
  }
}
