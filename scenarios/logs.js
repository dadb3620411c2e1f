// Intent: hold a constant arrival rate of OTLP log records (RATE records/s) against a collector. Every
// line is unique (run id and seq in the body) — Loki drops identical lines — so otel-harness can count
// each acknowledged record with LogQL.
import exec from 'k6/execution';
import { LogBatchBuilder, logShapeDefaults } from '../dist/generators/index.js';
import { arrivalRate, commonThresholds, config, env, numberEnv, post, summary, vusFor } from './lib/harness.js';

const RATE = numberEnv('RATE', 1000);
const arrival = arrivalRate(RATE, config.batch);

export const options = {
  scenarios: {
    logs: {
      executor: 'constant-arrival-rate',
      exec: 'logs',
      rate: arrival.rate,
      timeUnit: arrival.timeUnit,
      duration: config.duration,
      preAllocatedVUs: vusFor(RATE / config.batch),
      maxVUs: config.maxVUs,
    },
  },
  thresholds: { ...commonThresholds },
};

const builder = new LogBatchBuilder(
  { runId: config.runId, serviceName: config.serviceName },
  { ...logShapeDefaults(), bodyBytes: numberEnv('LOG_BODY_BYTES', 200), severityText: env('LOG_SEVERITY', 'INFO') },
);

export function logs() {
  const first = exec.scenario.iterationInTest * config.batch;
  post('logs', first, config.batch, 1, builder.build(first, config.batch, Date.now()).body);
}

export function teardown() {}

export function handleSummary(data) {
  return summary(data, 'logs');
}
