// Intent: ramp the OTLP trace arrival rate linearly from 0 to RATE spans/s over RAMP, then hold it until
// DURATION — the ramping-arrival-rate executor, for finding where a stack starts to push back.
import exec from 'k6/execution';
import { TraceBatchBuilder, traceShapeDefaults } from '../dist/generators/index.js';
import { commonThresholds, config, env, numberEnv, post, summary, vusFor } from './lib/harness.js';

const RATE = numberEnv('RATE', 1000); // spans per second at the top
const RAMP = env('RAMP', '30s');
const HOLD = env('HOLD', '30s');
const TRACES_PER_ITERATION = Math.max(1, Math.round(config.batch / config.spansPerTrace));
const TOP = Math.max(1, Math.round(RATE / (TRACES_PER_ITERATION * config.spansPerTrace))); // iterations/s

export const options = {
  scenarios: {
    traces: {
      executor: 'ramping-arrival-rate',
      exec: 'traces',
      startRate: 0,
      timeUnit: '1s',
      stages: [
        { target: TOP, duration: RAMP }, // ramp up
        { target: TOP, duration: HOLD }, // hold
      ],
      preAllocatedVUs: vusFor(TOP),
      maxVUs: config.maxVUs,
    },
  },
  thresholds: { ...commonThresholds },
};

const builder = new TraceBatchBuilder(
  { runId: config.runId, serviceName: config.serviceName },
  { ...traceShapeDefaults(), spansPerTrace: config.spansPerTrace },
);

export function traces() {
  const first = exec.scenario.iterationInTest * TRACES_PER_ITERATION;
  post(
    'traces',
    first,
    TRACES_PER_ITERATION,
    config.spansPerTrace,
    builder.build(first, TRACES_PER_ITERATION, Date.now()).body,
  );
}

export function teardown() {}

export function handleSummary(data) {
  return summary(data, 'traces-ramping');
}
