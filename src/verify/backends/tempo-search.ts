import { decodeTraceId, fromHex, runTag } from '../../../generators/index.js';
import type { TraceExpectation, VerifyContext } from '../expectation.js';
import { BackendQueryError } from '../http-json.js';
import { mergeInto, parseTempoSearch, see, type SearchTrace, type SeenTrace } from './tempo-reading.js';
import { traceHexOf } from './trace-evidence.js';

/** A GET on Tempo's HTTP API: status and parsed body. */
export type TempoGet = (
  path: string,
  params: Record<string, string>,
  what: string,
  timeoutMs?: number,
) => Promise<{ status: number; body: unknown }>;

/** Traces per answer at most: a window holding more is halved (a querier's job answer must stay < 16 MB). */
const MAX_TRACES_PER_ANSWER = 12_000;
/** Spans per answer at most: large span sets (a high `spss`) ask for fewer traces per window. */
const SPANS_PER_ANSWER = 120_000;
const FIRST_WINDOW_S = 30;
const MAX_WINDOW_S = 60;
/** Spans start up to a (slow, 1.5 s) trace's duration before they are built, and end when built. */
const BEFORE_SEND_MS = 5_000;
const AFTER_SEND_MS = 2_000;

/**
 * Search window (unix s) around the spans a reading showed of a trace: its other spans started within a
 * (slow, 1.5 s) trace's duration of those.
 */
function aroundSpans(t: SeenTrace | undefined): { from: number; to: number } | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const ms of t?.startMs ?? []) {
    if (Number.isNaN(ms)) continue;
    lo = Math.min(lo, ms);
    hi = Math.max(hi, ms);
  }
  if (lo === Infinity) return undefined;
  return { from: Math.floor((lo - 2_000) / 1000), to: Math.ceil((hi + 2_000) / 1000) };
}

/** Trace ids a window is searched for by id at most (more: the window is searched whole). */
const IDS_PER_SEARCH = 50;

/**
 * TraceQL condition selecting traces by id. The ids are written without leading zeros, as Tempo writes
 * them: Tempo 2.8 compares `trace:id` with its zero bytes trimmed, so a 32-digit id with leading zeros
 * matches nothing (measured).
 */
export function traceIdFilter(tag: Uint8Array, seqs: readonly number[]): string {
  const ids = seqs.map((seq) => `trace:id = "${traceHexOf(tag, seq).replace(/^0+(?=.)/, '')}"`);
  return ids.length === 1 ? ` && ${ids[0]}` : ` && (${ids.join(' || ')})`;
}

/** The query frontend's `max_spans_per_span_set`, from its refusal ("spans per span set exceeds 100. …"). */
export function spssLimitOf(body: unknown): number | undefined {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const m = /spans per span set exceeds (\d+)/.exec(text);
  return m === null ? undefined : Number(m[1]);
}

/**
 * TraceQL search of one run, window by window over the times the ledger says its traces were sent. A window
 * counts only when every search job completed below the result limit (otherwise it is halved). Span sets
 * ask for twice the spans of a trace (so a copy shows), or the most the query frontend allows: it names
 * its `max_spans_per_span_set` when it refuses more.
 *
 * - `traces` walks the windows forward as the verifier asks for chunks of traces, keeping only traces not
 *   yet asked for (memory: the overlap between windows and chunks, not the run);
 * - `research` searches again the windows that held given traces, for a fresh reading of those traces;
 * - `recount` reads every trace of the run in a time range (for reconciling a count window by window).
 */
export class TempoSearch {
  private readonly cache = new Map<number, SeenTrace>();
  private readonly tag: Uint8Array;
  private coveredFrom: number | undefined;
  private coveredUntil: number | undefined;
  private windowS = FIRST_WINDOW_S;
  private spssLimit: number | undefined;
  private byTraceId = true;
  /** Windows answered completely. */
  windows = 0;
  /** Of those, windows searched again on demand (re-checks, reconciliation). */
  windowsSearchedAgain = 0;

  constructor(
    private readonly exp: TraceExpectation,
    private readonly context: VerifyContext,
    private readonly get: TempoGet,
  ) {
    this.tag = runTag(exp.runId);
  }

