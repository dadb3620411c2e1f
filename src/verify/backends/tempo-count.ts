import { BackendQueryError } from '../http-json.js';
import { isComplete, mergeInto, type SeenTrace } from './tempo-reading.js';
import type { TempoGet } from './tempo-search.js';

/**
 * Width of the windows the TraceQL metrics count is read in and reconciled with the search (Tempo buckets
 * a span by its start time in [t, t + step), t a multiple of the step since the epoch).
 */
export const COUNT_STEP_MS = 10_000;
/** Start (unix ms) of the count window `ms` falls in. */
export function bucketOf(ms: number, stepMs = COUNT_STEP_MS): number {
  return Math.floor(ms / stepMs) * stepMs;
}

/**
 * The spans the search found, copies included, per count window of their start time: what the TraceQL
 * metrics count of the same window should say. A trace read incomplete is held until `settle()`, since a
 * re-check may show more of it.
 */
export class SpanTimeTally {
  private readonly spans = new Map<number, number>();
  private readonly held = new Map<number, SeenTrace>();
  /** Spans found whose answer carried no start time (they fit no window). */
  unknownTime = 0;

  constructor(readonly stepMs = COUNT_STEP_MS) {}

  /** The latest reading of trace `t`. */
  observe(t: SeenTrace): void {
    const held = this.held.get(t.seq);
    if (held !== undefined) mergeInto(held, t);
    const latest = held ?? t;
    if (isComplete(latest)) {
      this.add(latest);
      this.held.delete(t.seq);
    } else if (held === undefined) this.held.set(t.seq, t);
  }

  /** Counts the traces still held (their last reading stands). */
  settle(): void {
    for (const t of this.held.values()) this.add(t);
    this.held.clear();
  }

  /** Spans per window start (unix ms). */
  windows(): ReadonlyMap<number, number> {
    return this.spans;
  }

  private add(t: SeenTrace): void {
    addSpans(this.spans, t, this.stepMs, -Infinity, Infinity, () => this.unknownTime++);
  }
}

/** Adds the spans of `t` that started in [fromMs, toMs) to `into`, per window of `stepMs`. */
export function addSpans(
  into: Map<number, number>,
  t: SeenTrace,
  stepMs: number,
  fromMs: number,
  toMs: number,
  onUnknownTime: () => void = () => undefined,
): void {
  for (let i = 0; i < t.counts.length; i++) {
    const n = t.counts[i]!;
    if (n === 0) continue;
    const ms = t.startMs[i]!;
    if (Number.isNaN(ms)) {
      for (let k = 0; k < n; k++) onUnknownTime();
      continue;
    }
    if (ms < fromMs || ms >= toMs) continue;
    const b = bucketOf(ms, stepMs);
    into.set(b, (into.get(b) ?? 0) + n);
  }
}

/** TraceQL metrics query counting a run's spans. */
export function tempoSpanCountQuery(runId: string): string {
  return `{ resource.service.instance.id = "${runId}" } | count_over_time()`;
}

/** Spans per sample (sample start, unix ms) of a TraceQL metrics range response, summed over series. */
export function parseTempoCountSeries(body: unknown): Map<number, number> {
  type Sample = { timestampMs?: string | number; value?: number | string };
  const series = (body as { series?: { samples?: Sample[] }[] }).series ?? [];
  const out = new Map<number, number>();
  for (const s of series)
    for (const sample of s.samples ?? []) {
      // Protobuf JSON leaves a zero out.
      const t = Number(sample.timestampMs);
      out.set(t, (out.get(t) ?? 0) + (sample.value === undefined ? 0 : Number(sample.value)));
    }
  return out;
}

/** Sum of every sample of a TraceQL metrics range response. */
export function parseTempoCount(body: unknown): number {
  let sum = 0;
  for (const n of parseTempoCountSeries(body).values()) sum += n;
  return sum;
}

/**
 * TraceQL metrics span count of a run per window of `COUNT_STEP_MS` (window start, unix ms → spans) over
 * [fromMs, toMs), an hour per query.
 */
export async function tempoCountByStep(
  get: TempoGet,
  runId: string,
  fromMs: number,
  toMs: number,
): Promise<Map<number, number>> {
  const hour = 3_600_000;
  const out = new Map<number, number>();
  for (let from = bucketOf(fromMs); from < toMs; from += hour) {
    // A range of one step is an instant query to Tempo (one sample, not aligned): ask for two at least.
    const to = Math.max(from + 2 * COUNT_STEP_MS, Math.min(from + hour, bucketOf(toMs - 1) + COUNT_STEP_MS));
    const params = {
      q: tempoSpanCountQuery(runId),
      start: String(from / 1000),
      end: String(to / 1000),
      step: `${COUNT_STEP_MS / 1000}s`,
    };
    const { status, body } = await get('/api/metrics/query_range', params, 'count');
    if (status !== 200) throw new BackendQueryError('tempo', params.q, status, body);
    // Tempo answers one sample past `end`, always empty (it counts spans that started before `end`); the
    // next hour's first sample is the same window.
    for (const [t, n] of parseTempoCountSeries(body)) if (t < to) out.set(t, (out.get(t) ?? 0) + n);
  }
  return out;
}
