import { Histogram } from '../../../stats/histogram.js';
import type { SchedulerReport } from '../../open-model-scheduler.js';
import type { Ledger, LedgerEntry, Outcome, Signal } from '../../ledger.js';

/** What a scenario's handleSummary writes (scenarios/lib/harness.js `summary`). */
export interface K6Summary {
  scenario: string;
  iterations: number;
  droppedIterations: number;
  /** Dropped iterations per k6 scenario (traces, metrics, logs). */
  droppedByScenario: Record<string, number>;
  httpReqs: number;
  /** Bytes k6 put on the wire (requests, headers included; compressed bodies when asked). */
  dataSentBytes?: number;
  httpReqFailedRate: number;
  httpReqDurationP99Ms: number;
  thresholds: { metric: string; expression: string; ok: boolean }[];
}

export function parseK6Summary(text: string): K6Summary {
  const raw = JSON.parse(text) as Partial<K6Summary>;
  if (typeof raw.scenario !== 'string' || !Array.isArray(raw.thresholds))
    throw new Error('not an otel-harness k6 summary');
  return {
    scenario: raw.scenario,
    iterations: raw.iterations ?? 0,
    droppedIterations: raw.droppedIterations ?? 0,
    droppedByScenario: raw.droppedByScenario ?? {},
    httpReqs: raw.httpReqs ?? 0,
    ...(raw.dataSentBytes === undefined ? {} : { dataSentBytes: raw.dataSentBytes }),
    httpReqFailedRate: raw.httpReqFailedRate ?? 0,
    httpReqDurationP99Ms: raw.httpReqDurationP99Ms ?? 0,
    thresholds: raw.thresholds,
  };
}

const OUTCOMES: readonly Outcome[] = ['acknowledged', 'refused', 'failed'];
const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];

export interface K6BatchPoint {
  signal: Signal;
  entry: LedgerEntry;
  items: number;
}

/**
 * One line of k6's JSON output (`--out json`) → a ledger entry when it is an `otel_harness_items` point,
 * else undefined. Pure; `startMs` turns the point's time into ms since the load started.
 */
export function parseK6Point(line: string, startMs: number): K6BatchPoint | undefined {
  if (!line.includes('"otel_harness_items"') || !line.includes('"Point"')) return undefined;
  const p = JSON.parse(line) as {
    type?: string;
    metric?: string;
    data?: { time?: string; value?: number; tags?: Record<string, string> };
  };
  if (p.type !== 'Point' || p.metric !== 'otel_harness_items' || p.data?.tags === undefined) return undefined;
  const t = p.data.tags;
  const signal = t.signal as Signal;
  const outcome = t.outcome as Outcome;
  if (!SIGNALS.includes(signal) || !OUTCOMES.includes(outcome)) return undefined;
  const first = Number(t.first);
  const count = Number(t.units);
  if (!Number.isInteger(first) || !Number.isInteger(count)) return undefined;
  const at = p.data.time === undefined ? startMs : Date.parse(p.data.time);
  const rejected = Number(t.rejected ?? 0);
  return {
    signal,
    items: p.data.value ?? 0,
    entry: {
      first,
      count,
      outcome,
      ...(t.answer === undefined ? {} : { answer: t.answer }),
      atMs: Math.max(0, at - startMs),
      ...(outcome === 'acknowledged' && Number.isInteger(rejected) && rejected > 0
        ? { rejected, rejectMessage: t.reject_message ?? '' }
        : {}),
    },
  };
}

/** k6 exit codes that matter here (k6 errext/exitcodes). */
export const K6_EXIT = { thresholdsFailed: 99, externalAbort: 105, scriptException: 107, invalidConfig: 104 } as const;

/** What k6 ran per signal, from the ledger its points filled (k6 schedules its own iterations: no lag). */
export function k6Reports(
  ledger: Ledger,
  signals: readonly Signal[],
  lastAtMs: number,
  interrupted: boolean,
): Map<Signal, SchedulerReport> {
  const reports = new Map<Signal, SchedulerReport>();
  for (const signal of signals) {
    const counts = ledger.counts(signal);
    reports.set(signal, {
      offeredUnits: counts.offered / ledger.itemsPer(signal),
      sentUnits: counts.attempted / ledger.itemsPer(signal),
      droppedUnits: counts.dropped / ledger.itemsPer(signal),
      issueElapsedMs: Math.max(lastAtMs, 1),
      scheduleLagMs: new Histogram().percentiles(),
      interrupted,
    });
  }
  return reports;
}
