// Intent: hold a constant arrival rate of OTLP traces (RATE spans/s) against a collector for DURATION.
// Every trace id encodes (run id, trace seq); the seq comes from k6's iteration number, so otel-harness
// can fetch every acknowledged trace by id and report exactly what was lost.
import exec from 'k6/execution';
import { TraceBatchBuilder, traceShapeDefaults } from '../dist/generators/index.js';
import {
  commonThresholds,
  config,
  constantArrival,
  durationThreshold,
  newTraceBuilder,
  numberEnv,
  summary,
  traceIteration,
  tracesPerIteration,
} from './lib/harness.js';

const RATE = numberEnv('RATE', 1000); // spans per second

export const options = {
  scenarios: { traces: constantArrival('traces', RATE, tracesPerIteration * config.spansPerTrace) },
  thresholds: { ...commonThresholds, ...durationThreshold('traces', 'p(99)<5000') },
};

// Init: one payload builder per VU (the "client" of this scenario; k6/http needs no connection object).
const builder = newTraceBuilder(TraceBatchBuilder, traceShapeDefaults);

export function traces() {
  traceIteration(builder, exec.scenario.iterationInTest);
}

export function teardown() {
  // Nothing to close: k6/http keeps no client. Results are in the otel_harness_items points.
}

export function handleSummary(data) {
  return summary(data, 'traces');
}
