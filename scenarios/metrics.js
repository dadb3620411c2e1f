// Intent: hold a constant arrival rate of OTLP gauge data points (RATE points/s) over a known set of
// SERIES series; each tick is stamped when the constant schedule from METRIC_START_MS makes it due (the
// harness's MetricTimeline), so otel-harness knows every sample Prometheus should hold and counts them
// exactly with PromQL.
import exec from 'k6/execution';
import { MetricBatchBuilder, tickTimeMs } from '../dist/generators/index.js';
import { commonThresholds, config, constantArrival, itemIteration, numberEnv, summary } from './lib/harness.js';

const RATE = numberEnv('RATE', 1000);
const INTERVAL_MS = numberEnv('METRIC_INTERVAL_MS', 5000);
const SERIES = numberEnv('SERIES', Math.max(1, Math.round((RATE * INTERVAL_MS) / 1000)));
const START_MS = numberEnv('METRIC_START_MS', Date.now());
const DURATION_MS = numberEnv('DURATION_MS', 60_000);

export const options = {
  scenarios: { metrics: constantArrival('metrics', RATE, config.batch) },
  thresholds: { ...commonThresholds },
};

const shape = { series: SERIES, intervalMs: INTERVAL_MS };
const timeline = {
  startMs: START_MS,
  profile: { kind: 'constant' },
  rate: Math.max(1, Math.round(RATE)),
  durationMs: DURATION_MS,
};
const builder = new MetricBatchBuilder({ runId: config.runId, serviceName: config.serviceName }, shape, (tick) =>
  tickTimeMs(tick, shape, timeline),
);

export function metrics() {
  itemIteration('metrics', (first, count) => builder.build(first, count).body, exec.scenario.iterationInTest);
}

export function teardown() {}

export function handleSummary(data) {
  return summary(data, 'metrics');
}
