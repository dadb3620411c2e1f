import {
  METRIC_NAME,
  METRIC_TYPES,
  metricTypesOf,
  pointOf,
  STORED_METRIC_NAMES,
  tickTimeMs,
  type MetricType,
} from '../../../generators/index.js';
import { rangesSize } from '../../load/ledger.js';
import { containsSeq, endOf, RangeBuilder, residueCounts } from '../../load/seq-ranges.js';
import type { MetricExpectation, VerifyContext } from '../expectation.js';
import { BackendQueryError, getJson } from '../http-json.js';
import { notQueryVisible, verdict, type SignalVerification } from '../verification.js';

/**
 * The run's samples: of the gauge alone (the default), else of every name a data point of the given types is
 * stored under (one per point: a sum with or without `_total`, a classic histogram's `_count`).
 */
export function promSelector(runId: string, series?: number, types: readonly MetricType[] = ['gauge']): string {
  const matchers = [`run_id="${runId}"`, ...(series === undefined ? [] : [`series="${series}"`])];
  if (types.length === 1 && types[0] === 'gauge') return `${METRIC_NAME}{${matchers.join(',')}}`;
  const names = types.flatMap((t) => STORED_METRIC_NAMES[t]);
  return `{${[`__name__=~"${names.join('|')}"`, ...matchers].join(',')}}`;
}

/** Every type's stored names: counts that must see all of a run's samples whatever its types. */
export const ALL_METRIC_TYPES: readonly MetricType[] = METRIC_TYPES;

/** Samples per series in (t − rangeMs, t] (Prometheus 3 ranges are left-open, right-closed). */
export function promCountBySeriesQuery(runId: string, rangeMs: number, types?: readonly MetricType[]): string {
  return `count_over_time(${promSelector(runId, undefined, types)}[${rangeMs}ms])`;
}

/** Vector response → `label` value → number. */
export function parsePromVector(body: unknown, label: string): Map<string, number> {
  const result =
    (body as { data?: { result?: { metric: Record<string, string>; value: [number, string] }[] } }).data?.result ?? [];
  return new Map(result.map((r) => [r.metric[label] ?? '', Number(r.value[1])]));
}

/** Range-vector (matrix) response → `series` label → sample timestamps in ms. */
export function parsePromSampleTimesBySeries(body: unknown): Map<string, number[]> {
  const result =
    (body as { data?: { result?: { metric: Record<string, string>; values: [number, string][] }[] } }).data?.result ??
    [];
  const out = new Map<string, number[]>();
  for (const r of result) {
    const key = r.metric.series ?? '';
    const list = out.get(key) ?? [];
    for (const [t] of r.values) list.push(Math.round(t * 1000));
    out.set(key, list);
  }
  return out;
}

/** Range-vector (matrix) response → sample timestamps in ms. */
export function parsePromSampleTimes(body: unknown): number[] {
  const result = (body as { data?: { result?: { values: [number, string][] }[] } }).data?.result ?? [];
  return result.flatMap((r) => r.values.map(([t]) => Math.round(t * 1000)));
}

/** Series per raw-sample query when reading ticks (keeps each answer small). */
const SERIES_PER_QUERY = 100;
/** Samples one count query may touch (Prometheus' --query.max-samples is 50 M by default). */
const SAMPLES_PER_WINDOW = 2_000_000;
/** Longest time one count query spans. */
const WINDOW_MAX_MS = 3_600_000;
const LOST_EXAMPLES = 20;

/** A PromQL instant query against `<base>/api/v1/query`; time in Unix ms (sent with ms precision). */
export type PromInstant = (query: string, timeMs: number) => Promise<unknown>;

export function promInstant(backend: string, apiBase: string, headers: Record<string, string>): PromInstant {
  return async (query, timeMs) => {
    const params = new URLSearchParams({ query, time: (timeMs / 1000).toFixed(3) });
    const { status, body } = await getJson(`${apiBase}/api/v1/query?${params.toString()}`, headers, 60_000);
    if (status !== 200) throw new BackendQueryError(backend, query, status, body);
    return body;
  };
}

/** Consecutive tick windows [t0, t1] small enough for one count query each. */
function tickWindows(ticks: number, series: number, timeOf: (tick: number) => number): [number, number][] {
  const perWindow = Math.max(1, Math.floor(SAMPLES_PER_WINDOW / series));
  const out: [number, number][] = [];
  let t0 = 0;
  while (t0 < ticks) {
    let t1 = Math.min(ticks - 1, t0 + perWindow - 1);
    const limit = timeOf(t0) + WINDOW_MAX_MS;
    if (timeOf(t1) > limit) {
      // Shrink to the last tick within the time limit (binary search; ticks are increasing in time).
      let lo = t0;
      let hi = t1;
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if (timeOf(mid) <= limit) lo = mid;
        else hi = mid - 1;
      }
      t1 = lo;
    }
    out.push([t0, t1]);
    t0 = t1 + 1;
  }
  return out;
}

