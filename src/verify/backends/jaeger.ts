import { decodeTraceId, fromHex, runTag } from '../../../generators/index.js';
import type { CounterSpec } from '../../observe/backend-counters.js';
import { scrape, sumOf } from '../../observe/prometheus-text.js';
import type { TraceExpectation } from '../expectation.js';
import { BackendQueryError, getJson } from '../http-json.js';
import type { BackendEndpoint, SignalBackend } from './backend.js';
import { checkTraces, tally, traceHexOf, type TraceLookup, type TraceSpans } from './trace-evidence.js';

/** Trace ids per `/api/traces?traceID=…` request (Go's net/url takes at most 10,000 query parameters). */
export const JAEGER_IDS_PER_REQUEST = 1_000;

export const JAEGER_COUNTERS: CounterSpec[] = [
  { key: 'otelcol_receiver_accepted_spans', name: /^otelcol_receiver_accepted_spans(_total)?$/ },
  { key: 'otelcol_receiver_refused_spans', name: /^otelcol_receiver_refused_spans(_total)?$/ },
  { key: 'otelcol_exporter_send_failed_spans', name: /^otelcol_exporter_send_failed_spans(_total)?$/ },
  { key: 'otelcol_exporter_sent_spans', name: /^otelcol_exporter_sent_spans(_total)?$/ },
];

const JAEGER_DUPLICATES =
  'Jaeger stores a span under its trace id, start time and span id, so a second copy overwrites the first';

interface JaegerTraces {
  data?: { traceID: string; spans?: { traceID?: string; spanID: string }[] }[] | null;
  errors?: { msg?: string; traceID?: string }[] | null;
}

/** Span ids (16 hex) per trace id (32 hex) of a `/api/traces` answer (ids normalised: Jaeger drops leading zeros). */
export function parseJaegerTraces(body: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const t of (body as JaegerTraces).data ?? []) {
    for (const s of t.spans ?? []) {
      const trace = (s.traceID ?? t.traceID).padStart(32, '0');
      const list = out.get(trace) ?? [];
      list.push(s.spanID.padStart(16, '0'));
      out.set(trace, list);
    }
  }
  return out;
}

/** Span ids in Jaeger's `/api/traces/<id>` JSON (`{data: [{spans: [{spanID}]}]}`). */
export function parseJaegerTrace(body: unknown): string[] {
  return [...parseJaegerTraces(body).values()].flat();
}

/**
 * Jaeger (v2, any span store behind its query API): every acknowledged trace looked up by id, many ids per
 * request (`/api/traces?traceID=a&traceID=b…&raw=true`, adjusters off), spans counted per trace. Its span
 * store keys a span by trace id, start time and span id, so an identical span stored twice is one row:
 * duplicates are counted from its receiver's accepted spans instead.
 */
export function jaegerBackend(endpoint: BackendEndpoint): SignalBackend<TraceExpectation> {
  const headers = endpoint.headers ?? {};
  const lookupOf = (runId: string, spansPerTrace: number): TraceLookup =>
    async function lookup(seqs): Promise<TraceSpans[]> {
      const tag = runTag(runId);
      const params = seqs.map((seq) => `traceID=${traceHexOf(tag, seq)}`).join('&');
      const { status, body } = await getJson(`${endpoint.query}/api/traces?raw=true&${params}`, headers, 120_000);
      // A gateway in front of Jaeger takes shorter URLs (nginx: 8 KB, Node: 16 KB; 1,000 ids make 33 KB):
      // the ids are asked in halves until it answers.
      if ((status === 414 || status === 431) && seqs.length > 1) {
        const half = Math.ceil(seqs.length / 2);
        return [...(await lookup(seqs.slice(0, half))), ...(await lookup(seqs.slice(half)))];
      }
      if (status !== 200)
        throw new BackendQueryError('jaeger', `/api/traces with ${seqs.length} trace ids`, status, body);
      const bySeq = new Map<number, TraceSpans>();
      for (const [traceHex, spans] of parseJaegerTraces(body)) {
        const seq = decodeTraceId(fromHex(traceHex), tag);
        if (seq === undefined) continue;
        for (const span of spans) tally(bySeq, seq, span, spansPerTrace);
      }
      return [...bySeq.values()];
    };
  return {
    signal: 'traces',
    name: 'jaeger',
    endpoint,
    counters: JAEGER_COUNTERS,
    received: {
      name: /^otelcol_receiver_accepted_spans(_total)?$/,
      describe: "spans accepted by Jaeger's OTLP receiver",
    },
    receivedNotStored: [
      {
        name: /^otelcol_exporter_(send|enqueue)_failed_spans(_total)?$/,
        describe: 'spans its storage exporter failed to write',
      },
    ],
    duplicatesInvisible: JAEGER_DUPLICATES,
    // Its count is its storage exporter's sent counter, behind its own batch processor (200 ms by default).
    countLagMs: 10_000,
    async count() {
      // Jaeger has no count API: the spans its storage exporter wrote (every trace, not only this run's).
      if (endpoint.metrics === undefined) throw new Error('no Jaeger metrics endpoint to count stored spans');
      return sumOf(await scrape(endpoint.metrics), /^otelcol_exporter_sent_spans(_total)?$/);
    },
    canary: {
      async queryable(canaryRunId, _serviceName, n) {
        const spans = await lookupOf(canaryRunId, 1)([n]);
        return spans.length > 0;
      },
    },
    verify: (exp, context) =>
      checkTraces(exp, lookupOf(exp.runId, exp.spansPerTrace), context, {
        chunk: JAEGER_IDS_PER_REQUEST,
        concurrency: 2,
        rechecks: 2,
        pauseMs: 3_000,
        method: `trace by id (Jaeger /api/traces, up to ${JAEGER_IDS_PER_REQUEST} ids per request, raw)`,
        backend: 'jaeger',
        duplicates: { visible: false, note: JAEGER_DUPLICATES },
      }),
  };
}
