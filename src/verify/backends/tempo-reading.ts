import { spanOfHex, tally, type TraceSpans } from './trace-evidence.js';

/** A span as a Tempo answer shows it: hex id, and when it started (unix ms; NaN when the answer does not say). */
export interface ShownSpan {
  hex: string;
  startMs: number;
}

/** A trace as Tempo showed it: copies of each span index, when each span started, and whether search cut it. */
export interface SeenTrace extends TraceSpans {
  /** startMs[i]: unix ms at which span i started (NaN: not seen, or the answer carried no time). */
  startMs: Float64Array;
  /** Search matched more spans of this trace than it showed (its span set was cut at `spss`). */
  truncated: boolean;
}

/** Unix ms of a unix-ns timestamp as Tempo writes it (a decimal string), floored; NaN when absent. */
export function nsToMs(ns: string | number | undefined): number {
  if (ns === undefined) return NaN;
  if (typeof ns === 'number') return Math.floor(ns / 1e6);
  return ns.length > 6 ? Number(ns.slice(0, -6)) : 0;
}

export function seenTrace(seq: number, spansPerTrace: number): SeenTrace {
  return {
    seq,
    counts: new Uint16Array(spansPerTrace),
    foreign: 0,
    misfiled: 0,
    startMs: new Float64Array(spansPerTrace).fill(NaN),
    truncated: false,
  };
}

/** Adds a span shown under the trace id of `traceSeq` to the trace it belongs to (see `tally`), with its start. */
export function see(into: Map<number, SeenTrace>, traceSeq: number, span: ShownSpan, spansPerTrace: number): void {
  const id = spanOfHex(span.hex);
  const valid = id !== undefined && id.index < spansPerTrace;
  const owner = valid ? id.seq : traceSeq;
  if (!into.has(owner)) into.set(owner, seenTrace(owner, spansPerTrace));
  tally(into, traceSeq, span.hex, spansPerTrace);
  if (valid && !Number.isNaN(span.startMs)) into.get(owner)!.startMs[id.index] = span.startMs;
}

/**
 * Folds reading `b` of a trace into reading `a`: a span seen once stays seen, with the most copies any one
 * reading showed (readings of the same store overlap; they do not add up).
 */
export function mergeInto(a: SeenTrace, b: SeenTrace): void {
  for (let i = 0; i < a.counts.length; i++) {
    a.counts[i] = Math.max(a.counts[i]!, b.counts[i]!);
    if (Number.isNaN(a.startMs[i]!)) a.startMs[i] = b.startMs[i]!;
  }
  a.foreign = Math.max(a.foreign, b.foreign);
  a.misfiled = Math.max(a.misfiled, b.misfiled);
  a.truncated = a.truncated || b.truncated;
}

export function isComplete(t: TraceSpans | undefined): boolean {
  return t !== undefined && t.counts.every((n) => n > 0);
}

function base64ToHex(b64: string): string {
  return Buffer.from(b64, 'base64').toString('hex');
}

type OtlpSpan = { spanId: string; startTimeUnixNano?: string };
type Spans = { scopeSpans?: { spans?: OtlpSpan[] }[]; instrumentationLibrarySpans?: { spans?: OtlpSpan[] }[] }[];

/** Spans (hex id, start) in Tempo's trace-by-id JSON (`batches` in 2.x v1, `trace.resourceSpans` in v2). */
export function parseTempoTraceSpans(body: unknown): ShownSpan[] {
  const b = body as { batches?: Spans; resourceSpans?: Spans; trace?: { resourceSpans?: Spans; batches?: Spans } };
  const resourceSpans = b.batches ?? b.resourceSpans ?? b.trace?.resourceSpans ?? b.trace?.batches ?? [];
  return resourceSpans.flatMap((rs) =>
    (rs.scopeSpans ?? rs.instrumentationLibrarySpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        hex: /^[0-9a-f]{16}$/.test(s.spanId) ? s.spanId : base64ToHex(s.spanId),
        startMs: nsToMs(s.startTimeUnixNano),
      })),
    ),
  );
}

/** Span ids (hex) in Tempo's trace-by-id JSON. */
export function parseTempoTrace(body: unknown): string[] {
  return parseTempoTraceSpans(body).map((s) => s.hex);
}

/** One trace of a search answer: its id, the spans of its span sets, and how many spans the query matched. */
export interface SearchTrace {
  traceHex: string;
  spans: ShownSpan[];
  /** Spans the query matched before `spss` cut the span set (the largest fragment's). */
  matched: number;
  /** A span set shows fewer spans than it matched (cut at `spss`). */
  truncated: boolean;
}

/** A `/api/search` answer: traces and whether every job completed. */
export function parseTempoSearch(body: unknown): { traces: SearchTrace[]; completedJobs: number; totalJobs: number } {
  type SpanSet = { spans?: { spanID: string; startTimeUnixNano?: string }[]; matched?: number };
  const b = body as {
    traces?: { traceID: string; spanSet?: SpanSet; spanSets?: SpanSet[] }[];
    metrics?: { completedJobs?: number; totalJobs?: number };
  };
  const traces = (b.traces ?? []).map((t) => {
    const sets = t.spanSets ?? (t.spanSet === undefined ? [] : [t.spanSet]);
    return {
      traceHex: t.traceID.padStart(32, '0'),
      spans: sets.flatMap((s) =>
        (s.spans ?? []).map((sp) => ({ hex: sp.spanID.padStart(16, '0'), startMs: nsToMs(sp.startTimeUnixNano) })),
      ),
      matched: Math.max(0, ...sets.map((s) => s.matched ?? 0)),
      truncated: sets.some((s) => (s.matched ?? 0) > (s.spans?.length ?? 0)),
    };
  });
  return { traces, completedJobs: b.metrics?.completedJobs ?? 0, totalJobs: b.metrics?.totalJobs ?? 0 };
}
