import { describe, expect, it } from 'vitest';
import {
  decodeSpanId,
  decodeTraceId,
  dueTimeMs,
  fixedIntervalClock,
  fromHex,
  itemsDue,
  LogBatchBuilder,
  logLine,
  logShapeDefaults,
  METRIC_NAME,
  METRIC_NAMES,
  MetricBatchBuilder,
  nanosFromMillis,
  ProtoWriter,
  runTag,
  seqOfLogLine,
  spanId,
  tickTimeMs,
  toHex,
  totalItems,
  TraceBatchBuilder,
  traceId,
  traceShapeDefaults,
  traceTraits,
  uint64ToString,
} from '../../generators/index.js';
import { otlpJsonOf } from '../../src/load/otlp/otlp-json.js';
import { Msg } from './support/wire-decoder.js';

const identity = { runId: 'oh-20261121-120000-ab12', serviceName: 'otel-harness-soak' };
const NOW = 1_795_000_000_123;

describe('ids', () => {
  it('derives trace ids from (run, seq) and decodes them back', () => {
    const tag = runTag(identity.runId);
    for (const seq of [0, 1, 255, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER - 1]) {
      const id = traceId(tag, seq);
      expect(id.length).toBe(16);
      expect(decodeTraceId(id, tag)).toBe(seq);
      expect(toHex(id).slice(16)).toBe(toHex(tag));
    }
    expect(decodeTraceId(traceId(runTag('another-run'), 5), tag)).toBeUndefined();
    expect(toHex(traceId(tag, 1))).not.toBe(toHex(traceId(tag, 2)));
  });

  it('derives span ids from (seq, index), never zero, and decodes them back', () => {
    for (const [seq, index] of [
      [0, 0],
      [41, 3],
      [2 ** 40, 65535],
    ] as const) {
      const id = spanId(seq, index);
      expect(id.some((b) => b !== 0)).toBe(true);
      expect(decodeSpanId(id)).toEqual({ seq, index });
    }
    expect(toHex(fromHex('00ff10'))).toBe('00ff10');
  });
});

describe('protobuf writer', () => {
  it('converts milliseconds to exact 64-bit nanoseconds', () => {
    const ns = nanosFromMillis(NOW, 456);
    expect(uint64ToString(ns)).toBe('1795000000123000456');
    expect(BigInt(ns.hi) * 2n ** 32n + BigInt(ns.lo)).toBe(1795000000123000456n);
  });

  it('writes multi-byte UTF-8 strings that decode back', () => {
    const bytes = new ProtoWriter(4).string(1, 'héllo ✓ 𝄞').finish();
    expect(new Msg(bytes).string(1)).toBe('héllo ✓ 𝄞');
  });
});

describe('trace batches', () => {
  const shape = { ...traceShapeDefaults(), spansPerTrace: 3, attributesPerSpan: 2, errorFraction: 0.5 };
  const builder = new TraceBatchBuilder(identity, shape);

  it('decode back to exactly the generated traces, batch after batch (pre-encoded fields are reused)', () => {
    builder.build(2 ** 40, 7, NOW - 1_000); // leaves other ids in the builder's scratch fields
    const batch = builder.build(10, 4, NOW);
    expect(batch.items).toBe(12);
    const resourceSpans = new Msg(batch.body).msg(1);
    expect(resourceSpans.msg(1).attributes(1)).toEqual({
      'service.name': 'otel-harness-soak',
      'service.instance.id': identity.runId,
      'otel_harness.run_id': identity.runId,
    });
    const scopeSpans = resourceSpans.msg(2);
    expect(scopeSpans.msg(1).string(1)).toBe('otel-harness');
    const spans = scopeSpans.msgs(2);
    expect(spans.length).toBe(12);
    const tag = runTag(identity.runId);
    spans.forEach((span, i) => {
      const seq = 10 + Math.floor(i / 3);
      const index = i % 3;
      expect(decodeTraceId(span.bytes(1), tag)).toBe(seq);
      expect(decodeSpanId(span.bytes(2))).toEqual({ seq, index });
      if (index === 0) expect(span.has(4)).toBe(false);
      else expect(toHex(span.bytes(4))).toBe(toHex(spanId(seq, 0)));
      expect(Number(span.uint(6))).toBe(index === 0 ? 2 : 1);
      expect(span.string(5)).toBe(index === 0 ? 'soak-root' : `soak-child-${index}`);
      const attrs = span.attributes(9);
      expect(attrs['otel_harness.seq']).toBe(String(seq));
      expect(attrs['otel_harness.span_seq']).toBe(String(seq * 3 + index));
      expect(Object.keys(attrs).filter((k) => k.startsWith('attr.')).length).toBe(2);
      expect((attrs['attr.0'] as string).length).toBe(shape.attributeValueBytes);
      const start = span.uint(7);
      const end = span.uint(8);
      expect(end > start).toBe(true);
      expect(end <= BigInt(NOW) * 1_000_000n).toBe(true);
      const traits = traceTraits(seq, shape);
      expect(span.has(15)).toBe(index === 0 && traits.error);
      if (index === 0) expect(Number((end - start) / 1_000_000n)).toBe(traits.durationMs);
    });
  });

  it('decides errors and slow traces reproducibly at the configured fractions', () => {
    const n = 20_000;
    let errors = 0;
    for (let seq = 0; seq < n; seq++) if (traceTraits(seq, { ...shape, errorFraction: 0.1 }).error) errors++;
    expect(errors / n).toBeGreaterThan(0.09);
    expect(errors / n).toBeLessThan(0.11);
    expect(traceTraits(123, shape)).toEqual(traceTraits(123, shape));
  });
});

