import { encodeResource, encodeScope, type RunIdentity } from './otlp-common.js';
import { nanosFromMillis, ProtoWriter } from './protobuf-writer.js';
import { dueTimeMs, type RateProfile } from './rate-profile.js';
import type { Batch } from './traces.js';

/**
 * Metrics are a known set of `series` gauge series: data point `seq` is series `seq % series` at tick
 * `floor(seq / series)`, value `tick`. Every sample a verifier should find is known in advance; its
 * timestamp comes from the run's `MetricTimeline`.
 */
export interface MetricShape {
  series: number;
  /** Nominal sample interval of each series at the target rate (the timeline decides the real one). */
  intervalMs: number;
}

/**
 * When tick `t` is stamped: the moment the schedule makes its first data point (seq `t × series`) due,
 * `startMs + floor(dueTimeMs(profile, rate, t × series + 1))`. Samples therefore follow the wall clock for
 * every profile and series count — never stamped after they are sent (a batch leaves when its last point
 * is due), never drifting out of the backend's accepted window on long ramp or step runs.
 */
export interface MetricTimeline {
  /** Unix ms of the schedule's start. */
  startMs: number;
  profile: RateProfile;
  /** Target data points per second. */
  rate: number;
  durationMs: number;
}

/** Timestamp (Unix ms) of tick `tick`'s samples. */
export function tickTimeMs(tick: number, shape: MetricShape, timeline: MetricTimeline): number {
  return (
    timeline.startMs +
    Math.floor(dueTimeMs(timeline.profile, timeline.rate, tick * shape.series + 1, timeline.durationMs))
  );
}

/** A fixed-interval clock (tick × interval after `startMs`), for a single series sent on a timer. */
export function fixedIntervalClock(startMs: number, intervalMs: number): (tick: number) => number {
  return (tick) => startMs + tick * intervalMs;
}

export const METRIC_NAME = 'otel_harness_soak_value';

export function pointOf(seq: number, shape: MetricShape): { series: number; tick: number } {
  return { series: seq % shape.series, tick: Math.floor(seq / shape.series) };
}

/** Builds ExportMetricsServiceRequest payloads of consecutive data points of the gauge. */
export class MetricBatchBuilder {
  private readonly resource: Uint8Array;
  private readonly scope: Uint8Array;
  private readonly writer = new ProtoWriter(64 * 1024);

  constructor(
    private readonly identity: RunIdentity,
    readonly shape: MetricShape,
    /** Timestamp (Unix ms) of a tick's samples: `tickTimeMs` of the run's timeline. */
    private readonly timeOfTick: (tick: number) => number,
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
      w.fixed64(3, nanosFromMillis(this.timeOfTick(tick)));
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
