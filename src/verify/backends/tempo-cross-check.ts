import { systemClock, type Clock } from '../../time/clock.js';
import type { TraceExpectation } from '../expectation.js';
import type { SignalVerification } from '../verification.js';
import { bucketOf, type SpanTimeTally } from './tempo-count.js';
import { count as fmt } from '../../format.js';

/** Readings of the windows that disagree, after the first, before they are searched again. */
const READINGS_AGAIN = 3;
/**
 * Between readings: a span reaches TraceQL metrics when the metrics-generator's local-blocks cuts its
 * trace from the live traces into the head block (the trace idle for `trace_idle_period`, checked every
 * `flush_check_period`: 10 s each by default).
 */
const READING_PAUSE_MS = 10_000;
/** Disagreeing windows searched again at most (the largest disagreements first). */
const MAX_WINDOWS_SEARCHED_AGAIN = 12;

/** What the cross-check reads from Tempo. */
export interface TempoCounts {
  /** TraceQL metrics span count of a run per window (start unix ms → spans) over [fromMs, toMs). */
  countByStep(runId: string, fromMs: number, toMs: number): Promise<Map<number, number>>;
  /** The search's fresh count of every span of the run per window over [fromMs, toMs), copies included. */
  recount(fromMs: number, toMs: number): Promise<Map<number, number>>;
  /**
   * What Tempo says its metrics path left out: spans, traces (of any size), and the counters read
   * (undefined: its /metrics cannot be read).
   */
  discarded(): Promise<{ spans: number; traces: number; detail: string } | undefined>;
}

interface Window {
  startMs: number;
  metrics: number;
  search: number;
  /** The search's second reading of the window, when it was searched again. */
  searchAgain?: number;
}

const clockTime = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/**
 * Compares the spans the search found with the TraceQL metrics count of the run — an independent reading
 * through the metrics-generator. When the totals differ it reconciles window by window (`COUNT_STEP_MS`):
 * windows whose counts differ are read again (a pause apart) and then searched again. A shortfall may be
 * accounted for by Tempo's own counters of what its metrics path left out: exactly, when it counted spans;
 * within a whole trace per trace, when local-blocks refused traces (e.g. over its live-traces limit). The
 * search's verdict then stands. It turns inconclusive only when windows still disagree unaccounted for,
 * or the search's own count of a window changed — saying which windows, by how much.
 */
