import type { PayloadShape } from '../../generators/index.js';
import type { Ledger, Signal } from '../load/ledger.js';
import { metricTimelineOf, type LoadSpec } from '../load/load-spec.js';
import type { SchedulerReport } from '../load/open-model-scheduler.js';
import { totalItems } from '../load/rate-profile.js';
import type { SignalLoadResult } from './step-types.js';

/** Ranges listed per outcome in result.json (the ledger holds them all). */
const RANGE_LIMIT = 1_000;

/** Per signal: offered and achieved rates, outcome counts, answers, schedule lag and id ranges. */
export function loadResults(
  spec: LoadSpec,
  ledger: Ledger,
  reports: ReadonlyMap<Signal, SchedulerReport>,
  loadStartMs: number,
): Partial<Record<Signal, SignalLoadResult>> {
  const out: Partial<Record<Signal, SignalLoadResult>> = {};
  for (const s of spec.signals) {
    const counts = ledger.counts(s.signal);
    const report = reports.get(s.signal);
    const elapsedS = Math.max(0.001, (report?.issueElapsedMs ?? spec.durationMs) / 1000);
    const achievedRps = counts.acknowledged / elapsedS;
    const ranges = (o: 'acknowledged' | 'refused' | 'failed' | 'dropped') => ledger.ranges(s.signal, o);
    const all = {
      acknowledged: ranges('acknowledged'),
      refused: ranges('refused'),
      failed: ranges('failed'),
      dropped: ranges('dropped'),
    };
    // What the profile offers on average (a ramp or steps profile offers less than its full rate).
    const offeredRps = totalItems(spec.profile, s.rateRps, spec.durationMs) / (spec.durationMs / 1000);
    const retryAfter = ledger.retryAfter(s.signal);
    out[s.signal] = {
      offeredRps,
      achievedRps,
      achievedRatio: achievedRps / offeredRps,
      counts,
      answers: ledger.answerCounts(s.signal),
      scheduleLagMs: report?.scheduleLagMs ?? { count: 0, min: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 },
      idRanges: {
        acknowledged: all.acknowledged.slice(0, RANGE_LIMIT),
        refused: all.refused.slice(0, RANGE_LIMIT),
        failed: all.failed.slice(0, RANGE_LIMIT),
        dropped: all.dropped.slice(0, RANGE_LIMIT),
      },
      idRangesTruncated: Object.values(all).some((r) => r.length > RANGE_LIMIT),
      rejections: ledger.rejections(s.signal).slice(0, RANGE_LIMIT),
      ...(retryAfter === undefined ? {} : { retryAfter }),
      shape: shapeOf(spec, s.signal, loadStartMs),
    };
  }
  return out;
}

function shapeOf(spec: LoadSpec, signal: Signal, loadStartMs: number): Record<string, number | string> {
  if (signal === 'traces') {
    const { payload, ...shape } = spec.traceShape;
    return { ...shape, ...payloadFields(payload), unit: 'trace' };
  }
  if (signal === 'logs') {
    const { payload, ...shape } = spec.logShape;
    return { ...shape, ...payloadFields(payload), unit: 'log record' };
  }
  const t = metricTimelineOf(spec, loadStartMs);
  const { types, ...metricShape } = spec.metricShape;
  return {
    ...metricShape,
    ...(types === undefined || (types.length === 1 && types[0] === 'gauge') ? {} : { types: types.join(',') }),
    unit: 'data point',
    metricStartMs: t.startMs,
    timelineRate: t.rate,
    timelineProfile: t.profile.kind,
    timelineDurationMs: t.durationMs,
  };
}

/** The payload profile as flat fields of a shape (absent for the synthetic profile, as in older results). */
function payloadFields(payload: PayloadShape | undefined): Record<string, number | string> {
  if (payload === undefined || payload.profile === 'synthetic') return {};
  return { payload: payload.profile, payloadPods: payload.pods, payloadNodes: payload.nodes };
}
