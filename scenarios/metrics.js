// Intent: hold a constant arrival rate of OTLP gauge data points (RATE points/s) over a known set of
// SERIES series sampled every METRIC_INTERVAL_MS from METRIC_START_MS, so otel-harness knows every sample
// Prometheus should hold and counts them exactly with PromQL.
import exec from 'k6/execution';
import { MetricBatchBuilder } from '../dist/generators/index.js';
import { arrivalRate, commonThresholds, config, numberEnv, post, summary, vusFor } from './lib/harness.js';

const RATE = numberEnv('RATE', 1000);
const INTERVAL_MS = numberEnv('METRIC_INTERVAL_MS', 5000);
const SERIES = numberEnv('SERIES', Math.max(1, Math.round((RATE * INTERVAL_MS) / 1000)));
const START_MS = numberEnv('METRIC_START_MS', Date.now());
const arrival = arrivalRate(RATE, config.batch);

export const options = {
  scenarios: {
    metrics: {
      executor: 'constant-arrival-rate',
      exec: 'metrics',
      rate: arrival.rate,
      timeUnit: arrival.timeUnit,
      duration: config.duration,
      preAllocatedVUs: vusFor(RATE / config.batch),
      maxVUs: config.maxVUs,
    },
  },
  thresholds: { ...commonThresholds },
};

const builder = new MetricBatchBuilder(
  { runId: config.runId, serviceName: config.serviceName },
  { series: SERIES, intervalMs: INTERVAL_MS },
  START_MS,
);

export function metrics() {
  const first = exec.scenario.iterationInTest * config.batch;
  post('metrics', first, config.batch, 1, builder.build(first, config.batch).body);
}

export function teardown() {}

export function handleSummary(data) {
  return summary(data, 'metrics');
}
