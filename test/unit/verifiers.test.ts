import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTag, spanId, toHex, traceId } from '../../generators/index.js';
import {
  lokiBlockCountQuery,
  lokiBlockLinesQuery,
  lokiCountQuery,
  lokiSelector,
  parseLokiLines,
  parseLokiVector,
} from '../../src/verify/loki-verifier.js';
import {
  parsePromSampleTimes,
  parsePromVector,
  promCountBySeriesQuery,
  promSelector,
} from '../../src/verify/prometheus-verifier.js';
import {
  parseJaegerTrace,
  parseTempoCount,
  parseTempoTrace,
  tempoSpanCountQuery,
  type TraceStore,
} from '../../src/verify/trace-stores.js';
import { verifyTraces } from '../../src/verify/traces-verifier.js';
import { uniformSample, verdict, wilsonUpper95 } from '../../src/verify/verification.js';

const json = (name: string): unknown => JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8'));

describe('response parsers (fixtures recorded from the real backends)', () => {
  it('reads span ids from Tempo and Jaeger trace-by-id answers', () => {
    const tempo = parseTempoTrace(json('tempo-trace-by-id.json'));
    expect(tempo.sort()).toEqual([0, 1, 2, 3, 4].map((i) => toHex(spanId(7, i))).sort());
    const jaeger = parseJaegerTrace(json('jaeger-trace-by-id.json'));
    expect(jaeger.sort()).toEqual([0, 1, 2, 3, 4].map((i) => toHex(spanId(3, i))).sort());
    expect(parseJaegerTrace({ data: null })).toEqual([]);
  });

  it('sums a TraceQL metrics count', () => {
    expect(parseTempoCount(json('tempo-traceql-count.json'))).toBe(10000);
    expect(tempoSpanCountQuery('r1')).toBe('{ resource.service.instance.id = "r1" } | count_over_time()');
  });

  it('reads Loki counts, per-block counts and lines', () => {
    expect(parseLokiVector(json('loki-count.json')).get('')).toBe(10000);
    const blocks = parseLokiVector(json('loki-count-by-block.json'), 'otel_harness_seq_block');
    expect([...blocks.values()]).toEqual(Array.from({ length: 10 }, () => 1000));
    expect(blocks.get('7')).toBe(1000);
    const lines = parseLokiLines(json('loki-lines.json'));
    expect(lines.length).toBe(5);
    expect(lines[0]).toMatch(/^otel-harness run=run-fixture-1 seq=3\d{3} /);
  });

  it('reads Prometheus per-series counts and sample timestamps', () => {
    const counts = parsePromVector(json('prometheus-count-by-series.json'), 'series');
    expect(counts.size).toBe(5);
    expect([...counts.values()].every((n) => n === 2)).toBe(true);
    expect(parsePromSampleTimes(json('prometheus-range-vector.json'))).toEqual([1795292376115, 1795292381115]);
  });
});

describe('query builders', () => {
  it('select a run by its index labels and count exactly', () => {
    const sel = lokiSelector('otel-harness-soak', 'oh-1');
    expect(sel).toBe('{service_name="otel-harness-soak", service_instance_id="oh-1"}');
    expect(lokiCountQuery(sel, 600)).toBe(`sum(count_over_time(${sel} [600s]))`);
    expect(lokiBlockCountQuery(sel, 600, 400, 800)).toBe(
      `sum by (otel_harness_seq_block) (count_over_time(${sel} | otel_harness_seq_block >= 400 and otel_harness_seq_block < 800 [600s]))`,
    );
    expect(lokiBlockLinesQuery(sel, 3)).toBe(`${sel} | otel_harness_seq_block="3"`);
    expect(promSelector('oh-1', 7)).toBe('otel_harness_soak_value{run_id="oh-1",series="7"}');
    expect(promCountBySeriesQuery('oh-1', 90)).toBe('count_over_time(otel_harness_soak_value{run_id="oh-1"}[90s])');
  });
});

/** A trace store holding chosen spans of a run (unit-testing the verifier's logic, not a backend). */
function store(
  runId: string,
  spans: (seq: number) => number[],
  duplicate: (seq: number) => boolean = () => false,
): TraceStore & { calls: number } {
  const tag = runTag(runId);
  const bySeq = new Map<string, number>();
  for (let seq = 0; seq < 10_000; seq++) bySeq.set(toHex(traceId(tag, seq)), seq);
  const s = {
    backend: 'tempo' as const,
    calls: 0,
    spanIds(hex: string) {
      s.calls++;
      const seq = bySeq.get(hex);
      if (seq === undefined) return Promise.resolve([]);
      const ids = spans(seq).map((i) => toHex(spanId(seq, i)));
      return Promise.resolve(duplicate(seq) ? [...ids, ids[0]!] : ids);
    },
  };
  return s;
}

const opts = { concurrency: 4, rechecks: 1, pauseMs: 0, clock: { now: () => 0, sleep: () => Promise.resolve() } };

