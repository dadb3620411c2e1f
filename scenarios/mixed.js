// Intent: a soak of all three signals at once — traces (RATE_TRACES spans/s), metrics (RATE_METRICS
// points/s) and logs (RATE_LOGS records/s), each its own constant-arrival-rate scenario with its own
// sequence numbers — as a production service mix would send them.
import exec from 'k6/execution';
import {
  LogBatchBuilder,
  logShapeDefaults,
  MetricBatchBuilder,
  TraceBatchBuilder,
  traceShapeDefaults,
} from '../dist/generators/index.js';
import { arrivalRate, commonThresholds, config, numberEnv, post, summary, vusFor } from './lib/harness.js';

const RATES = {
  traces: numberEnv('RATE_TRACES', 400),
  metrics: numberEnv('RATE_METRICS', 300),
  logs: numberEnv('RATE_LOGS', 300),
};
const TRACES_PER_ITERATION = Math.max(1, Math.round(config.batch / config.spansPerTrace));
const INTERVAL_MS = numberEnv('METRIC_INTERVAL_MS', 5000);
const SERIES = numberEnv('SERIES', Math.max(1, Math.round((RATES.metrics * INTERVAL_MS) / 1000)));
const START_MS = numberEnv('METRIC_START_MS', Date.now());

function scenario(signal, itemsPerIteration) {
  const arrival = arrivalRate(RATES[signal], itemsPerIteration);
  return {
    executor: 'constant-arrival-rate',
    exec: signal,
    rate: arrival.rate,
    timeUnit: arrival.timeUnit,
    duration: config.duration,
    preAllocatedVUs: vusFor(RATES[signal] / itemsPerIteration),
    maxVUs: config.maxVUs,
  };
}

export const options = {
  scenarios: Object.fromEntries(
    [
      ['traces', TRACES_PER_ITERATION * config.spansPerTrace],
      ['metrics', config.batch],
      ['logs', config.batch],
    ]
      .filter(([signal]) => RATES[signal] > 0)
      .map(([signal, n]) => [signal, scenario(signal, n)]),
  ),
  thresholds: { ...commonThresholds },
};

const identity = { runId: config.runId, serviceName: config.serviceName };
const traceBuilder = new TraceBatchBuilder(identity, { ...traceShapeDefaults(), spansPerTrace: config.spansPerTrace });
const logBuilder = new LogBatchBuilder(identity, logShapeDefaults());
const metricBuilder = new MetricBatchBuilder(identity, { series: SERIES, intervalMs: INTERVAL_MS }, START_MS);

export function traces() {
  const first = exec.scenario.iterationInTest * TRACES_PER_ITERATION;
  post(
    'traces',
    first,
    TRACES_PER_ITERATION,
    config.spansPerTrace,
    traceBuilder.build(first, TRACES_PER_ITERATION, Date.now()).body,
  );
}

export function metrics() {
  const first = exec.scenario.iterationInTest * config.batch;
  post('metrics', first, config.batch, 1, metricBuilder.build(first, config.batch).body);
}

export function logs() {
  const first = exec.scenario.iterationInTest * config.batch;
  post('logs', first, config.batch, 1, logBuilder.build(first, config.batch, Date.now()).body);
}

export function teardown() {}

export function handleSummary(data) {
  return summary(data, 'mixed');
}
