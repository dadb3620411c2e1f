// Intent: hold a constant arrival rate of OTLP traces (RATE spans/s) against a collector for DURATION.
// Every trace id encodes (run id, trace seq); the seq comes from k6's iteration number, so otel-harness
// can fetch every acknowledged trace by id and report exactly what was lost.
import exec from 'k6/execution';
import { TraceBatchBuilder, traceShapeDefaults } from '../dist/generators/index.js';
import { arrivalRate, commonThresholds, config, numberEnv, post, summary, vusFor } from './lib/harness.js';

const RATE = numberEnv('RATE', 1000); // spans per second
const TRACES_PER_ITERATION = Math.max(1, Math.round(config.batch / config.spansPerTrace));
const arrival = arrivalRate(RATE, TRACES_PER_ITERATION * config.spansPerTrace);

export const options = {
  scenarios: {
    traces: {
      executor: 'constant-arrival-rate',
      exec: 'traces',
      rate: arrival.rate,
      timeUnit: arrival.timeUnit,
      duration: config.duration,
      preAllocatedVUs: vusFor(RATE / config.batch),
      maxVUs: config.maxVUs,
    },
  },
  thresholds: { ...commonThresholds, 'http_req_duration{signal:traces}': ['p(99)<5000'] },
};

// Init: one payload builder per VU (the "client" of this scenario; k6/http needs no connection object).
const builder = new TraceBatchBuilder(
  { runId: config.runId, serviceName: config.serviceName },
  { ...traceShapeDefaults(), spansPerTrace: config.spansPerTrace },
);

export function traces() {
  const first = exec.scenario.iterationInTest * TRACES_PER_ITERATION;
  const batch = builder.build(first, TRACES_PER_ITERATION, Date.now());
  post('traces', first, TRACES_PER_ITERATION, config.spansPerTrace, batch.body);
}

export function teardown() {
  // Nothing to close: k6/http keeps no client. Results are in the otel_harness_items points.
}

export function handleSummary(data) {
  return summary(data, 'traces');
}
