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
