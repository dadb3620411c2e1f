import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeTraceId, fromHex, runTag, spanId, toHex } from '../../generators/index.js';
import { parseJaegerTrace, parseJaegerTraces } from '../../src/verify/backends/jaeger.js';
import {
  lokiBlockCountQuery,
  lokiBlockLinesQuery,
  lokiCountQuery,
  lokiSelector,
  parseLokiLines,
  parseLokiVector,
} from '../../src/verify/backends/loki.js';
import {
  parsePromSampleTimes,
  parsePromVector,
  promCountBySeriesQuery,
  promSelector,
} from '../../src/verify/backends/promql.js';
import { parseTempoCount, tempoSpanCountQuery } from '../../src/verify/backends/tempo-count.js';
import { parseTempoSearch, parseTempoTrace } from '../../src/verify/backends/tempo-reading.js';
import { spanOfHex, tally, type TraceSpans } from '../../src/verify/backends/trace-evidence.js';
import { uniformSample, verdict, wilsonUpper95 } from '../../src/verify/verification.js';

const json = (name: string): unknown => JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8'));

describe('response parsers (fixtures recorded from the real backends)', () => {
  it('reads span ids from Tempo and Jaeger trace-by-id answers', () => {
    const tempo = parseTempoTrace(json('tempo-trace-by-id.json'));
    expect(tempo.sort()).toEqual([0, 1, 2, 3, 4].map((i) => toHex(spanId(7, i))).sort());
    expect(parseTempoTrace(json('tempo-2.8.0-v2-trace.json')).sort()).toEqual(
      [0, 1, 2].map((i) => toHex(spanId(1, i))).sort(),
    );
    expect(parseTempoTrace({ trace: {}, metrics: {} })).toEqual([]); // v2 answer for a trace not found
    const jaeger = parseJaegerTrace(json('jaeger-trace-by-id.json'));
    expect(jaeger.sort()).toEqual([0, 1, 2, 3, 4].map((i) => toHex(spanId(3, i))).sort());
    expect(parseJaegerTrace({ data: null })).toEqual([]);
  });

  it('reads many traces of one Jaeger answer, leaving out the ids it reports not found', () => {
    // Asked for seqs 0, 1 and 999999; Jaeger writes the id of seq 0 without its zero high half.
    const runId = 'oh-20261201-074837-803e6c013b51498f';
    const tag = runTag(runId);
    const traces = parseJaegerTraces(json('jaeger-2.13.0-traces-by-ids.json'));
    expect([...traces.keys()].map((id) => decodeTraceId(fromHex(id), tag))).toEqual([0, 1]);
    expect([...traces.values()].map((spans) => spans.length)).toEqual([3, 3]);
  });

  it('reads a Tempo search answer and whether every job completed', () => {
    const answer = parseTempoSearch(json('tempo-2.8.0-search.json'));
    expect(answer.traces).toHaveLength(3);
    expect(answer.traces[0]).toMatchObject({ traceHex: '7ed0531d47d5e4910000000000000001', matched: 3 });
    expect(answer.traces[0]!.spans).toEqual(
      [0, 1, 2].map((i) => ({ hex: toHex(spanId(1, i)), startMs: 1796108900324 + 5 * i })),
    );
    // limit 3 was reached: not every job ran, so this window would be halved.
    expect([answer.completedJobs, answer.totalJobs]).toEqual([2, 3]);
  });

  it('sums a TraceQL metrics count', () => {
    expect(parseTempoCount(json('tempo-traceql-count.json'))).toBe(10000);
    expect(parseTempoCount(json('tempo-2.8.0-count.json'))).toBe(498);
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
    expect(promCountBySeriesQuery('oh-1', 90_001)).toBe(
      'count_over_time(otel_harness_soak_value{run_id="oh-1"}[90001ms])',
    );
  });
});

describe('span ids and tallies', () => {
  it('credits a span stored under another trace id to its own trace (Tempo trace-id hash collisions)', () => {
    const bySeq = new Map<number, TraceSpans>();
    expect(tally(bySeq, 5, toHex(spanId(5, 1)), 3)).toBe('ok');
    expect(tally(bySeq, 5, toHex(spanId(9, 2)), 3)).toBe('misfiled');
    expect(tally(bySeq, 5, 'ffffffffffffffff', 3)).toBe('foreign');
    expect([...bySeq.get(5)!.counts]).toEqual([0, 1, 0]);
    expect(bySeq.get(5)!.foreign).toBe(1);
    expect([...bySeq.get(9)!.counts]).toEqual([0, 0, 1]);
    expect(bySeq.get(9)!.misfiled).toBe(1);
    expect(spanOfHex(toHex(spanId(2 ** 40, 7)))).toEqual({ seq: 2 ** 40, index: 7 });
  });
});

describe('statistics', () => {
  it('bounds a clean sample at about 3/n and samples reproducibly', () => {
    expect(wilsonUpper95(0, 1000)).toBeGreaterThan(0.0029);
    expect(wilsonUpper95(0, 1000)).toBeLessThan(0.004);
    expect(wilsonUpper95(5, 5)).toBe(1);
    const a = uniformSample(100_000, 500, 7);
    expect(a).toEqual(uniformSample(100_000, 500, 7));
    expect(new Set(a).size).toBe(500);
    expect(verdict(10, 0, 'spans')).toEqual({ status: 'pass' });
    expect(verdict(10, 3, 'spans')).toMatchObject({ status: 'fail', actual: 7 });
  });
});
