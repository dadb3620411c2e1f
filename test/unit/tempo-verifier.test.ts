/**
 * The Tempo verifier against a Tempo whose answers change with time: spans that arrive late, a query
 * frontend that caps spans per span set, a TraceQL metrics count that lags or falls short in some windows.
 * Answers are built from responses recorded from Tempo 2.8 (test/unit/fixtures), with ids, counts and
 * times substituted; the verifier's clock is virtual, so its pauses move Tempo's time on.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeTraceId, fromHex, runTag, spanId, toHex, traceId } from '../../generators/index.js';
import { Ledger } from '../../src/load/ledger.js';
import { expectationOf, type TraceExpectation } from '../../src/verify/expectation.js';
import { spssLimitOf } from '../../src/verify/backends/tempo-search.js';
import { parseTempoCountSeries } from '../../src/verify/backends/tempo-count.js';
import { metricsPathDiscards, tempoBackend } from '../../src/verify/backends/tempo.js';
import type { SignalVerification } from '../../src/verify/verification.js';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8'));
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const RUN = 'oh-20261201-100000-0123456789abcdef';
const LOAD_START = Date.UTC(2026, 11, 1, 10, 0, 0);
/** 100 traces/s; span i of a trace starts i ms after its root. */
const timeOf = (seq: number) => LOAD_START + seq * 10;
const BATCH = 50;

interface World {
  units: number;
  spansPerTrace: number;
  /** Copies of span `index` of trace `seq` stored at Tempo time `nowMs` (0 from the start of the verification). */
  copies(seq: number, index: number, nowMs: number): number;
  /** The query frontend's max_spans_per_span_set (Tempo's default: 100). */
  spssMax?: number;
  /** What TraceQL metrics count for the window starting `startMs`, holding `stored` spans, at `nowMs`. */
  metrics?(startMs: number, stored: number, nowMs: number): number;
  /** Tempo's /metrics text. */
  metricsText?: string;
  /** TraceQL `trace:id` matches nothing (default: it matches an id written without leading zeros, as 2.8 does). */
  traceIdMatchesNothing?: boolean;
}

const recordedSearch = fixture('tempo-2.8.0-search.json') as {
  traces: { traceID: string; startTimeUnixNano: string; spanSet: unknown; spanSets: unknown[] }[];
  metrics: Record<string, unknown>;
};
/**
 * A recorded search trace without its span sets, and one of its spans (each answer fills in its own);
 * spans without their attributes (a large trace stays small).
 */
