import { runTag } from '../../../generators/index.js';
import { readCounters, type CounterSpec } from '../../observe/backend-counters.js';
import { scrape, sumOf } from '../../observe/prometheus-text.js';
import { missingIsLoss, type TraceExpectation } from '../expectation.js';
import { BackendQueryError, getJson } from '../http-json.js';
import type { BackendEndpoint, SignalBackend } from './backend.js';
import { addSpans, SpanTimeTally, tempoCountByStep } from './tempo-count.js';
import { tempoCrossCheck } from './tempo-cross-check.js';
import { isComplete, mergeInto, parseTempoTraceSpans, see, type SeenTrace } from './tempo-reading.js';
import { TempoSearch } from './tempo-search.js';
import { checkTraces, traceHexOf, type TraceLookup } from './trace-evidence.js';

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
    key: 'tempo_distributor_metrics_generator_pushes_failures_total',
    name: /^tempo_distributor_metrics_generator_pushes_failures_total$/,
  },
  {
    key: 'tempo_metrics_generator_processor_local_blocks_spans_dropped_total',
    name: /^tempo_metrics_generator_processor_local_blocks_spans_dropped_total$/,
    by: 'reason',
  },
  {
    key: 'tempo_metrics_generator_processor_local_blocks_traces_dropped_total',
    name: /^tempo_metrics_generator_processor_local_blocks_traces_dropped_total$/,
    by: 'reason',
  },
];

const TEMPO_DUPLICATES =
  'Tempo shows a second copy only when both reached the same ingester cut (about 10 s apart at most); copies in different cuts are merged by span id, so this is a lower bound';

/**
 * Traces looked up by id because search could not settle them (absent from, or incomplete in, every
 * reading of a complete search), before the search alone decides. Traces whose span set search cut at
 * `spss` are not counted here: each of them is read by id.
 */
const BY_ID_BUDGET = 3_000;
const BY_ID_CONCURRENCY = 4;
/** Readings of an incomplete trace's window after the first, `RECHECK_PAUSE_MS` apart. */
const RECHECKS = 2;

const METRICS_PATH =
  /^tempo_(metrics_generator_|distributor_queue_pushes_failures_total|distributor_metrics_generator_pushes_failures_total)/;

/**
 * What Tempo's /metrics say its metrics-generator path left out since Tempo started: spans (counted as
 * spans), traces (local-blocks counts a trace it refuses, e.g. over its live-traces limit, whatever its
 * spans), and every non-zero counter of that path.
 */
export function metricsPathDiscards(counters: Record<string, number>): {
  spans: number;
  traces: number;
  detail: string;
} {
  const spans =
    (counters['tempo_metrics_generator_spans_discarded_total'] ?? 0) +
    (counters['tempo_metrics_generator_processor_local_blocks_spans_dropped_total'] ?? 0);
  const traces = counters['tempo_metrics_generator_processor_local_blocks_traces_dropped_total'] ?? 0;
  // Grouped counters by reason (their total is the sum), the others as they are.
  const grouped = new Set(TEMPO_COUNTERS.filter((c) => c.by !== undefined).map((c) => c.key));
  const nonZero = Object.entries(counters).filter(([key, n]) => n > 0 && METRICS_PATH.test(key) && !grouped.has(key));
  const detail =
    nonZero.length === 0 ? 'none discarded since Tempo started' : nonZero.map(([k, n]) => `${k} ${n}`).join(', ');
  return { spans, traces, detail };
}

/**
 * Tempo: every acknowledged trace enumerated from TraceQL search, window by window over the times the ledger
 * says the traces were sent, span ids compared with what was sent. A trace search shows incomplete or not
 * at all is searched again in its window (`rechecks` times, a pause apart: late spans are found the way
 * the others were); only what the last reading still misses is looked up by id (which merges fragments),
 * within a budget. A trace whose span set search cut at `spss` is read by id, each one: its unseen spans
 * could be its own, or copies, and only a full read tells (`matched` counts copies alike). The TraceQL
 * metrics span count — an independent reading through the metrics-generator — cross-checks the total,
 * reconciled window by window (see `tempoCrossCheck`).
 */
