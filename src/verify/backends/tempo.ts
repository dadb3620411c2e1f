import { decodeTraceId, fromHex, runTag } from '../../../generators/index.js';
import type { CounterSpec } from '../../observe/backend-counters.js';
import { scrape, sumOf } from '../../observe/prometheus-text.js';
import { missingIsLoss, type TraceExpectation, type VerifyContext } from '../expectation.js';
import { BackendQueryError, getJson } from '../http-json.js';
import type { SignalVerification } from '../verification.js';
import type { BackendEndpoint, SignalBackend } from './backend.js';
import { checkTraces, tally, traceHexOf, type TraceLookup, type TraceSpans } from './trace-evidence.js';

export const TEMPO_COUNTERS: CounterSpec[] = [
  { key: 'tempo_distributor_spans_received_total', name: /^tempo_distributor_spans_received_total$/ },
  { key: 'tempo_discarded_spans_total', name: /^tempo_discarded_spans_total$/, by: 'reason' },
  { key: 'tempo_receiver_refused_spans', name: /^tempo_receiver_refused_spans(_total)?$/ },
  {
    key: 'tempo_metrics_generator_spans_discarded_total',
    name: /^tempo_metrics_generator_spans_discarded_total$/,
    by: 'reason',
  },
  { key: 'tempo_distributor_queue_pushes_failures_total', name: /^tempo_distributor_queue_pushes_failures_total$/ },
  {
    key: 'tempo_metrics_generator_processor_local_blocks_spans_dropped_total',
    name: /^tempo_metrics_generator_processor_local_blocks_spans_dropped_total$/,
    by: 'reason',
  },
];

const TEMPO_DUPLICATES =
  'Tempo shows a second copy only when both reached the same ingester cut (about 10 s apart at most); copies in different cuts are merged by span id, so this is a lower bound';

/** Spans per span set Tempo returns at most by default (`max_spans_per_span_set`). */
const MAX_SPSS = 100;
/** Traces per search answer asked for; a window holding more is halved (a job answer must stay < 16 MB). */
const SEARCH_LIMIT = 12_000;
const FIRST_WINDOW_S = 30;
const MAX_WINDOW_S = 60;
/** Traces looked up by id (anomalies: absent from a complete search, or incomplete in it) before trusting search. */
const BY_ID_BUDGET = 3_000;

/** TraceQL metrics query counting a run's spans. */
export function tempoSpanCountQuery(runId: string): string {
  return `{ resource.service.instance.id = "${runId}" } | count_over_time()`;
}

/** Sum of every sample of a TraceQL metrics range response. */
export function parseTempoCount(body: unknown): number {
  const series = (body as { series?: { samples?: { value?: number | string }[] }[] }).series ?? [];
  let sum = 0;
  for (const s of series)
    for (const sample of s.samples ?? []) if (sample.value !== undefined) sum += Number(sample.value);
  return sum;
}

function base64ToHex(b64: string): string {
  return Buffer.from(b64, 'base64').toString('hex');
}

type Spans = {
  scopeSpans?: { spans?: { spanId: string; traceId?: string }[] }[];
  instrumentationLibrarySpans?: { spans?: { spanId: string; traceId?: string }[] }[];
}[];

/** Span ids (hex) in Tempo's trace-by-id JSON (`batches` in 2.x v1, `trace.resourceSpans` in v2). */
export function parseTempoTrace(body: unknown): string[] {
  const b = body as { batches?: Spans; resourceSpans?: Spans; trace?: { resourceSpans?: Spans; batches?: Spans } };
  const resourceSpans = b.batches ?? b.resourceSpans ?? b.trace?.resourceSpans ?? b.trace?.batches ?? [];
  return resourceSpans.flatMap((rs) =>
    (rs.scopeSpans ?? rs.instrumentationLibrarySpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => (/^[0-9a-f]{16}$/.test(s.spanId) ? s.spanId : base64ToHex(s.spanId))),
    ),
  );
}

/** One trace of a search answer: its id and the span ids of its span sets. */
export interface SearchTrace {
  traceHex: string;
  spanHexes: string[];
  /** Spans the query matched before `spss` truncation (the largest fragment's). */
  matched: number;
}