export async function tempoCrossCheck(
  v: SignalVerification,
  exp: TraceExpectation,
  tally: SpanTimeTally,
  tempo: TempoCounts,
  clock: Clock = systemClock,
): Promise<SignalVerification> {
  const sent = exp.sentBetween(0, Number.MAX_SAFE_INTEGER);
  if (sent === undefined || v.sample !== undefined) return v;
  const step = tally.stepMs;
  const compared =
    v.found + v.unacknowledgedFound + (v.duplicates.queryVisible ?? 0) + (v.sampling?.keptUnpredictedSpans ?? 0);
  const method = `TraceQL metrics count_over_time of the run per ${step / 1000} s (through the metrics-generator), reconciled window by window with the search`;
  // Spans start before their batch is built (a slow trace's duration) and are stamped up to a request
  // timeout before its answer (sentBetween): two minutes either side holds them all.
  const fromMs = bucketOf(sent.fromMs - 120_000, step);
  const toMs = bucketOf(sent.toMs + 120_000, step) + step;
  let metrics: Map<number, number>;
  try {
    metrics = await tempo.countByStep(exp.runId, fromMs, toMs);
  } catch (err) {
    return {
      ...v,
      crossCheck: { method, value: null, compared, agrees: null, note: `not available: ${(err as Error).message}` },
    };
  }
  const firstValue = sumOf(metrics);
  if (firstValue === compared) {
    return {
      ...v,
      figures: { ...v.figures, traceqlSpanCount: firstValue },
      crossCheck: { method, value: firstValue, compared, agrees: true, note: 'agrees with the spans search found' },
    };
  }

  const search = tally.windows();
  const differing = () =>
    [...new Set([...metrics.keys(), ...search.keys()])]
      .filter((b) => (metrics.get(b) ?? 0) !== (search.get(b) ?? 0))
      .sort((a, b) => a - b);
  let windows = differing();
  for (let reading = 0; reading < READINGS_AGAIN && windows.length > 0; reading++) {
    await clock.sleep(READING_PAUSE_MS);
    for (const run of runsOf(windows, step)) {
      const again = await tempo.countByStep(exp.runId, run.fromMs, run.toMs);
      for (let b = run.fromMs; b < run.toMs; b += step) metrics.set(b, again.get(b) ?? 0);
    }
    windows = differing();
  }
  const value = sumOf(metrics);
  const still: Window[] = windows.map((b) => ({
    startMs: b,
    metrics: metrics.get(b) ?? 0,
    search: search.get(b) ?? 0,
  }));
  const worst = [...still]
    .sort((a, b) => Math.abs(b.metrics - b.search) - Math.abs(a.metrics - a.search))
    .slice(0, MAX_WINDOWS_SEARCHED_AGAIN);
  for (const w of worst) w.searchAgain = (await tempo.recount(w.startMs, w.startMs + step)).get(w.startMs) ?? 0;
  const changed = still.filter((w) => w.searchAgain !== undefined && w.searchAgain !== w.search);

  const figures: Record<string, number> = {
    ...v.figures,
    traceqlSpanCount: value,
    traceqlFirstReading: firstValue,
    traceqlWindowsDisagreeing: still.length,
    ...(tally.unknownTime > 0 ? { spansWithoutStartTime: tally.unknownTime } : {}),
  };
  const cross = (agrees: boolean, note: string) => ({ method, value, compared, agrees, note });
  if (still.length === 0 && value === compared) {
    return {
      ...v,
      figures,
      crossCheck: cross(
        true,
        `agrees with the spans search found, window by window, once the windows that differed at the first reading (total ${fmt(firstValue)}) were read again`,
      ),
    };
  }

  const shortfall = still.reduce((n, w) => n + w.search - w.metrics, 0);
  const discarded =
    changed.length === 0 && still.every((w) => w.metrics < w.search) ? await tempo.discarded() : undefined;
  const listed = describe(still, step);
  // Left out by Tempo's own account: spans counted as such, plus up to a whole trace per trace refused.
  const accountedFor = discarded === undefined ? 0 : discarded.spans + discarded.traces * exp.spansPerTrace;
  const exactly = discarded !== undefined && discarded.traces === 0;
  if (
    discarded !== undefined &&
    shortfall > 0 &&
    value + shortfall === compared &&
    (exactly ? shortfall === accountedFor : shortfall <= accountedFor)
  ) {
    return {
      ...v,
      figures: { ...figures, traceqlSpansLeftOut: shortfall },
      crossCheck: cross(
        false,
        exactly
          ? `short by ${fmt(shortfall)} spans in ${listed}: exactly the spans Tempo says its metrics path discarded (${discarded.detail}); the search's count stands`
          : `short by ${fmt(shortfall)} spans in ${listed}: Tempo says its metrics path left out ${fmt(discarded.traces)} trace(s) and ${fmt(discarded.spans)} span(s) (${discarded.detail}), up to ${fmt(accountedFor)} spans of ${exp.spansPerTrace} per trace, which covers it; the search's count stands`,
      ),
    };
  }
  const why =
    changed.length > 0
      ? `the search's own count changed when searched again (${describe(changed, step)}): spans were still arriving or changing`
      : still.length === 0
        ? `every window agrees but the totals differ by ${fmt(value - compared)}${tally.unknownTime > 0 ? ` (${fmt(tally.unknownTime)} span(s) found carried no start time)` : ''}`
        : `they disagree in ${listed}${discarded === undefined ? '' : `; Tempo's counters of its metrics path: ${discarded.detail}`}`;
  const out: SignalVerification = {
    ...v,
    figures,
    crossCheck: cross(
      false,
      "TraceQL metrics count only what reached Tempo's metrics-generator (its ingestion slack, queue and live-trace limit apply; duplicates count twice)",
    ),
  };
  if (v.outcome.status === 'inconclusive') return out;
  return {
    ...out,
    outcome: {
      status: 'inconclusive',
      reason: `the search found ${compared} spans of the run (${v.found} acknowledged, ${v.lost} absent), the TraceQL metrics count says ${value}: ${why}`,
    },
  };
}

function sumOf(m: ReadonlyMap<number, number>): number {
  let n = 0;
  for (const x of m.values()) n += x;
  return n;
}

/** Contiguous runs of window starts, as [fromMs, toMs) ranges. */
function runsOf(starts: readonly number[], step: number): { fromMs: number; toMs: number }[] {
  const runs: { fromMs: number; toMs: number }[] = [];
  for (const b of starts) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last.toMs === b) last.toMs = b + step;
    else runs.push({ fromMs: b, toMs: b + step });
  }
  return runs;
}

/** e.g. `2 window(s) of 10 s: 10:01:00 metrics 2,000, search 30,000 (-28,000); …`. */
function describe(windows: readonly Window[], step: number): string {
  const shown = windows.slice(0, 8).map((w) => {
    const again =
      w.searchAgain !== undefined && w.searchAgain !== w.search ? `, searched again ${fmt(w.searchAgain)}` : '';
    return `${clockTime(w.startMs)} metrics ${fmt(w.metrics)}, search ${fmt(w.search)}${again} (${w.metrics >= w.search ? '+' : ''}${fmt(w.metrics - w.search)})`;
  });
  const more = windows.length > shown.length ? `; ${windows.length - shown.length} more` : '';
  return `${windows.length} window(s) of ${step / 1000} s: ${shown.join('; ')}${more}`;
}
