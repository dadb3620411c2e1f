// Intent: a step profile for autoscaling tests — the trace arrival rate climbs in STEPS equal steps up
// to RATE spans/s, each step reached in STEP_RAMP and held for the rest of its share of DURATION, so a
// Horizontal Pod Autoscaler sees sustained plateaus it must react to (scale-up lag, refusals per step).
import exec from 'k6/execution';
import { TraceBatchBuilder, traceShapeDefaults } from '../dist/generators/index.js';
import { commonThresholds, config, env, numberEnv, post, summary, vusFor } from './lib/harness.js';

const RATE = numberEnv('RATE', 1000);
const STEPS = numberEnv('STEPS', 4);
const STEP_SECONDS = numberEnv('STEP_SECONDS', 60);
const STEP_RAMP = env('STEP_RAMP', '5s');
const TRACES_PER_ITERATION = Math.max(1, Math.round(config.batch / config.spansPerTrace));
const TOP = RATE / (TRACES_PER_ITERATION * config.spansPerTrace); // iterations/s at the last step

const stages = [];
for (let step = 1; step <= STEPS; step++) {
  const target = Math.max(1, Math.round((TOP * step) / STEPS));
  stages.push({ target, duration: STEP_RAMP }, { target, duration: `${STEP_SECONDS}s` });
}

export const options = {
  scenarios: {
    traces: {
      executor: 'ramping-arrival-rate',
      exec: 'traces',
      startRate: 0,
      timeUnit: '1s',
      stages,
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
  return summary(data, 'steps');
}
