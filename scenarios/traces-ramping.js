// Intent: ramp the OTLP trace arrival rate linearly from 0 to RATE spans/s over RAMP, then hold it until
// DURATION — the ramping-arrival-rate executor, for finding where a stack starts to push back.
import exec from 'k6/execution';
import { TraceBatchBuilder, traceShapeDefaults } from '../dist/generators/index.js';
import {
  commonThresholds,
  config,
  env,
  newTraceBuilder,
  numberEnv,
  rampingArrival,
  summary,
  traceIteration,
  tracesPerIteration,
} from './lib/harness.js';

const RATE = numberEnv('RATE', 1000); // spans per second at the top
const RAMP = env('RAMP', '30s');
const HOLD = env('HOLD', '30s');
const STAGES = [
  { target: RATE, duration: RAMP }, // ramp up (spans/s)
  { target: RATE, duration: HOLD }, // hold
];

export const options = {
  scenarios: {
    traces: rampingArrival('traces', STAGES, tracesPerIteration * config.spansPerTrace),
  },
  thresholds: { ...commonThresholds },
};

const builder = newTraceBuilder(TraceBatchBuilder, traceShapeDefaults);

export function traces() {
  traceIteration(builder, exec.scenario.iterationInTest);
}

export function teardown() {}

export function handleSummary(data) {
  return summary(data, 'traces-ramping');
}
