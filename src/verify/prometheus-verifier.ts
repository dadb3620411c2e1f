import { METRIC_NAME, pointOf, sampleTimeMs, type MetricShape } from '../../generators/index.js';
import { rangesSize, seqsOf, toRanges, type SeqRange } from '../load/ledger.js';
import { BackendQueryError, getJson } from './http-json.js';
import { verdict, type SignalVerification } from './verification.js';

export interface MetricExpectation {
  runId: string;
  shape: MetricShape;
  /** Timestamp of tick 0. */
  startMs: number;
  acknowledged: SeqRange[];
  unacknowledged: SeqRange[];
}

export function promSelector(runId: string, series?: number): string {
  return series === undefined
    ? `${METRIC_NAME}{run_id="${runId}"}`
    : `${METRIC_NAME}{run_id="${runId}",series="${series}"}`;
}

/** Samples per series over the last `rangeSeconds` (Prometheus 3 ranges are left-open, right-closed). */
export function promCountBySeriesQuery(runId: string, rangeSeconds: number): string {
  return `count_over_time(${promSelector(runId)}[${rangeSeconds}s])`;
}

/** Vector response → `series` label → value. */
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
    out.set(key, [...(out.get(key) ?? []), ...r.values.map(([t]) => Math.round(t * 1000))]);
  }
  return out;
}

/** Series per raw-sample query when naming lost samples (keeps each answer small). */
const SERIES_PER_QUERY = 100;

/** Range-vector (matrix) response → sample timestamps in ms. */
export function parsePromSampleTimes(body: unknown): number[] {
  const result = (body as { data?: { result?: { values: [number, string][] }[] } }).data?.result ?? [];
  return result.flatMap((r) => r.values.map(([t]) => Math.round(t * 1000)));
}

/**
 * Counts samples per known series with PromQL `count_over_time` and compares with the acknowledged data
 * points; for series short of samples, reads their raw samples to name every missing (series, tick).
 */
export async function verifyMetrics(
  baseUrl: string,
  exp: MetricExpectation,
  lostExampleLimit = 20,
): Promise<SignalVerification> {
  const queryTime = Math.ceil(Date.now() / 1000);
  const rangeSeconds = Math.max(60, queryTime - Math.floor(exp.startMs / 1000) + 60);
  const instant = async (query: string) => {
    const params = new URLSearchParams({ query, time: String(queryTime) });
    const { status, body } = await getJson(`${baseUrl}/api/v1/query?${params.toString()}`);
    if (status !== 200) throw new BackendQueryError('prometheus', query, status, body);
    return body;
  };
  const { series } = exp.shape;
  const expectedTicks = new Map<number, Set<number>>();
  for (const seq of seqsOf(exp.acknowledged)) {
    const p = pointOf(seq, exp.shape);
    let ticks = expectedTicks.get(p.series);
    if (ticks === undefined) expectedTicks.set(p.series, (ticks = new Set()));
    ticks.add(p.tick);
  }
  const found = parsePromVector(await instant(promCountBySeriesQuery(exp.runId, rangeSeconds)), 'series');

  const lostSeqs: number[] = [];
  let unacknowledgedFound = 0;
  const short: number[] = [];
  for (let series = 0; series < exp.shape.series; series++) {
    const want = expectedTicks.get(series)?.size ?? 0;
    const have = found.get(String(series)) ?? 0;
    if (have > want) unacknowledgedFound += have - want;
    if (have < want) short.push(series);
  }
  // Read the raw samples of short series only, in chunks, to name every missing (series, tick).
  for (let i = 0; i < short.length; i += SERIES_PER_QUERY) {
    const chunk = short.slice(i, i + SERIES_PER_QUERY);
    const selector = `${METRIC_NAME}{run_id="${exp.runId}",series=~"${chunk.join('|')}"}[${rangeSeconds}s]`;
    const times = parsePromSampleTimesBySeries(await instant(selector));
    for (const series of chunk) {
      const present = new Set(times.get(String(series)) ?? []);
      for (const tick of expectedTicks.get(series) ?? []) {
        if (!present.has(sampleTimeMs(tick, exp.startMs, exp.shape))) lostSeqs.push(tick * exp.shape.series + series);
      }
    }
  }
  lostSeqs.sort((a, b) => a - b);
  const expected = rangesSize(exp.acknowledged);
  const lost = lostSeqs.length;
  const notes: string[] = [];
  return {
    signal: 'metrics',
    backend: 'prometheus',
    method: `PromQL count_over_time per series (${series} known series × ticks of ${exp.shape.intervalMs} ms)`,
    expected,
    found: expected - lost,
    lost,
    duplicates: 0,
    unacknowledgedFound,
    lostRanges: toRanges(lostSeqs),
    duplicateRanges: [],
    lostExamples: lostSeqs.slice(0, lostExampleLimit).map((seq) => {
      const p = pointOf(seq, exp.shape);
      return `sample series=${p.series} tick=${p.tick} (t=${new Date(sampleTimeMs(p.tick, exp.startMs, exp.shape)).toISOString()})`;
    }),
    figures: { seriesFound: found.size, seriesExpected: expectedTicks.size },
    outcome: verdict(expected, expected - lost, 'samples'),
    notes,
  };
}