/**
 * Counts the run's samples per known series with PromQL `count_over_time`, window by window (each window a
 * run of ticks small enough for the backend's limits), and compares with the acknowledged data points. A
 * series whose count does not settle it — short, or holding unacknowledged ticks that could mask a lost one —
 * is read tick by tick: an unacknowledged sample that arrived never cancels an acknowledged one that did not.
 */
export async function verifyMetricSamples(
  backend: string,
  instant: PromInstant,
  exp: MetricExpectation,
  context: VerifyContext,
): Promise<SignalVerification> {
  const S = exp.shape.series;
  const types = metricTypesOf(exp.shape);
  const timeOf = (tick: number) => tickTimeMs(tick, exp.shape, exp.timeline);
  const endSeq = Math.max(endOf(exp.acknowledged), endOf(exp.unacknowledged));
  const ticks = Math.ceil(endSeq / S);
  const expected = rangesSize(exp.acknowledged);
  const absent = new RangeBuilder();
  const lostExamples: string[] = [];
  let found = 0;
  let unacknowledgedFound = 0;
  let seriesRead = 0;
  const windows = tickWindows(ticks, S, timeOf);

  for (const [w, [t0, t1]] of windows.entries()) {
    const endMs = timeOf(t1);
    const rangeMs = endMs - timeOf(t0) + 1;
    const have = parsePromVector(await instant(promCountBySeriesQuery(exp.runId, rangeMs, types), endMs), 'series');
    const want = residueCounts(exp.acknowledged, t0 * S, (t1 + 1) * S, S);
    const unacked = residueCounts(exp.unacknowledged, t0 * S, (t1 + 1) * S, S);
    const unsettled: number[] = [];
    for (let s = 0; s < S; s++) {
      const n = have.get(String(s)) ?? 0;
      if (unacked[s] === 0 && n === want[s]) found += n;
      else if (n === want[s]! + unacked[s]!) {
        found += want[s]!;
        unacknowledgedFound += unacked[s]!;
      } else unsettled.push(s);
    }
    const lostSeqs: number[] = [];
    for (let i = 0; i < unsettled.length; i += SERIES_PER_QUERY) {
      const chunk = unsettled.slice(i, i + SERIES_PER_QUERY);
      seriesRead += chunk.length;
      const selector = `${promSelector(exp.runId, undefined, types).slice(0, -1)},series=~"${chunk.join('|')}"}[${rangeMs}ms]`;
      const times = parsePromSampleTimesBySeries(await instant(selector, endMs));
      for (const s of chunk) {
        const present = new Set(times.get(String(s)) ?? []);
        for (let t = t0; t <= t1; t++) {
          const seq = t * S + s;
          const here = present.has(timeOf(t));
          if (containsSeq(exp.acknowledged, seq)) {
            if (here) found++;
            else lostSeqs.push(seq);
          } else if (here && containsSeq(exp.unacknowledged, seq)) unacknowledgedFound++;
        }
      }
    }
    lostSeqs.sort((a, b) => a - b);
    for (const seq of lostSeqs) {
      absent.add(seq);
      if (lostExamples.length < LOST_EXAMPLES) {
        const p = pointOf(seq, exp.shape);
        const type = types.length > 1 ? ` (${types[p.series % types.length]})` : '';
        lostExamples.push(
          `sample series=${p.series}${type} tick=${p.tick} (t=${new Date(timeOf(p.tick)).toISOString()})`,
        );
      }
    }
    if (windows.length > 1) context.progress(`metrics: window ${w + 1}/${windows.length} counted in ${backend}`);
  }
  return {
    signal: 'metrics',
    backend,
    method:
      `PromQL count_over_time per series (${S} series${types.length > 1 ? ` of ${types.join(', ')}` : ''} × ${ticks} ticks, ${windows.length} window(s)); ` +
      `${seriesRead} series read tick by tick`,
    expected,
    found,
    lost: absent.size,
    rejected: 0,
    rejectedAbsent: 0,
    duplicates: notQueryVisible(`${backend} keeps one sample per series and timestamp`),
    unacknowledgedFound,
    lostRanges: absent.ranges(),
    lostExamples,
    figures: { seriesExpected: S, ticks, windows: windows.length, seriesReadTickByTick: seriesRead },
    outcome: verdict(expected, absent.size, 'samples'),
    notes: [],
  };
}
