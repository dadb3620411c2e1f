// Intent: a soak of all three signals at once — traces (RATE_TRACES spans/s), metrics (RATE_METRICS
// points/s) and logs (RATE_LOGS records/s), each its own constant-arrival-rate scenario with its own
// sequence numbers — as a production service mix would send them.
import exec from 'k6/execution';
import {
  LogBatchBuilder,
  logShapeDefaults,
  MetricBatchBuilder,
  tickTimeMs,
  TraceBatchBuilder,
  traceShapeDefaults,
} from '../dist/generators/index.js';
import {
  commonThresholds,
  config,
  constantArrival,
  itemIteration,
  numberEnv,
  summary,
  traceIteration,
  tracesPerIteration,
} from './lib/harness.js';

const RATES = {
  traces: numberEnv('RATE_TRACES', 400),
  metrics: numberEnv('RATE_METRICS', 300),
  logs: numberEnv('RATE_LOGS', 300),
};
const INTERVAL_MS = numberEnv('METRIC_INTERVAL_MS', 5000);
const SERIES = numberEnv('SERIES', Math.max(1, Math.round((RATES.metrics * INTERVAL_MS) / 1000)));
const START_MS = numberEnv('METRIC_START_MS', Date.now());
const DURATION_MS = numberEnv('DURATION_MS', 60_000);
const PER_ITERATION = { traces: tracesPerIteration * config.spansPerTrace, metrics: config.batch, logs: config.batch };

export const options = {
  scenarios: Object.fromEntries(
    ['traces', 'metrics', 'logs']
      .filter((s) => RATES[s] > 0)
      .map((s) => [s, constantArrival(s, RATES[s], PER_ITERATION[s])]),
  ),
  thresholds: { ...commonThresholds },
};

const identity = { runId: config.runId, serviceName: config.serviceName };
const traceBuilder = new TraceBatchBuilder(identity, { ...traceShapeDefaults(), spansPerTrace: config.spansPerTrace });
const logBuilder = new LogBatchBuilder(identity, logShapeDefaults());
const metricShape = { series: SERIES, intervalMs: INTERVAL_MS };
const metricTimeline = {
  startMs: START_MS,
  profile: { kind: 'constant' },
  rate: Math.max(1, Math.round(RATES.metrics)),
  durationMs: DURATION_MS,
};
const metricBuilder = new MetricBatchBuilder(identity, metricShape, (tick) =>
  tickTimeMs(tick, metricShape, metricTimeline),
);

export function traces() {
  traceIteration(traceBuilder, exec.scenario.iterationInTest);
}

export function metrics() {
  itemIteration('metrics', (first, count) => metricBuilder.build(first, count).body, exec.scenario.iterationInTest);
}

export function logs() {
  itemIteration(
    'logs',
    (first, count) => logBuilder.build(first, count, Date.now()).body,
    exec.scenario.iterationInTest,
  );
}

export function teardown() {}

export function handleSummary(data) {
  return summary(data, 'mixed');
}
