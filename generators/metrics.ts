import { encodeResource, encodeScope, type RunIdentity } from './otlp-common.js';
import { nanosFromMillis, ProtoWriter, type Uint64 } from './protobuf-writer.js';
import { dueTimeMs, type RateProfile } from './rate-profile.js';
import type { Batch } from './traces.js';

/**
 * Metrics are a known set of `series` series: data point `seq` is series `seq % series` at tick
 * `floor(seq / series)`. Every sample a verifier should find is known in advance; its timestamp comes from
 * the run's `MetricTimeline`. Series `s` is of type `types[s % types.length]` (a gauge when none is given).
 */
export interface MetricShape {
  series: number;
  /** Nominal sample interval of each series at the target rate (the timeline decides the real one). */
  intervalMs: number;
  /** The OTLP metric types the series cycle through; default: gauge only. */
  types?: readonly MetricType[];
}

/**
 * The OTLP metric types the generator writes, each cumulative where it has a temporality (what Prometheus
 * and Mimir store: a delta sum or histogram needs a deltatocumulative processor before them):
 * - gauge: value = tick;
 * - sum: a monotonic cumulative counter, value = tick (Prometheus: `<name>_total` when suffixes are added);
 * - histogram: explicit bounds 0.5, 1, 5; count = tick + 1, every observation 0.25 (Prometheus:
 *   `<name>_bucket`, `_sum`, `_count` — one `_count` sample per data point);
 * - exponential_histogram: scale 0, count = tick + 1, every observation 1.5 (a native histogram sample).
 */
export const METRIC_TYPES = ['gauge', 'sum', 'histogram', 'exponential_histogram'] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

/** The metric name each type is written under. */
export const METRIC_NAMES: Readonly<Record<MetricType, string>> = {
  gauge: 'otel_harness_soak_value',
  sum: 'otel_harness_soak_sum',
  histogram: 'otel_harness_soak_hist',
  exponential_histogram: 'otel_harness_soak_exphist',
};

/**
 * The names one data point of each type is stored under in Prometheus or Mimir, one sample per point:
 * a sum with or without the `_total` suffix (Prometheus adds it, Mimir by default does not), a classic
 * histogram's `_count` (or the histogram itself when converted to a native histogram with custom buckets).
 */
export const STORED_METRIC_NAMES: Readonly<Record<MetricType, readonly string[]>> = {
  gauge: [METRIC_NAMES.gauge],
  sum: [METRIC_NAMES.sum, `${METRIC_NAMES.sum}_total`],
  histogram: [`${METRIC_NAMES.histogram}_count`, METRIC_NAMES.histogram],
  exponential_histogram: [METRIC_NAMES.exponential_histogram],
};

export function metricTypesOf(shape: MetricShape): readonly MetricType[] {
  return shape.types !== undefined && shape.types.length > 0 ? shape.types : ['gauge'];
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

export const METRIC_NAME = METRIC_NAMES.gauge;

export function pointOf(seq: number, shape: MetricShape): { series: number; tick: number } {
  return { series: seq % shape.series, tick: Math.floor(seq / shape.series) };
}

const DESCRIPTIONS: Readonly<Record<MetricType, string>> = {
  gauge: 'otel-harness soak gauge: the tick number of each sample',
  sum: 'otel-harness soak counter: the tick number of each sample',
  histogram: 'otel-harness soak histogram: tick + 1 observations of 0.25',
  exponential_histogram: 'otel-harness soak exponential histogram: tick + 1 observations of 1.5',
};
/** Metric fields of each type's data (OTLP metrics.proto). */
const DATA_FIELD: Readonly<Record<MetricType, number>> = {
  gauge: 5,
  sum: 7,
  histogram: 9,
  exponential_histogram: 10,
};
const CUMULATIVE = 2;
const HISTOGRAM_BOUNDS = [0.5, 1, 5];

/** Builds ExportMetricsServiceRequest payloads of consecutive data points (one metric per type present). */
export class MetricBatchBuilder {
  private readonly resource: Uint8Array;
  private readonly scope: Uint8Array;
  private readonly writer = new ProtoWriter(64 * 1024);
  private readonly types: readonly MetricType[];

  constructor(
    private readonly identity: RunIdentity,
    readonly shape: MetricShape,
    /** Timestamp (Unix ms) of a tick's samples: `tickTimeMs` of the run's timeline. */
    private readonly timeOfTick: (tick: number) => number,
  ) {
    if (!Number.isInteger(shape.series) || shape.series < 1) throw new Error('series must be a positive integer');
    this.resource = encodeResource(identity);
    this.scope = encodeScope();
    this.types = metricTypesOf(shape);
  }

  build(firstSeq: number, count: number): Batch {
    const w = this.writer.reset();
    const n = this.types.length;
    const series = this.shape.series;
    w.fork(); // resource_metrics (1)
    w.raw(this.resource);
    w.fork(); // scope_metrics (2)
    w.raw(this.scope);
    for (let k = 0; k < n; k++) {
      // The first seq of the batch whose series is of type k (series s has type s % n).
      let first = firstSeq;
      while (first < firstSeq + count && (first % series) % n !== k) first++;
      if (first >= firstSeq + count) continue;
      const type = this.types[k]!;
      w.fork(); // metrics (2)
      w.string(1, METRIC_NAMES[type]);
      w.string(2, DESCRIPTIONS[type]);
      w.fork(); // gauge (5) | sum (7) | histogram (9) | exponential_histogram (10)
      for (let seq = first; seq < firstSeq + count; seq++) {
        if ((seq % series) % n !== k) continue;
        this.point(w, type, seq);
      }
      if (type !== 'gauge') w.varint(2, CUMULATIVE); // aggregation_temporality
      if (type === 'sum') w.bool(3, true); // is_monotonic
      w.join(DATA_FIELD[type]);
      w.join(2);
    }
    w.join(2);
    w.join(1);
    return { body: w.finish(), items: count };
  }

  private point(w: ProtoWriter, type: MetricType, seq: number): void {
    const { series, tick } = pointOf(seq, this.shape);
    // Attributes are field 7 of number and histogram points, field 1 of exponential histogram points.
    const attributes = type === 'exponential_histogram' ? 1 : type === 'histogram' ? 9 : 7;
    w.fork(); // data_points (1)
    w.fork().string(1, 'run_id').fork().string(1, this.identity.runId).join(2).join(attributes);
    w.fork().string(1, 'series').fork().string(1, String(series)).join(2).join(attributes);
    if (type !== 'gauge') w.fixed64(2, nanosFromMillis(this.timeOfTick(0) - 1_000)); // start_time_unix_nano
    w.fixed64(3, nanosFromMillis(this.timeOfTick(tick)));
    if (type === 'gauge' || type === 'sum') w.double(4, tick);
    else if (type === 'histogram') {
      const observations = tick + 1;
      w.fixed64(4, uint64(observations)); // count
      w.double(5, observations * 0.25); // sum
      w.packedFixed64(6, [observations, 0, 0, 0]); // bucket_counts: all in (−∞, 0.5]
      w.packedDouble(7, HISTOGRAM_BOUNDS); // explicit_bounds
    } else {
      const observations = tick + 1;
      w.fixed64(4, uint64(observations)); // count
      w.double(5, observations * 1.5); // sum
      // scale (6) 0 and zero_count (7) 0 are the defaults; positive (8): offset 0, bucket (1, 2] holds all.
      w.fork().packedVarint(2, [observations]).join(8);
    }
    w.join(1);
  }
}

function uint64(n: number): Uint64 {
  return { lo: n % 2 ** 32, hi: Math.floor(n / 2 ** 32) };
}