/** A `/api/search` answer: traces and whether every job completed. */
export function parseTempoSearch(body: unknown): { traces: SearchTrace[]; completedJobs: number; totalJobs: number } {
  type SpanSet = { spans?: { spanID: string }[]; matched?: number };
  const b = body as {
    traces?: { traceID: string; spanSet?: SpanSet; spanSets?: SpanSet[] }[];
    metrics?: { completedJobs?: number; totalJobs?: number };
  };
  const traces = (b.traces ?? []).map((t) => {
    const sets = t.spanSets ?? (t.spanSet === undefined ? [] : [t.spanSet]);
    return {
      traceHex: t.traceID.padStart(32, '0'),
      spanHexes: sets.flatMap((s) => (s.spans ?? []).map((sp) => sp.spanID.padStart(16, '0'))),
      matched: Math.max(0, ...sets.map((s) => s.matched ?? 0)),
    };
  });
  return { traces, completedJobs: b.metrics?.completedJobs ?? 0, totalJobs: b.metrics?.totalJobs ?? 0 };
}

/**
 * Tempo: every acknowledged trace enumerated from TraceQL search, window by window over the times the ledger
 * says the traces were sent (a window counts only when every search job completed below the result limit;
 * otherwise it is halved), span ids compared with what was sent. Traces a search shows absent or
 * incomplete are looked up by id (which merges fragments) before they count as lost. The TraceQL metrics
 * span count — an independent reading through the metrics-generator — cross-checks the total: when the two
 * disagree the verdict is inconclusive, with both figures.
 */
export function tempoBackend(endpoint: BackendEndpoint): SignalBackend<TraceExpectation> {
  const headers = endpoint.headers ?? {};
  const get = async (path: string, params: Record<string, string>, what: string, timeoutMs = 120_000) => {
    const qs = new URLSearchParams(params).toString();
    const { status, body } = await getJson(`${endpoint.query}${path}${qs === '' ? '' : `?${qs}`}`, headers, timeoutMs);
    return { status, body, what };
  };

  const byId = async (tag: Uint8Array, seq: number, spansPerTrace: number, into: Map<number, TraceSpans>) => {
    const hex = traceHexOf(tag, seq);
    const { status, body } = await get(`/api/v2/traces/${hex}`, {}, `trace ${hex}`, 30_000);
    if (status === 404) return;
    if (status !== 200) throw new BackendQueryError('tempo', `trace ${hex}`, status, body);
    for (const span of parseTempoTrace(body)) tally(into, seq, span, spansPerTrace);
  };

  const count = async (runId: string, startMs: number, endMs: number): Promise<number> => {
    const hour = 3_600_000;
    let sum = 0;
    for (let from = Math.floor(startMs / 60_000) * 60_000; from < endMs; from += hour) {
      const to = Math.min(from + hour, Math.ceil(endMs / 60_000) * 60_000);
      const params = {
        q: tempoSpanCountQuery(runId),
        start: String(from / 1000),
        end: String(to / 1000),
        step: '60s',
      };
      const { status, body } = await get('/api/metrics/query_range', params, 'count');
      if (status !== 200) throw new BackendQueryError('tempo', params.q, status, body);
      sum += parseTempoCount(body);
    }
    return sum;
  };

  return {
    signal: 'traces',
    name: 'tempo',
    endpoint,
    counters: TEMPO_COUNTERS,
    received: { name: /^tempo_distributor_spans_received_total$/, describe: "spans received by Tempo's distributor" },
    receivedBytes: {
      name: /^tempo_distributor_bytes_received_total$/,
      describe: "uncompressed bytes received by Tempo's distributor",
    },
    duplicatesInvisible: undefined,
    async count(runId, _serviceName, sinceMs) {
      try {
        return await count(runId, sinceMs - 120_000, Date.now() + 60_000);
      } catch (err) {
        // Without local-blocks TraceQL metrics cannot count: the distributor's received spans still grow.
        if (endpoint.metrics === undefined) throw err;
        return sumOf(await scrape(endpoint.metrics), /^tempo_distributor_spans_received_total$/);
      }
    },
    canary: {
      async queryable(canaryRunId, _serviceName, n) {
        const found = new Map<number, TraceSpans>();
        await byId(runTag(canaryRunId), n, 1, found);
        return found.size > 0;
      },
    },
    async verify(exp, context) {
      const enumerator = new SearchEnumerator(exp, context, get);
      const tag = runTag(exp.runId);
      let byIdLeft = BY_ID_BUDGET;
      let notRechecked = 0;
      const isLoss = missingIsLoss(exp);
      const lookup: TraceLookup = async (seqs) => {
        const found = await enumerator.traces(seqs);
        // Re-checked by id: traces the search found incomplete or not at all, where that would be loss.
        const incomplete = seqs.filter((seq) => {
          const t = found.get(seq);
          return (t === undefined || t.counts.some((n) => n === 0)) && isLoss(seq, t !== undefined);
        });
        const check = incomplete.slice(0, Math.max(0, byIdLeft));
        byIdLeft -= check.length;
        notRechecked += incomplete.length - check.length;
        const confirmed = new Map<number, TraceSpans>();
        await mapLimit(check, 4, (seq) => byId(tag, seq, exp.spansPerTrace, confirmed));
        for (const seq of check) {
          const c = confirmed.get(seq);
          if (c === undefined) continue;
          const t = found.get(seq);
          if (t === undefined) found.set(seq, c);
          else for (let i = 0; i < t.counts.length; i++) t.counts[i] = Math.max(t.counts[i]!, c.counts[i]!);
        }
        enumerator.forget(seqs);
        return seqs.flatMap((seq) => {
          const t = found.get(seq);
          return t === undefined ? [] : [t];
        });
      };
      const spss = Math.min(MAX_SPSS, exp.spansPerTrace * 2);
      const v = await checkTraces(exp, lookup, context, {
        chunk: 2_000,
        concurrency: 1,
        rechecks: 2,
        pauseMs: 5_000,
        method: `TraceQL search of the run (spss ${spss}), windowed by send time, anomalies re-checked by id`,
        backend: 'tempo',
        duplicates: { visible: true, note: TEMPO_DUPLICATES },
      });
      v.figures.searchWindows = enumerator.windows;
      v.figures.tracesLookedUpById = BY_ID_BUDGET - byIdLeft;
      if (notRechecked > 0) {
        v.notes.push(
          `${notRechecked} trace lookup(s) beyond the by-id budget (${BY_ID_BUDGET}) were decided by the complete search alone`,
        );
      }
      return crossCheck(v, exp, count);
    },
  };
}

