import {
  tickTimeMs,
  LogBatchBuilder,
  MetricBatchBuilder,
  TraceBatchBuilder,
  type LogShape,
  type MetricShape,
  type MetricTimeline,
  type TraceShape,
} from '../../../../generators/index.js';
import type { SignalLoad } from './native-driver.js';
import type { Signal } from '../../ledger.js';
import { SOAK_SERVICE_NAME } from '../../run-identity.js';

/** What the native driver needs of a plan (kept free of the orchestrator so a bare driver loads fast). */
export interface LoadPlan {
  signals: { signal: Signal; unitRate: number; batchUnits: number; itemsPerUnit: number }[];
  traceShape: TraceShape;
  logShape: LogShape;
  metricShape: MetricShape;
}

/**
 * The native driver's per-signal loads: builders with the run's identity and shapes; metric samples are
 * stamped by the run's timeline (`tickTimeMs`).
 */
export function loadsOf(plan: LoadPlan, runId: string, metricTimeline: MetricTimeline): SignalLoad[] {
  const identity = { runId, serviceName: SOAK_SERVICE_NAME };
  return plan.signals.map((s): SignalLoad => {
    if (s.signal === 'traces') {
      const b = new TraceBatchBuilder(identity, plan.traceShape);
      return { ...s, build: (first, count, now) => b.build(first, count, now) };
    }
    if (s.signal === 'logs') {
      const b = new LogBatchBuilder(identity, plan.logShape);
      return { ...s, build: (first, count, now) => b.build(first, count, now) };
    }
    const b = new MetricBatchBuilder(identity, plan.metricShape, (tick) =>
      tickTimeMs(tick, plan.metricShape, metricTimeline),
    );
    return { ...s, build: (first, count) => b.build(first, count) };
  });
}