export function tempoBackend(endpoint: BackendEndpoint): SignalBackend<TraceExpectation> {
  const headers = endpoint.headers ?? {};
  const get = async (path: string, params: Record<string, string>, what: string, timeoutMs = 120_000) => {
    const qs = new URLSearchParams(params).toString();
    const { status, body } = await getJson(`${endpoint.query}${path}${qs === '' ? '' : `?${qs}`}`, headers, timeoutMs);
    return { status, body, what };
  };

  /** Trace `seq` read by id, folded into `into` (spans it shows under another seq's id are left out). */
  const byId = async (tag: Uint8Array, seq: number, spansPerTrace: number, into: Map<number, SeenTrace>) => {
    const hex = traceHexOf(tag, seq);
    const { status, body } = await get(`/api/v2/traces/${hex}`, {}, `trace ${hex}`, 30_000);
    if (status === 404) return;
    if (status !== 200) throw new BackendQueryError('tempo', `trace ${hex}`, status, body);
    const read = new Map<number, SeenTrace>();
    for (const span of parseTempoTraceSpans(body)) see(read, seq, span, spansPerTrace);
    const t = read.get(seq);
    if (t === undefined) return;
    const known = into.get(seq);
    if (known === undefined) into.set(seq, t);
    else mergeInto(known, t);
  };
  const byIds = (tag: Uint8Array, seqs: readonly number[], spansPerTrace: number, into: Map<number, SeenTrace>) =>
    mapLimit(seqs, BY_ID_CONCURRENCY, (seq) => byId(tag, seq, spansPerTrace, into));

  const countByStep = (runId: string, fromMs: number, toMs: number) => tempoCountByStep(get, runId, fromMs, toMs);

  return {
    signal: 'traces',
    name: 'tempo',
    endpoint,
    counters: TEMPO_COUNTERS,
    received: { name: /^tempo_distributor_spans_received_total$/, describe: "spans received by Tempo's distributor" },
    // The distributor counts spans before its limits (discarded: counted) and before the push to an
    // ingester (a failed push or a refusal to the client: not counted, so no count of what it kept).
    receivedNotStored: [{ name: /^tempo_discarded_spans_total$/, describe: 'spans it discarded (limits)' }],
    receivedUnreliableWhen: [
      {
        name: /^tempo_distributor_ingester_append_failures_total$/,
        describe: 'counted failed pushes from its distributor to an ingester',
      },
      { name: /^tempo_receiver_refused_spans(_total)?$/, describe: 'refused spans to the client' },
    ],
    receivedBytes: {
      name: /^tempo_distributor_bytes_received_total$/,
      describe: "uncompressed bytes received by Tempo's distributor",
    },
    duplicatesInvisible: undefined,
    // TraceQL metrics count what the metrics-generator's local blocks hold: it cuts traces after 10–20 s.
    countLagMs: 30_000,
    async count(runId, _serviceName, sinceMs) {
      try {
        let sum = 0;
        for (const n of (await countByStep(runId, sinceMs - 120_000, Date.now() + 60_000)).values()) sum += n;
        return sum;
      } catch (err) {
        // Without local-blocks TraceQL metrics cannot count: the distributor's received spans still grow.
        if (endpoint.metrics === undefined) throw err;
        return sumOf(await scrape(endpoint.metrics), /^tempo_distributor_spans_received_total$/);
      }
    },
    canary: {
      async queryable(canaryRunId, _serviceName, n) {
        const found = new Map<number, SeenTrace>();
        await byId(runTag(canaryRunId), n, 1, found);
        return found.size > 0;
      },
    },
    async verify(exp, context) {
      const search = new TempoSearch(exp, context, get);
      const times = new SpanTimeTally();
      const tag = runTag(exp.runId);
      const K = exp.spansPerTrace;
      let cutById = 0;
      let anomaliesById = 0;
      let decidedBySearch = 0;
      const isLoss = missingIsLoss(exp);
      /** Traces whose span set search cut at spss, read by id; the others as they are. */
      const readCut = async (found: Map<number, SeenTrace>, seqs: Iterable<number>) => {
        const cut = [...seqs].filter((seq) => found.get(seq)?.truncated === true && !isComplete(found.get(seq)));
        cutById += cut.length;
        await byIds(tag, cut, K, found);
        return new Set(cut);
      };
      // The last reading of each trace found incomplete: where searching it again should look.
      const incomplete = new Map<number, SeenTrace>();
      const lookup: TraceLookup = async (seqs, pass = { recheck: 0, last: true }) => {
        const found = pass.recheck === 0 ? await search.traces(seqs) : await search.research(seqs, incomplete);
        const cut = await readCut(found, seqs);
        if (pass.last) {
          // What every reading of a complete search still misses: by id, where that would be loss.
          const undecided = seqs.filter(
            (seq) => !cut.has(seq) && !isComplete(found.get(seq)) && isLoss(seq, found.has(seq)),
          );
          const check = undecided.slice(0, Math.max(0, BY_ID_BUDGET - anomaliesById));
          anomaliesById += check.length;
          decidedBySearch += undecided.length - check.length;
          await byIds(tag, check, K, found);
        }
        return seqs.flatMap((seq) => {
          const t = found.get(seq);
          if (t === undefined) return [];
          times.observe(t);
          if (isComplete(t) || pass.last) incomplete.delete(seq);
          else if (!incomplete.has(seq)) incomplete.set(seq, t);
          return [t];
        });
      };
      const v = await checkTraces(exp, lookup, context, {
        chunk: 2_000,
        concurrency: 1,
        rechecks: RECHECKS,
        pauseMs: 5_000,
        method:
          'TraceQL search of the run windowed by send time (span sets of up to 2 × spans per trace, as far as the query frontend allows), incomplete traces searched again, then looked up by id',
        backend: 'tempo',
        duplicates: { visible: true, note: TEMPO_DUPLICATES },
      });
      times.settle();
      v.figures.searchWindows = search.windows;
      v.figures.searchWindowsSearchedAgain = search.windowsSearchedAgain;
      v.figures.searchSpansPerSpanSet = search.spss;
      v.figures.tracesLookedUpById = anomaliesById + cutById;
      if (cutById > 0) {
        v.figures.tracesCutAtSpss = cutById;
        v.notes.push(
          `${cutById} trace(s) had more matching spans than the query frontend shows per span set (spss ${search.spss}, its max_spans_per_span_set): each was read by id`,
        );
      }
      if (decidedBySearch > 0) {
        v.notes.push(
          `${decidedBySearch} incomplete trace(s) beyond the by-id budget (${BY_ID_BUDGET}) were decided by the complete search alone, searched ${1 + RECHECKS} times`,
        );
      }
      if (context.storeOnly === true)
        return {
          ...v,
          crossCheck: {
            method: 'TraceQL metrics count_over_time of the run',
            value: null,
            compared: v.found,
            agrees: null,
            note: "not run from the object store: TraceQL metrics over stored blocks read the metrics-generator's own flushed blocks, not the ingesters' that were verified here",
          },
        };
      return tempoCrossCheck(
        v,
        exp,
        times,
        {
          countByStep,
          recount: async (fromMs, toMs) => {
            const traces = await search.recount(fromMs, toMs);
            await readCut(traces, traces.keys());
            const out = new Map<number, number>();
            for (const t of traces.values()) addSpans(out, t, times.stepMs, fromMs, toMs);
            return out;
          },
          discarded: async () => {
            if (endpoint.metrics === undefined) return undefined;
            try {
              return metricsPathDiscards(readCounters(await scrape(endpoint.metrics), TEMPO_COUNTERS));
            } catch {
              return undefined;
            }
          },
        },
        context.clock,
      );
    },
  };
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