const recordedSearchTrace: Record<string, unknown> = { ...recordedSearch.traces[0]! };
delete recordedSearchTrace.spanSet;
delete recordedSearchTrace.spanSets;
const recordedSearchSpan = { ...(recordedSearch.traces[0]!.spanSet as { spans: Record<string, unknown>[] }).spans[0]! };
delete recordedSearchSpan.attributes;
const recordedTrace = fixture('tempo-2.8.0-v2-trace.json') as {
  trace: { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
};
const recordedCount = fixture('tempo-2.8.0-count.json') as {
  series: { samples: { timestampMs: string; value?: number }[] }[];
};
/** A recorded span without its attributes (a large trace stays small). */
const recordedSpan = { ...recordedTrace.trace.resourceSpans[0]!.scopeSpans[0]!.spans[0]! };
delete recordedSpan.attributes;
const ns = (ms: number) => `${ms}000000`;
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

interface Sim {
  url: string;
  /** Virtual time: the verifier's clock sleeps move it on. */
  clock: { now(): number; sleep(ms: number): Promise<void> };
  /** Every request, with the Tempo time it came at. */
  requests: URL[];
  requestTimes: number[];
  close(): Promise<void>;
}

async function startTempo(w: World): Promise<Sim> {
  let now = 0;
  const requests: URL[] = [];
  const requestTimes: number[] = [];
  const K = w.spansPerTrace;
  const tag = runTag(RUN);
  const stored = (seq: number) => {
    const out: { i: number; n: number }[] = [];
    for (let i = 0; i < K; i++) {
      const n = w.copies(seq, i, now);
      if (n > 0) out.push({ i, n });
    }
    return out;
  };
  const answer = (url: URL): [number, unknown] => {
    if (url.pathname === '/api/search') {
      const startMs = Number(url.searchParams.get('start')) * 1000;
      const endMs = Number(url.searchParams.get('end')) * 1000;
      const spss = Number(url.searchParams.get('spss'));
      const limit = Number(url.searchParams.get('limit'));
      const max = w.spssMax ?? 100;
      if (spss > max) return [400, `spans per span set exceeds ${max}. received ${spss}`];
      const ids = [...(url.searchParams.get('q') ?? '').matchAll(/trace:id = "([0-9a-f]+)"/g)].map((m) => m[1]!);
      const selected = (hex: string) =>
        ids.length === 0 || (!w.traceIdMatchesNothing && ids.includes(hex.replace(/^0+/, '')));
      const traces = [];
      const first = Math.max(0, Math.ceil((startMs - K - LOAD_START) / 10));
      const last = Math.min(w.units - 1, Math.floor((endMs - LOAD_START) / 10));
      for (let seq = first; seq <= last && traces.length <= limit; seq++) {
        if (!selected(toHex(traceId(tag, seq)))) continue;
        const copies = stored(seq).flatMap(({ i, n }) => Array.from({ length: n }, () => i));
        if (copies.length === 0) continue;
        const spans = copies.slice(0, spss).map((i) => ({
          ...recordedSearchSpan,
          spanID: toHex(spanId(seq, i)),
          startTimeUnixNano: ns(timeOf(seq) + i),
        }));
        const set = { spans, matched: copies.length };
        traces.push({
          ...recordedSearchTrace,
          traceID: toHex(traceId(tag, seq)),
          startTimeUnixNano: ns(timeOf(seq)),
          spanSet: set,
          spanSets: [set],
        });
      }
      const complete = traces.length <= limit;
      return [
        200,
        {
          traces: traces.slice(0, limit),
          metrics: { ...recordedSearch.metrics, completedJobs: complete ? 3 : 2, totalJobs: 3 },
        },
      ];
    }
    const byId = /^\/api\/v2\/traces\/([0-9a-f]{32})$/.exec(url.pathname);
    if (byId !== null) {
      const seq = decodeTraceId(fromHex(byId[1]!), tag);
      // Trace by id merges copies by span id.
      const spans =
        seq === undefined || seq >= w.units
          ? []
          : stored(seq).map(({ i }) => ({
              ...recordedSpan,
              traceId: b64(fromHex(byId[1]!)),
              spanId: b64(spanId(seq, i)),
              startTimeUnixNano: ns(timeOf(seq) + i),
              endTimeUnixNano: ns(timeOf(seq) + i + 1),
            }));
      if (spans.length === 0) return [200, { trace: {}, metrics: {} }];
      const trace = clone(recordedTrace);
      trace.trace.resourceSpans[0]!.scopeSpans[0]!.spans = spans;
      return [200, trace];
    }
    if (url.pathname === '/api/metrics/query_range') {
      const step = Number(url.searchParams.get('step')!.replace(/s$/, '')) * 1000;
      const start = Number(url.searchParams.get('start')) * 1000;
      const end = Number(url.searchParams.get('end')) * 1000;
      const body = clone(recordedCount);
      // One sample per step from start to end inclusive, as Tempo answers; zero values left out.
      body.series[0]!.samples = [];
      for (let t = start; t <= end; t += step) {
        let spans = 0;
        for (let seq = 0; seq < w.units; seq++)
          for (const { i, n } of stored(seq)) if (timeOf(seq) + i >= t && timeOf(seq) + i < t + step) spans += n;
        const value = t === end ? 0 : (w.metrics?.(t, spans, now) ?? spans);
        body.series[0]!.samples.push(value === 0 ? { timestampMs: String(t) } : { timestampMs: String(t), value });
      }
      return [200, body];
    }
    if (url.pathname === '/metrics') return [200, w.metricsText ?? ''];
    return [404, {}];
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sim');
    requests.push(url);
    requestTimes.push(now);
    const [status, body] = answer(url);
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    clock: {
      now: () => now,
      sleep: (ms) => {
        now += ms;
        return Promise.resolve();
      },
    },
    requests,
    requestTimes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let sims: Sim[] = [];
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
});

async function verify(w: World): Promise<{ v: SignalVerification; sim: Sim }> {
  const sim = await startTempo(w);
  sims.push(sim);
  const ledger = new Ledger({ traces: w.spansPerTrace, metrics: 1, logs: 1 });
  for (let first = 0; first < w.units; first += BATCH) {
    const count = Math.min(BATCH, w.units - first);
    ledger.record('traces', {
      first,
      count,
      outcome: 'acknowledged',
      answer: '200',
      atMs: timeOf(first + count - 1) - LOAD_START + 5,
    });
  }
  const exp: TraceExpectation = {
    ...expectationOf(ledger, 'traces', { runId: RUN, serviceName: 'otel-harness-soak' }, LOAD_START, 10_000),
    spansPerTrace: w.spansPerTrace,
  };
  const backend = tempoBackend({ query: sim.url, metrics: `${sim.url}/metrics` });
  const v = await backend.verify(exp, { progress: () => undefined, clock: sim.clock, requestTimeoutMs: 10_000 });
  return { v, sim };
}

const byIdRequests = (sim: Sim) => sim.requests.filter((u) => u.pathname.startsWith('/api/v2/traces/')).length;

describe('Tempo: spans that arrive after the first search', () => {
  it('finds late spans by searching their windows again, beyond the by-id budget, and looks up nothing by id', async () => {
    // 3,100 traces (more than the 3,000 by-id lookups) lack span 1 at the first search; it lands 3 s later.
    const { v, sim } = await verify({
      units: 3_100,
      spansPerTrace: 2,
      copies: (_seq, index, now) => (index === 1 && now < 3_000 ? 0 : 1),
    });
    expect(v).toMatchObject({ expected: 6_200, found: 6_200, lost: 0, outcome: { status: 'pass' } });
    expect(byIdRequests(sim)).toBe(0);
    expect(v.figures.searchWindowsSearchedAgain).toBeGreaterThan(0);
    expect(v.crossCheck?.agrees).toBe(true);
  });

  it('looks up by id only what searching again still misses, and names the loss exactly', async () => {
    const lost = new Set([17, 1_234, 2_999]);
    const { v, sim } = await verify({
      units: 3_100,
      spansPerTrace: 3,
      copies: (seq, index) => (lost.has(seq) && index === 2 ? 0 : 1),
    });
    expect(v).toMatchObject({ lost: 3, found: 9_300 - 3, outcome: { status: 'fail', expected: 9_300 } });
    expect(v.lostRanges).toEqual([...lost].map((first) => ({ first, count: 1 })));
    expect(byIdRequests(sim)).toBe(3);
    expect(v.crossCheck?.agrees).toBe(true);
  });
  it('searches again only around the spans the first reading showed of an incomplete trace', async () => {
    const late = new Set([400, 1_800]);
    const { v, sim } = await verify({
      units: 3_000,
      spansPerTrace: 3,
      copies: (seq, index, now) => (late.has(seq) && index === 2 && now < 3_000 ? 0 : 1),
    });
    expect(v).toMatchObject({ lost: 0, outcome: { status: 'pass' } });
    const again = sim.requests.filter((u, i) => u.pathname === '/api/search' && sim.requestTimes[i]! > 0);
    expect(again.length).toBeGreaterThan(0);
    for (const u of again) {
      const seconds = Number(u.searchParams.get('end')) - Number(u.searchParams.get('start'));
      expect(seconds).toBeLessThanOrEqual(5);
      expect(u.searchParams.get('q')).toMatch(/&& trace:id = "[1-9a-f][0-9a-f]*" }$/);
    }
  });

  it("searches whole windows again when Tempo's trace:id misses a trace a reading showed", async () => {
    const late = new Set([400, 1_800]);
    const { v, sim } = await verify({
      units: 3_000,
      spansPerTrace: 3,
      traceIdMatchesNothing: true,
      copies: (seq, index, now) => (late.has(seq) && index === 2 && now < 3_000 ? 0 : 1),
    });
    expect(v).toMatchObject({ lost: 0, found: 9_000, outcome: { status: 'pass' } });
    expect(byIdRequests(sim)).toBe(0);
    const again = sim.requests.filter((u, i) => u.pathname === '/api/search' && sim.requestTimes[i]! > 0);
    expect(again.some((u) => !u.searchParams.get('q')!.includes('trace:id'))).toBe(true);
  });
});