describe('log batches', () => {
  const shape = { ...logShapeDefaults(), bodyBytes: 80, seqBlockSize: 10 };
  it('decode back to unique lines carrying run and seq', () => {
    const batch = new LogBatchBuilder(identity, shape).build(18, 3, NOW);
    expect(batch.items).toBe(3);
    const records = new Msg(batch.body).msg(1).msg(2).msgs(2);
    expect(records.map((r) => r.msg(5).string(1))).toEqual([18, 19, 20].map((s) => logLine(identity.runId, s, 80)));
    for (const [i, r] of records.entries()) {
      const line = r.msg(5).string(1);
      expect(line.length).toBe(80);
      expect(seqOfLogLine(line, identity.runId)).toBe(18 + i);
      expect(r.attributes(6)).toEqual({
        'otel_harness.seq': String(18 + i),
        'otel_harness.seq_block': String(Math.floor((18 + i) / 10)),
      });
      expect(r.uint(1)).toBe(BigInt(NOW) * 1_000_000n);
      expect(r.string(3)).toBe('INFO');
      expect(Number(r.uint(2))).toBe(9);
    }
    expect(seqOfLogLine(logLine('other-run', 5, 80), identity.runId)).toBeUndefined();
  });
});

describe('metric batches', () => {
  it('decode back to the known series and sample timestamps', () => {
    const builder = new MetricBatchBuilder(identity, { series: 4, intervalMs: 5_000 }, fixedIntervalClock(NOW, 5_000));
    const batch = builder.build(6, 5); // series 2,3 of tick 1; series 0,1,2 of tick 2
    const metric = new Msg(batch.body).msg(1).msg(2).msg(2);
    expect(metric.string(1)).toBe(METRIC_NAME);
    const points = metric.msg(5).msgs(1);
    expect(points.map((p) => [p.attributes(7).series, p.double(4), p.uint(3)])).toEqual([
      ['2', 1, BigInt(NOW + 5_000) * 1_000_000n],
      ['3', 1, BigInt(NOW + 5_000) * 1_000_000n],
      ['0', 2, BigInt(NOW + 10_000) * 1_000_000n],
      ['1', 2, BigInt(NOW + 10_000) * 1_000_000n],
      ['2', 2, BigInt(NOW + 10_000) * 1_000_000n],
    ]);
    expect(points[0]!.attributes(7).run_id).toBe(identity.runId);
  });

  it('of several types: one metric per type, series s of the (s mod n)th type, cumulative, and the same points as JSON', () => {
    const types = ['gauge', 'sum', 'histogram', 'exponential_histogram'] as const;
    const builder = new MetricBatchBuilder(
      identity,
      { series: 8, intervalMs: 5_000, types },
      fixedIntervalClock(NOW, 5_000),
    );
    const batch = builder.build(6, 5); // series 6, 7 of tick 0; series 0, 1, 2 of tick 1
    expect(batch.items).toBe(5);
    const metrics = new Msg(batch.body).msg(1).msg(2).msgs(2);
    const byName = new Map(metrics.map((m) => [m.string(1), m]));
    expect([...byName.keys()]).toEqual([
      METRIC_NAMES.gauge,
      METRIC_NAMES.sum,
      METRIC_NAMES.histogram,
      METRIC_NAMES.exponential_histogram,
    ]);
    const nanos = (ms: number) => BigInt(ms) * 1_000_000n;
    const start = nanos(NOW - 1_000);
    // gauge (5): series 0 of tick 1.
    const gauge = byName.get(METRIC_NAMES.gauge)!.msg(5).msgs(1);
    expect(gauge.map((p) => [p.attributes(7).series, p.double(4), p.uint(3)])).toEqual([['0', 1, nanos(NOW + 5_000)]]);
    // sum (7): series 1 of tick 1, cumulative (2), monotonic.
    const sum = byName.get(METRIC_NAMES.sum)!.msg(7);
    expect(sum.uint(2)).toBe(2n);
    expect(sum.uint(3)).toBe(1n);
    expect(sum.msgs(1).map((p) => [p.attributes(7).series, p.double(4), p.uint(2), p.uint(3)])).toEqual([
      ['1', 1, start, nanos(NOW + 5_000)],
    ]);
    // histogram (9): series 6 of tick 0 and series 2 of tick 1; count tick + 1, all in the first bucket.
    const histogram = byName.get(METRIC_NAMES.histogram)!.msg(9);
    expect(histogram.uint(2)).toBe(2n);
    const fixed64s = (b: Uint8Array) =>
      Array.from({ length: b.length / 8 }, (_, i) =>
        Number(new DataView(b.buffer, b.byteOffset).getBigUint64(i * 8, true)),
      );
    const doubles = (b: Uint8Array) =>
      Array.from({ length: b.length / 8 }, (_, i) => new DataView(b.buffer, b.byteOffset).getFloat64(i * 8, true));
    expect(
      histogram
        .msgs(1)
        .map((p) => [p.attributes(9).series, p.uint(4), p.double(5), fixed64s(p.bytes(6)), doubles(p.bytes(7))]),
    ).toEqual([
      ['6', 1n, 0.25, [1, 0, 0, 0], [0.5, 1, 5]],
      ['2', 2n, 0.5, [2, 0, 0, 0], [0.5, 1, 5]],
    ]);
    // exponential histogram (10): series 7 of tick 0; scale 0, one positive bucket holding every observation.
    const exponential = byName.get(METRIC_NAMES.exponential_histogram)!.msg(10);
    expect(exponential.uint(2)).toBe(2n);
    const point = exponential.msg(1);
    expect([point.attributes(1).series, point.uint(4), point.double(5), point.has(6)]).toEqual(['7', 1n, 1.5, false]);
    expect([...point.msg(8).bytes(2)]).toEqual([1]); // packed uint64 bucket_counts: one varint 1
    expect(point.attributes(1).run_id).toBe(identity.runId);

    // The OTLP/JSON writer reads the same points (packed fields, 64-bit values as strings).
    const json = JSON.parse(otlpJsonOf('metrics', batch.body)) as {
      resourceMetrics: { scopeMetrics: { metrics: Record<string, unknown>[] }[] }[];
    };
    const written = json.resourceMetrics[0]!.scopeMetrics[0]!.metrics;
    expect(written.map((m) => Object.keys(m).find((k) => !['name', 'description'].includes(k)))).toEqual([
      'gauge',
      'sum',
      'histogram',
      'exponentialHistogram',
    ]);
    expect(written[2]).toMatchObject({
      histogram: {
        aggregationTemporality: 2,
        dataPoints: [
          { count: '1', sum: 0.25, bucketCounts: ['1', '0', '0', '0'], explicitBounds: [0.5, 1, 5] },
          { count: '2', sum: 0.5, bucketCounts: ['2', '0', '0', '0'], explicitBounds: [0.5, 1, 5] },
        ],
      },
    });
    expect(written[3]).toMatchObject({
      exponentialHistogram: { dataPoints: [{ count: '1', sum: 1.5, positive: { bucketCounts: ['1'] } }] },
    });
  });

  it('stamp every tick when the schedule makes it due: never after it is sent, never drifting, for every profile', () => {
    const shape = { series: 7, intervalMs: 5_000 };
    const durationMs = 3_600_000;
    for (const profile of [
      { kind: 'constant' } as const,
      { kind: 'ramp', rampMs: 600_000 } as const,
      { kind: 'steps', steps: 4 } as const,
    ]) {
      // 1,333.3 points/s: the series count is rounded, the interval is not a whole number of ms.
      const timeline = { startMs: NOW, profile, rate: 1333.3, durationMs };
      const total = totalItems(profile, timeline.rate, durationMs);
      let previous = -Infinity;
      for (let tick = 0; tick * shape.series < total; tick += 97) {
        const t = tickTimeMs(tick, shape, timeline);
        // The batch holding the tick's first point leaves when its last unit is due: at or after this time.
        const due = NOW + dueTimeMs(profile, timeline.rate, tick * shape.series + 1, durationMs);
        expect(t).toBeLessThanOrEqual(due);
        expect(due - t).toBeLessThan(1);
        expect(t).toBeGreaterThan(previous);
        previous = t;
      }
      // The last tick is stamped within the run: an hour-long step or ramp soak stays on the wall clock.
      const lastTick = Math.floor((total - 1) / shape.series);
      expect(tickTimeMs(lastTick, shape, timeline)).toBeLessThanOrEqual(NOW + durationMs);
      expect(tickTimeMs(lastTick, shape, timeline)).toBeGreaterThan(NOW + durationMs - 60_000);
    }
  });

  it('invert the schedule exactly: unit n is due when the profile has offered n units', () => {
    for (const profile of [
      { kind: 'constant' } as const,
      { kind: 'ramp', rampMs: 30_000 } as const,
      { kind: 'steps', steps: 3 } as const,
    ]) {
      for (const n of [1, 17, 999, 4_000, 11_999]) {
        const t = dueTimeMs(profile, 200, n, 90_000);
        expect(itemsDue(profile, 200, t, 90_000)).toBeCloseTo(n, 6);
      }
    }
  });
});