describe('verifyTraces', () => {
  it('reports zero on a complete run', async () => {
    const v = await verifyTraces(
      store('r', () => [0, 1, 2]),
      { runId: 'r', spansPerTrace: 3, acknowledged: [{ first: 0, count: 500 }], unacknowledged: [], maxTraces: 1000 },
      opts,
    );
    expect(v).toMatchObject({ expected: 1500, found: 1500, lost: 0, duplicates: 0, outcome: { status: 'pass' } });
  });

  it('finds planted loss exactly and names it', async () => {
    // every 7th trace misses span 2; trace 50 is missing entirely
    const v = await verifyTraces(
      store('r', (seq) => (seq === 50 ? [] : seq % 7 === 0 ? [0, 1] : [0, 1, 2])),
      { runId: 'r', spansPerTrace: 3, acknowledged: [{ first: 0, count: 100 }], unacknowledged: [], maxTraces: 1000 },
      opts,
    );
    const incomplete = Array.from({ length: 100 }, (_, s) => s).filter((s) => s % 7 === 0 || s === 50);
    expect(v.lost).toBe(incomplete.filter((s) => s !== 50).length + 3);
    expect(v.lostRanges.flatMap((r) => Array.from({ length: r.count }, (_, i) => r.first + i))).toEqual(incomplete);
    expect(v.lostExamples[0]).toBe(`trace ${toHex(traceId(runTag('r'), 0))} (seq 0): span 2 of 3 missing`);
    expect(v.outcome).toEqual({
      status: 'fail',
      expected: 300,
      actual: 300 - v.lost,
      reason: `${v.lost} spans acknowledged and absent after drain`,
    });
  });

  it('reports duplicates apart, and unacknowledged traces that arrived', async () => {
    const v = await verifyTraces(
      store(
        'r',
        () => [0, 1],
        (s) => s < 3,
      ),
      {
        runId: 'r',
        spansPerTrace: 2,
        acknowledged: [{ first: 0, count: 10 }],
        unacknowledged: [{ first: 10, count: 5 }],
        maxTraces: 100,
      },
      opts,
    );
    expect(v).toMatchObject({ lost: 0, duplicates: 3, unacknowledgedFound: 10 });
  });

  it('samples above the bound, states the confidence bound, and uses an exact count when given', async () => {
    const s = store('r', (seq) => (seq % 10 === 0 ? [0] : [0, 1]));
    const v = await verifyTraces(
      s,
      { runId: 'r', spansPerTrace: 2, acknowledged: [{ first: 0, count: 5000 }], unacknowledged: [], maxTraces: 400 },
      { ...opts, rechecks: 0 },
    );
    expect(s.calls).toBe(400);
    expect(v.sample).toMatchObject({ population: 5000, sampleSize: 400 });
    expect(v.sample!.missingInSample / 400).toBeCloseTo(0.1, 1);
    expect(v.lost).toBeGreaterThan(300);
    expect(v.lost).toBeLessThan(700);
    expect(v.notes[0]).toMatch(/^400 of 5000 acknowledged traces checked by id \(uniform sample\)/);
    const exact = await verifyTraces(
      s,
      {
        runId: 'r',
        spansPerTrace: 2,
        acknowledged: [{ first: 0, count: 5000 }],
        unacknowledged: [],
        maxTraces: 400,
        exactSpanCount: 9500,
      },
      { ...opts, rechecks: 0 },
    );
    expect(exact).toMatchObject({
      lost: 500,
      found: 9500,
      method: expect.stringMatching(/^TraceQL span count \(exact\)/) as unknown,
    });
  });

  it('re-checks incomplete traces before calling them lost (late arrivals)', async () => {
    // The backend answers "not found" to the first 10 look-ups, then has every span.
    let lookups = 0;
    const late: TraceStore = {
      backend: 'jaeger',
      spanIds: (hex) => Promise.resolve(++lookups <= 10 ? [] : [toHex(spanId(parseInt(hex.slice(16), 16), 0))]),
    };
    const acknowledged = [{ first: 0, count: 10 }];
    const withRecheck = await verifyTraces(
      late,
      { runId: 'r', spansPerTrace: 1, acknowledged, unacknowledged: [], maxTraces: 100 },
      { ...opts, rechecks: 1 },
    );
    expect(withRecheck.lost).toBe(0);
    lookups = 0;
    const without = await verifyTraces(
      late,
      { runId: 'r', spansPerTrace: 1, acknowledged, unacknowledged: [], maxTraces: 100 },
      { ...opts, rechecks: 0 },
    );
    expect(without.lost).toBe(10);
  });
});

describe('statistics', () => {
  it('samples uniformly without repeats, reproducibly', () => {
    const a = uniformSample(1000, 100, 42);
    expect(new Set(a).size).toBe(100);
    expect(a).toEqual(uniformSample(1000, 100, 42));
    expect(a.every((i) => i >= 0 && i < 1000)).toBe(true);
    expect(uniformSample(5, 10, 1)).toEqual([0, 1, 2, 3, 4]);
  });

  it('bounds a proportion (Wilson, 95 %)', () => {
    expect(wilsonUpper95(0, 1000)).toBeCloseTo(0.00383, 4); // ≈ 3/n rule of three
    expect(wilsonUpper95(10, 100)).toBeCloseTo(0.1744, 3);
    expect(verdict(10, 10, 'spans')).toEqual({ status: 'pass' });
  });
});