describe('Tempo: traces larger than a span set', () => {
  it('asks for as many spans per span set as the query frontend allows, so nothing is cut', async () => {
    const { v, sim } = await verify({ units: 60, spansPerTrace: 120, spssMax: 1_000, copies: () => 1 });
    expect(v).toMatchObject({ found: 7_200, lost: 0, outcome: { status: 'pass' } });
    expect(sim.requests.find((u) => u.pathname === '/api/search')?.searchParams.get('spss')).toBe('240');
    expect(byIdRequests(sim)).toBe(0);
  });

  it('reads every trace cut at the frontend limit by id, however many, and counts its spans right', async () => {
    // Default frontend (100 spans per span set), 101 spans per trace: every trace is cut.
    const victim = 3_040;
    const { v, sim } = await verify({
      units: 3_050,
      spansPerTrace: 101,
      copies: (seq, index) => (seq === victim && index === 100 ? 0 : 1),
    });
    expect(v).toMatchObject({ lost: 1, found: 3_050 * 101 - 1, outcome: { status: 'fail' } });
    expect(v.lostRanges).toEqual([{ first: victim, count: 1 }]);
    expect(v.figures.tracesCutAtSpss).toBe(3_049); // the victim shows all it holds: not cut
    expect(v.figures.searchSpansPerSpanSet).toBe(100);
    expect(byIdRequests(sim)).toBeGreaterThanOrEqual(3_050);
  }, 120_000);

  it("reads the frontend's limit from its refusal", () => {
    expect(spssLimitOf('spans per span set exceeds 100. received 240')).toBe(100);
    expect(spssLimitOf({ error: 'other' })).toBeUndefined();
  });
});