  /** Spans per span set asked for. */
  get spss(): number {
    return Math.min(this.exp.spansPerTrace * 2, this.spssLimit ?? Infinity);
  }

  /** The search's first reading of `seqs` (absent: not found by search), enumerating windows as needed. */
  async traces(seqs: readonly number[]): Promise<Map<number, SeenTrace>> {
    const range = this.rangeOf(seqs);
    if (range !== undefined) await this.cover(range.from, range.to);
    const out = new Map<number, SeenTrace>();
    for (const seq of seqs) {
      const t = this.cache.get(seq);
      if (t !== undefined) out.set(seq, t);
      this.cache.delete(seq);
    }
    return out;
  }

  /**
   * A fresh reading of `seqs`: the windows that held them searched again, nothing else kept. A trace an
   * earlier reading showed part of is searched around the spans it showed; one it did not show at all,
   * over the window the ledger says it was sent in. A window of a few such traces is searched for their
   * ids only (TraceQL `trace:id`: a small answer), unless that search misses a trace an earlier reading
   * showed — then Tempo's `trace:id` does not match here, and windows are searched whole from then on.
   */
  async research(seqs: readonly number[], seen: ReadonlyMap<number, SeenTrace>): Promise<Map<number, SeenTrace>> {
    const wanted = new Set(seqs);
    const out = new Map<number, SeenTrace>();
    const keep = (answer: SearchTrace[]) => {
      for (const [seq, t] of this.read(answer)) {
        if (!wanted.has(seq)) continue;
        const known = out.get(seq);
        if (known === undefined) out.set(seq, t);
        else mergeInto(known, t);
      }
    };
    for (const w of this.windowsOf(seqs, seen)) {
      // One search per window either way: by id for a few traces, whole for many.
      if (this.byTraceId && w.seqs.length <= IDS_PER_SEARCH) {
        await this.searchRange(w.from, w.to, true, keep, traceIdFilter(this.tag, w.seqs));
        if (!w.seqs.some((seq) => seen.has(seq) && !out.has(seq))) continue;
        this.byTraceId = false;
      }
      await this.searchRange(w.from, w.to, true, keep);
    }
    return out;
  }

  /** Every trace of the run search shows overlapping [fromMs, toMs). */
  async recount(fromMs: number, toMs: number): Promise<Map<number, SeenTrace>> {
    const out = new Map<number, SeenTrace>();
    await this.searchRange(Math.floor(fromMs / 1000), Math.ceil(toMs / 1000), true, (answer) => {
      for (const [seq, t] of this.read(answer)) {
        const known = out.get(seq);
        if (known === undefined) out.set(seq, t);
        else mergeInto(known, t);
      }
    });
    return out;
  }

