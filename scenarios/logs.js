// Intent: hold a constant arrival rate of OTLP log records (RATE records/s) against a collector. Every
// line is unique (run id and seq in the body) — Loki drops identical lines — so otel-harness can count
// each acknowledged record with LogQL.
import exec from 'k6/execution';
import { LogBatchBuilder, logShapeDefaults } from '../dist/generators/index.js';
import { commonThresholds, config, constantArrival, env, itemIteration, numberEnv, summary } from './lib/harness.js';

const RATE = numberEnv('RATE', 1000);

export const options = {
  scenarios: { logs: constantArrival('logs', RATE, config.batch) },
  thresholds: { ...commonThresholds },
};

const builder = new LogBatchBuilder(
  { runId: config.runId, serviceName: config.serviceName },
  { ...logShapeDefaults(), bodyBytes: numberEnv('LOG_BODY_BYTES', 200), severityText: env('LOG_SEVERITY', 'INFO') },
);

export function logs() {
  itemIteration('logs', (first, count) => builder.build(first, count, Date.now()).body, exec.scenario.iterationInTest);
}

export function teardown() {}

export function handleSummary(data) {
  return summary(data, 'logs');
}