describe('Tempo: the TraceQL metrics count, reconciled window by window', () => {
  it('agrees once windows that lagged at the first reading are read again (the verdict stays pass)', async () => {
    // The first 20 s of spans are not yet countable at the first reading, and are 10 s later.
    const { v } = await verify({
      units: 3_000,
      spansPerTrace: 2,
      copies: () => 1,
      metrics: (t, spans, now) => (now < 10_000 && t < LOAD_START + 20_000 ? 0 : spans),
    });
    expect(v.outcome.status).toBe('pass');
    expect(v.crossCheck).toMatchObject({ value: 6_000, compared: 6_000, agrees: true });
    expect(v.figures.traceqlFirstReading).toBe(6_000 - 2 * 2_000);
  });

  it('fails with the exact count when the count agrees window by window with a planted loss', async () => {
    const { v } = await verify({
      units: 3_000,
      spansPerTrace: 2,
      copies: (seq, index) => (seq % 1_000 === 7 && index === 0 ? 0 : 1),
    });
    expect(v).toMatchObject({ lost: 3, outcome: { status: 'fail', expected: 6_000, actual: 5_997 } });
    expect(v.crossCheck).toMatchObject({ value: 5_997, compared: 5_997, agrees: true });
  });

  it('stays inconclusive when windows still disagree, naming them and by how much', async () => {
    const { v } = await verify({
      units: 3_000,
      spansPerTrace: 2,
      copies: () => 1,
      metrics: (t, spans) => (t === LOAD_START + 10_000 ? spans - 150 : spans),
    });
    expect(v.outcome).toMatchObject({
      status: 'inconclusive',
      reason: expect.stringContaining(
        'says 5850: they disagree in 1 window(s) of 10 s: 10:00:10 metrics 1,850, search 2,000 (-150)',
      ) as unknown,
    });
    expect(v.figures.traceqlWindowsDisagreeing).toBe(1);
  });

  it("lets the search's count stand when Tempo's own counters account for the shortfall exactly", async () => {
    const { v } = await verify({
      units: 3_000,
      spansPerTrace: 2,
      copies: () => 1,
      metrics: (t, spans) => (t === LOAD_START + 20_000 ? spans - 40 : spans),
      metricsText:
        'tempo_metrics_generator_spans_discarded_total{reason="outside_metrics_ingestion_slack",tenant="single-tenant"} 40\n',
    });
    expect(v.outcome.status).toBe('pass');
    expect(v.crossCheck).toMatchObject({ value: 5_960, agrees: false });
    expect(v.crossCheck?.note).toMatch(/exactly the spans Tempo says its metrics path discarded/);
  });

  it('fails with the exact count when local-blocks refused traces over its live-traces limit', async () => {
    // As measured at 3,000 spans/s: Tempo's local-blocks refused whole traces (live_traces_exceeded), so
    // TraceQL metrics miss them; a planted loss must still fail with its exact count.
    const { v } = await verify({
      units: 3_000,
      spansPerTrace: 2,
      copies: (seq, index) => (seq % 1_000 === 7 && index === 1 ? 0 : 1),
      // 300 traces of the window at 10:00:10 refused; 310 in all (the other 10 were not the run's).
      metrics: (t, spans) => (t === LOAD_START + 10_000 ? spans - 2 * 300 : spans),
      metricsText:
        'tempo_metrics_generator_processor_local_blocks_traces_dropped_total{reason="live_traces_exceeded",tenant="single-tenant"} 310\n',
    });
    expect(v).toMatchObject({ lost: 3, outcome: { status: 'fail', expected: 6_000, actual: 5_997 } });
    expect(v.crossCheck).toMatchObject({ value: 5_997 - 600, compared: 5_997, agrees: false });
    expect(v.crossCheck?.note).toMatch(/left out 310 trace\(s\) and 0 span\(s\).*up to 620 spans.*covers it/);
    expect(v.figures.traceqlSpansLeftOut).toBe(600);
  });

  it('reads TraceQL metrics samples per window, and what the metrics path discarded', () => {
    expect([...parseTempoCountSeries(fixture('tempo-2.8.0-count.json')).entries()].filter(([, n]) => n > 0)).toEqual([
      [1796108880000, 498],
    ]);
    expect(
      metricsPathDiscards({
        tempo_metrics_generator_spans_discarded_total: 5,
        'tempo_metrics_generator_spans_discarded_total{reason=outside_metrics_ingestion_slack}': 5,
        tempo_distributor_queue_pushes_failures_total: 2,
        tempo_distributor_spans_received_total: 100,
      }),
    ).toEqual({
      spans: 5,
      traces: 0,
      detail:
        'tempo_metrics_generator_spans_discarded_total{reason=outside_metrics_ingestion_slack} 5, tempo_distributor_queue_pushes_failures_total 2',
    });
  });
});