  /** Search window (unix s) of the traces `seqs` were sent in. */
  private rangeOf(seqs: readonly number[]): { from: number; to: number } | undefined {
    if (seqs.length === 0) return undefined;
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of seqs) {
      lo = Math.min(lo, s);
      hi = Math.max(hi, s);
    }
    const sent = this.exp.sentBetween(lo, hi + 1);
    if (sent === undefined) return undefined;
    return {
      from: Math.floor((sent.fromMs - BEFORE_SEND_MS) / 1000),
      to: Math.ceil((sent.toMs + AFTER_SEND_MS) / 1000),
    };
  }

  /** The windows of each of `seqs`, merged where they overlap, with the traces each is searched for. */
  private windowsOf(
    seqs: readonly number[],
    seen: ReadonlyMap<number, SeenTrace>,
  ): { from: number; to: number; seqs: number[] }[] {
    const ranges = [...new Set(seqs)]
      .flatMap((seq) => {
        const r = aroundSpans(seen.get(seq)) ?? this.rangeOf([seq]);
        return r === undefined ? [] : [{ ...r, seqs: [seq] }];
      })
      .sort((a, b) => a.from - b.from);
    const merged: { from: number; to: number; seqs: number[] }[] = [];
    for (const r of ranges) {
      const last = merged[merged.length - 1];
      if (last !== undefined && r.from <= last.to) {
        last.to = Math.max(last.to, r.to);
        last.seqs.push(...r.seqs);
      } else merged.push(r);
    }
    return merged;
  }

  private async cover(from: number, to: number): Promise<void> {
    const keep = (answer: SearchTrace[]) => {
      for (const [seq, t] of this.read(answer)) {
        const known = this.cache.get(seq);
        if (known === undefined) this.cache.set(seq, t);
        else mergeInto(known, t);
      }
    };
    if (this.coveredFrom === undefined || this.coveredUntil === undefined) {
      await this.searchRange(from, to, false, keep);
      this.coveredFrom = from;
      this.coveredUntil = to;
      return;
    }
    if (from < this.coveredFrom) {
      await this.searchRange(from, this.coveredFrom, false, keep);
      this.coveredFrom = from;
    }
    if (to > this.coveredUntil) {
      await this.searchRange(this.coveredUntil, to, false, keep);
      this.coveredUntil = to;
    }
  }

  /** The run's traces of one answer, tallied by the trace each span belongs to. */
  private read(answer: SearchTrace[]): Map<number, SeenTrace> {
    const K = this.exp.spansPerTrace;
    const out = new Map<number, SeenTrace>();
    for (const t of answer) {
      const seq = decodeTraceId(fromHex(t.traceHex), this.tag);
      if (seq === undefined) continue;
      const fresh = new Map<number, SeenTrace>();
      for (const span of t.spans) see(fresh, seq, span, K);
      for (const [s, reading] of fresh) {
        if (s === seq && t.truncated) reading.truncated = true;
        const known = out.get(s);
        if (known === undefined) out.set(s, reading);
        else mergeInto(known, reading);
      }
    }
    return out;
  }

  /** Searches [from, to] (unix s) window by window; adjacent windows share their boundary second. */
  private async searchRange(
    from: number,
    to: number,
    again: boolean,
    onAnswer: (traces: SearchTrace[]) => void,
    filter = '',
  ): Promise<void> {
    // A filtered search answers a few traces: its window starts whole, and does not size the others.
    let windowS = filter === '' ? this.windowS : Math.max(1, to - from);
    let start = from;
    while (start < to) {
      const end = Math.min(to, start + windowS);
      const spss = this.spss;
      const limit = Math.max(100, Math.min(MAX_TRACES_PER_ANSWER, Math.floor(SPANS_PER_ANSWER / spss)));
      const params = {
        q: `{ resource.service.instance.id = "${this.exp.runId}"${filter} }`,
        start: String(start),
        end: String(end),
        limit: String(limit),
        spss: String(spss),
      };
      const { status, body } = await this.get('/api/search', params, 'search');
      const refusedSpss = status === 400 ? spssLimitOf(body) : undefined;
      if (refusedSpss !== undefined && refusedSpss > 0 && refusedSpss < spss) {
        this.spssLimit = refusedSpss;
        continue;
      }
      const tooBig = status === 413 || status === 422;
      if (status !== 200 && !tooBig)
        throw new BackendQueryError('tempo', `search ${params.q} [${start}, ${end}]`, status, body);
      const answer = status === 200 ? parseTempoSearch(body) : undefined;
      const complete = answer !== undefined && answer.traces.length < limit && answer.completedJobs >= answer.totalJobs;
      if (!complete) {
        if (end - start <= 1) {
          throw new Error(
            `Tempo search of [${start}, ${end}] did not complete (${answer === undefined ? `HTTP ${status}` : `${answer.completedJobs}/${answer.totalJobs} jobs, ${answer.traces.length} traces`}) even for a one-second window`,
          );
        }
        windowS = Math.max(1, Math.floor((end - start) / 2));
        if (filter === '') this.windowS = windowS;
        continue;
      }
      this.windows++;
      if (again) this.windowsSearchedAgain++;
      onAnswer(answer.traces);
      // Size the next window for about half the limit.
      const perSecond = answer.traces.length / Math.max(1, end - start);
      if (filter === '') {
        windowS = Math.max(1, Math.min(MAX_WINDOW_S, Math.floor(limit / 2 / Math.max(1, perSecond))));
        this.windowS = windowS;
      }
      this.context.progress(
        `traces: searched tempo${again ? ' again' : ''}${filter === '' ? '' : ' by trace id'} [${start}, ${end}]: ${answer.traces.length} traces`,
      );
      start = end;
    }
  }
}
