/**
 * Answers the four backends' query APIs from a model of what is stored, for unit-testing the verifiers'
 * logic (never for e2e). Every answer is built from a response recorded from the real backend
 * (test/unit/fixtures), with only ids, counts and times substituted, so the verifiers parse the shapes the
 * real backends send.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  decodeTraceId,
  fromHex,
  logLine,
  runTag,
  spanId,
  toHex,
  traceId,
  type MetricShape,
  type MetricTimeline,
  tickTimeMs,
} from '../../../generators/index.js';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', name), 'utf8'));
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** What a backend holds of a run: copies per item (0 = absent), and when each unit was stamped. */
export interface World {
  runId: string;
  /** Units that exist in the backend's time range (sent, acknowledged or not). */
  units: number;
  /** Copies stored of item `index` (span index; 0 for logs and metrics) of unit `seq`. */
  copies(seq: number, index: number): number;
  /** Unix ms at which unit `seq` was stamped. */
  timeOf(seq: number): number;
  spansPerTrace: number;
  /** Tempo: what its TraceQL metrics count says (default: the stored spans, copies included). */
  tempoCount?: () => number;
  /** Loki: whether lines carry the block structured metadata (default true). */
  lokiMetadata?: boolean;
  metricShape?: MetricShape;
  metricTimeline?: MetricTimeline;
}

