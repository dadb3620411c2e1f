// Intent: a step profile for autoscaling tests — the trace arrival rate climbs in STEPS equal steps up
// to RATE spans/s, each step reached in STEP_RAMP and held for the rest of its share of DURATION, so a
// Horizontal Pod Autoscaler sees sustained plateaus it must react to (scale-up lag, refusals per step).
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

const RATE = numberEnv('RATE', 1000);
const STEPS = numberEnv('STEPS', 4);
const STEP_SECONDS = numberEnv('STEP_SECONDS', 60);
const STEP_RAMP = env('STEP_RAMP', '5s');

const STAGES = [];
for (let step = 1; step <= STEPS; step++) {
  const target = (RATE * step) / STEPS; // spans/s
  STAGES.push({ target, duration: STEP_RAMP }, { target, duration: `${STEP_SECONDS}s` });
}

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
  return summary(data, 'steps');
}
