import {
  fileLogLine,
  tickTimeMs,
  LogBatchBuilder,
  MetricBatchBuilder,
  TraceBatchBuilder,
  type LogShape,
  type MetricShape,
  type MetricTimeline,
  type TraceShape,
} from '../../../../generators/index.js';
import type { ContainerLogWriter } from '../../files/container-log-writer.js';
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
 * stamped by the run's timeline (`tickTimeMs`); with `logFiles`, log records are lines written to a container's
 * log file (`--log-source file`) instead of OTLP.
 */
export function loadsOf(
  plan: LoadPlan,
  runId: string,
  metricTimeline: MetricTimeline,
  logFiles?: ContainerLogWriter,
): SignalLoad[] {
  const identity = { runId, serviceName: SOAK_SERVICE_NAME };
  return plan.signals.map((s): SignalLoad => {
    if (s.signal === 'traces') {
      const b = new TraceBatchBuilder(identity, plan.traceShape);
      return { ...s, build: (first, count, now) => b.build(first, count, now) };
    }
    if (s.signal === 'logs' && logFiles !== undefined) {
      const { bodyBytes, seqBlockSize } = plan.logShape;
      const web = plan.logShape.payload?.profile === 'web';
      return {
        ...s,
        build: () => {
          throw new Error('log records written to files are not built as OTLP');
        },
        deliver: (first, count) => {
          const lines = Array.from({ length: count }, (_, i) =>
            fileLogLine(runId, first + i, bodyBytes, seqBlockSize, web),
          );
          return { items: count, bytes: logFiles.write(runId, first, lines) };
        },
      };
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