export interface Sim {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

/** Starts an HTTP server on 127.0.0.1:0 answering `backend`'s API from `world`. */
export async function startSim(backend: keyof typeof ANSWERS, world: World): Promise<Sim> {
  const requests: string[] = [];
  const answer = ANSWERS[backend];
  const server: Server = createServer({ maxHeaderSize: 1 << 20 }, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://sim');
    requests.push(url.pathname + url.search);
    const [status, body] = answer(url, world);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

type Answer = (url: URL, world: World) => [number, unknown];

// ── Jaeger: /api/traces?traceID=…&raw=true (jaeger-2.13.0-traces-by-ids.json) ─────────────────────────
const jaegerRecorded = fixture('jaeger-2.13.0-traces-by-ids.json') as {
  data: { traceID: string; spans: { traceID: string; spanID: string }[] }[];
};

const jaeger: Answer = (url, world) => {
  if (url.pathname !== '/api/traces') return [404, { error: 'not found' }];
  const tag = runTag(world.runId);
  const data: unknown[] = [];
  const errors: unknown[] = [];
  for (const id of url.searchParams.getAll('traceID')) {
    const seq = decodeTraceId(fromHex(id), tag);
    const shown = id.startsWith('0'.repeat(16)) ? id.slice(16) : id; // Jaeger drops a zero high half
    const spans = [];
    for (let i = 0; seq !== undefined && seq < world.units && i < world.spansPerTrace; i++) {
      // Jaeger's span store keys a span by trace id, start time and span id: one row whatever the copies.
      if (world.copies(seq, i) === 0) continue;
      const span = clone(jaegerRecorded.data[0]!.spans[0]!);
      span.traceID = shown;
      span.spanID = toHex(spanId(seq, i));
      spans.push(span);
    }
    if (spans.length === 0) errors.push({ msg: 'trace not found', traceID: id });
    else data.push({ ...clone(jaegerRecorded.data[0]!), traceID: shown, spans });
  }
  return [200, { data, total: 0, limit: 0, offset: 0, errors: errors.length > 0 ? errors : null }];
};

// ── Tempo: /api/search, /api/v2/traces/<id>, /api/metrics/query_range ─────────────────────────────────
const tempoSearch = fixture('tempo-2.8.0-search.json') as {
  traces: { traceID: string; spanSet: { spans: unknown[]; matched: number }; spanSets: unknown[] }[];
};
const tempoTrace = fixture('tempo-2.8.0-v2-trace.json') as {
  trace: { resourceSpans: { scopeSpans: { spans: { spanId: string; traceId: string }[] }[] }[] };
};
const tempoCount = fixture('tempo-2.8.0-count.json') as {
  series: { samples: { timestampMs: string; value?: number }[] }[];
};

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

const tempo: Answer = (url, world) => {
  const tag = runTag(world.runId);
  if (url.pathname === '/api/search') {
    const start = Number(url.searchParams.get('start')) * 1000;
    const end = Number(url.searchParams.get('end')) * 1000;
    const spss = Number(url.searchParams.get('spss'));
    const limit = Number(url.searchParams.get('limit'));
    const traces = [];
    for (let seq = 0; seq < world.units; seq++) {
      const t = world.timeOf(seq);
      if (t < start || t > end) continue;
      const spans = [];
      for (let i = 0; i < world.spansPerTrace; i++) {
        for (let c = 0; c < world.copies(seq, i); c++) spans.push({ spanID: toHex(spanId(seq, i)) });
      }
      if (spans.length === 0) continue;
      const set = { spans: spans.slice(0, spss), matched: spans.length };
      traces.push({
        ...clone(tempoSearch.traces[0]!),
        traceID: toHex(traceId(tag, seq)),
        spanSet: set,
        spanSets: [set],
      });
    }
    const complete = traces.length <= limit;
    return [200, { traces: traces.slice(0, limit), metrics: { completedJobs: complete ? 3 : 2, totalJobs: 3 } }];
  }
  const byId = /^\/api\/v2\/traces\/([0-9a-f]{32})$/.exec(url.pathname);
  if (byId !== null) {
    const seq = decodeTraceId(fromHex(byId[1]!), tag);
    const spans = [];
    for (let i = 0; seq !== undefined && seq < world.units && i < world.spansPerTrace; i++) {
      if (world.copies(seq, i) === 0) continue; // trace by id merges copies by span id
      spans.push({
        ...clone(tempoTrace.trace.resourceSpans[0]!.scopeSpans[0]!.spans[0]!),
        traceId: b64(fromHex(byId[1]!)),
        spanId: b64(spanId(seq, i)),
      });
    }
    if (spans.length === 0) return [200, { trace: {}, metrics: {} }];
    const trace = clone(tempoTrace);
    trace.trace.resourceSpans[0]!.scopeSpans[0]!.spans = spans;
    return [200, trace];
  }
  if (url.pathname === '/api/metrics/query_range') {
    let stored = 0;
    for (let seq = 0; seq < world.units; seq++)
      for (let i = 0; i < world.spansPerTrace; i++) stored += world.copies(seq, i);
    const body = clone(tempoCount);
    const samples = body.series[0]!.samples;
    for (const s of samples) delete s.value;
    samples[0]!.value = world.tempoCount?.() ?? stored;
    return [200, body];
  }
  return [404, {}];
};

// ── Loki: /loki/api/v1/query (counts), /query_range (lines), /series ──────────────────────────────────
const lokiVector = fixture('loki-count-by-block.json') as {
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
};
const lokiLines = fixture('loki-lines.json') as {
  data: { result: { stream: Record<string, string>; values: [string, string][] }[] };
};

function lokiStored(world: World, lo: number, hi: number, fromMs: number, toMs: number): number[] {
  const out: number[] = [];
  for (let seq = Math.max(0, lo); seq < Math.min(world.units, hi); seq++) {
    const t = world.timeOf(seq);
    if (t > fromMs && t <= toMs && world.copies(seq, 0) > 0) out.push(seq);
  }
  return out;
}

const loki: Answer = (url, world) => {
  const query = url.searchParams.get('query') ?? '';
  if (!query.includes(`service_instance_id="${world.runId}"`) && url.pathname !== '/loki/api/v1/series')
    return [200, { status: 'success', data: { resultType: 'vector', result: [] } }];
  if (url.pathname === '/loki/api/v1/query') {
    const time = Number(url.searchParams.get('time')) * 1000;
    const range = Number(/\[(\d+)s\]/.exec(query)?.[1] ?? '0') * 1000;
    const B = 1000;
    const byBlock = /otel_harness_seq_block >= (\d+) and otel_harness_seq_block < (\d+)/.exec(query);
    const body = clone(lokiVector);
    if (byBlock !== null) {
      if (world.lokiMetadata === false) {
        body.data.result = [];
        return [200, body];
      }
      const counts = new Map<number, number>();
      for (const seq of lokiStored(world, Number(byBlock[1]) * B, Number(byBlock[2]) * B, time - range, time)) {
        counts.set(Math.floor(seq / B), (counts.get(Math.floor(seq / B)) ?? 0) + 1);
      }
      body.data.result = [...counts].map(([block, n]) => ({
        metric: { otel_harness_seq_block: String(block) },
        value: [time / 1000, String(n)],
      }));
      return [200, body];
    }
    const n = lokiStored(world, 0, world.units, time - range, time).length;
    body.data.result = n === 0 ? [] : [{ metric: {}, value: [time / 1000, String(n)] }];
    return [200, body];
  }
  if (url.pathname === '/loki/api/v1/query_range') {
    const block = Number(/otel_harness_seq_block="(\d+)"/.exec(query)?.[1]);
    const start = Number(url.searchParams.get('start')) / 1e6;
    const end = Number(url.searchParams.get('end')) / 1e6;
    const body = clone(lokiLines);
    const values: [string, string][] = lokiStored(world, block * 1000, (block + 1) * 1000, start, end).map((seq) => [
      `${world.timeOf(seq)}000000`,
      logLine(world.runId, seq, 80),
    ]);
    body.data.result = [{ ...body.data.result[0]!, values }];
    return [200, body];
  }
  if (url.pathname === '/loki/api/v1/series') return [200, { status: 'success', data: [] }];
  return [404, {}];
};

// ── Prometheus: /api/v1/query (count_over_time per series, raw samples) ─────────────────────────────
const promVector = fixture('prometheus-count-by-series.json') as {
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
};
const promMatrix = fixture('prometheus-range-vector.json') as {
  data: { result: { metric: Record<string, string>; values: [number, string][] }[] };
};

const prometheus: Answer = (url, world) => {
  const query = url.searchParams.get('query') ?? '';
  const shape = world.metricShape!;
  const timeline = world.metricTimeline!;
  const time = Math.round(Number(url.searchParams.get('time')) * 1000);
  const range = Number(/\[(\d+)ms\]/.exec(query)?.[1] ?? '0');
  const only = /series=~"([0-9|]+)"/.exec(query)?.[1]?.split('|').map(Number);
  if (!query.includes(`run_id="${world.runId}"`))
    return [200, { status: 'success', data: { resultType: 'vector', result: [] } }];
  const samples = new Map<number, number[]>();
  for (let seq = 0; seq < world.units; seq++) {
    const series = seq % shape.series;
    const t = tickTimeMs(Math.floor(seq / shape.series), shape, timeline);
    if (t <= time - range || t > time || world.copies(seq, 0) === 0) continue;
    if (only !== undefined && !only.includes(series)) continue;
    const list = samples.get(series) ?? [];
    list.push(t); // one sample per series and timestamp, whatever the copies
    samples.set(series, list);
  }
  if (query.startsWith('count_over_time(')) {
    const body = clone(promVector);
    body.data.result = [...samples].map(([series, ts]) => ({
      metric: { ...body.data.result[0]!.metric, series: String(series), run_id: world.runId },
      value: [time / 1000, String(ts.length)],
    }));
    return [200, body];
  }
  const body = clone(promMatrix);
  body.data.result = [...samples].map(([series, ts]) => ({
    metric: { ...body.data.result[0]!.metric, series: String(series), run_id: world.runId },
    values: ts.map((t) => [t / 1000, '1'] as [number, string]),
  }));
  return [200, body];
};

// Mimir answers the Prometheus HTTP API under /prometheus (its default prometheus_http_prefix).
const mimir: Answer = (url, world) =>
  url.pathname.startsWith('/prometheus/api/v1/')
    ? prometheus(new URL(url.href.replace('/prometheus/api/', '/api/')), world)
    : [404, { status: 'error', error: 'not found' }];

const ANSWERS = { jaeger, tempo, loki, prometheus, mimir } as const;