/** Compares the search's span total with the TraceQL metrics count; disagreement → inconclusive. */
async function crossCheck(
  v: SignalVerification,
  exp: TraceExpectation,
  count: (runId: string, startMs: number, endMs: number) => Promise<number>,
): Promise<SignalVerification> {
  const window = exp.sentBetween(0, Number.MAX_SAFE_INTEGER);
  if (window === undefined || v.sample !== undefined) return v;
  const compared =
    v.found + v.unacknowledgedFound + (v.duplicates.queryVisible ?? 0) + (v.sampling?.keptUnpredictedSpans ?? 0);
  const method = 'TraceQL metrics count_over_time of the run (through the metrics-generator)';
  let value: number;
  try {
    value = await count(exp.runId, window.fromMs - 120_000, window.toMs + 120_000);
  } catch (err) {
    return {
      ...v,
      crossCheck: { method, value: null, compared, agrees: null, note: `not available: ${(err as Error).message}` },
    };
  }
  const agrees = value === compared;
  const out: SignalVerification = {
    ...v,
    figures: { ...v.figures, traceqlSpanCount: value },
    crossCheck: {
      method,
      value,
      compared,
      agrees,
      note: agrees
        ? 'agrees with the spans search found'
        : "TraceQL metrics count only what reached Tempo's metrics-generator (its ingestion slack, queue and live-trace limit apply; duplicates count twice)",
    },
  };
  if (agrees || v.outcome.status === 'inconclusive') return out;
  return {
    ...out,
    outcome: {
      status: 'inconclusive',
      reason: `the search found ${compared} spans of the run (${v.found} acknowledged, ${v.lost} absent), the TraceQL metrics count says ${value}: the two methods disagree`,
    },
  };
}

type Get = (
  path: string,
  params: Record<string, string>,
  what: string,
  timeoutMs?: number,
) => Promise<{ status: number; body: unknown }>;

/**
 * Walks search windows forward in time as the verifier asks for chunks of traces, keeping only the traces
 * not yet asked for (memory: the overlap between windows and chunks, not the run).
 */
class SearchEnumerator {
  private readonly cache = new Map<number, TraceSpans>();
  private readonly tag: Uint8Array;
  private coveredFrom: number | undefined;
  private coveredUntil: number | undefined;
  private windowS = FIRST_WINDOW_S;
  windows = 0;

  constructor(
    private readonly exp: TraceExpectation,
    private readonly context: VerifyContext,
    private readonly get: Get,
  ) {
    this.tag = runTag(exp.runId);
  }

  /** The search's tally of `seqs` (absent: not found by search), enumerating windows as needed. */
  async traces(seqs: readonly number[]): Promise<Map<number, TraceSpans>> {
    if (seqs.length === 0) return new Map();
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of seqs) {
      lo = Math.min(lo, s);
      hi = Math.max(hi, s);
    }
    const sent = this.exp.sentBetween(lo, hi + 1);
    if (sent !== undefined) {
      // Spans start up to a (slow, 1.5 s) trace's duration before they are built, and end when built.
      const from = Math.floor((sent.fromMs - 5_000) / 1000);
      const to = Math.ceil((sent.toMs + 2_000) / 1000);
      await this.cover(from, to);
    }
    const out = new Map<number, TraceSpans>();
    for (const seq of seqs) {
      const t = this.cache.get(seq);
      if (t !== undefined) out.set(seq, { ...t, counts: t.counts.slice() });
    }
    return out;
  }

  forget(seqs: readonly number[]): void {
    for (const s of seqs) this.cache.delete(s);
  }

  private async cover(from: number, to: number): Promise<void> {
    if (this.coveredFrom === undefined || this.coveredUntil === undefined) {
      await this.enumerate(from, to);
      this.coveredFrom = from;
      this.coveredUntil = to;
      return;
    }
    if (from < this.coveredFrom) {
      await this.enumerate(from, this.coveredFrom);
      this.coveredFrom = from;
    }
    if (to > this.coveredUntil) {
      await this.enumerate(this.coveredUntil, to);
      this.coveredUntil = to;
    }
  }

  /** Searches [from, to] (unix s) window by window; adjacent windows share their boundary second. */
  private async enumerate(from: number, to: number): Promise<void> {
    let start = from;
    while (start < to) {
      const end = Math.min(to, start + this.windowS);
      const params = {
        q: `{ resource.service.instance.id = "${this.exp.runId}" }`,
        start: String(start),
        end: String(end),
        limit: String(SEARCH_LIMIT),
        spss: String(Math.min(MAX_SPSS, this.exp.spansPerTrace * 2)),
      };
      const { status, body } = await this.get('/api/search', params, 'search');
      const tooBig = status === 413 || status === 422;
      if (status !== 200 && !tooBig)
        throw new BackendQueryError('tempo', `search ${params.q} [${start}, ${end}]`, status, body);
      const answer = status === 200 ? parseTempoSearch(body) : undefined;
      const complete =
        answer !== undefined && answer.traces.length < SEARCH_LIMIT && answer.completedJobs >= answer.totalJobs;
      if (!complete) {
        if (end - start <= 1) {
          throw new Error(
            `Tempo search of [${start}, ${end}] did not complete (${answer === undefined ? `HTTP ${status}` : `${answer.completedJobs}/${answer.totalJobs} jobs, ${answer.traces.length} traces`}) even for a one-second window`,
          );
        }
        this.windowS = Math.max(1, Math.floor((end - start) / 2));
        continue;
      }
      this.windows++;
      for (const t of answer.traces) {
        const seq = decodeTraceId(fromHex(t.traceHex), this.tag);
        if (seq === undefined) continue;
        const fresh = new Map<number, TraceSpans>();
        for (const span of t.spanHexes) tally(fresh, seq, span, this.exp.spansPerTrace);
        const truncated = t.matched > t.spanHexes.length;
        for (const [s, tally1] of fresh) {
          const known = this.cache.get(s);
          if (truncated) tally1.counts.fill(0); // span set cut at spss: let the by-id lookup decide
          if (known === undefined) this.cache.set(s, tally1);
          else {
            for (let i = 0; i < known.counts.length; i++)
              known.counts[i] = Math.max(known.counts[i]!, tally1.counts[i]!);
            known.misfiled = Math.max(known.misfiled, tally1.misfiled);
            known.foreign = Math.max(known.foreign, tally1.foreign);
          }
        }
      }
      // Size the next window for about half the limit.
      const perSecond = answer.traces.length / Math.max(1, end - start);
      this.windowS = Math.max(1, Math.min(MAX_WINDOW_S, Math.floor(SEARCH_LIMIT / 2 / Math.max(1, perSecond))));
      this.context.progress(`traces: searched tempo [${start}, ${end}]: ${answer.traces.length} traces`);
      start = end;
    }
  }
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
