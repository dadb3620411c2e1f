import type { CapacityOptions } from '../capacity/capacity-options.js';
import type { SoakOptions } from '../soak/soak-options.js';
import type { ResolvedStack, startStack } from '../stack/stack-options.js';
import type { runLoadStep } from '../step/load-step.js';
import type { GateOptions } from './gate-options.js';
import type { GateChecks } from './gate-preflight.js';

/** What a gate runs: both arms' stacks, the load every trial offers, and the gate's own options. */
export interface GatePlan {
  baseline: ResolvedStack;
  candidate: ResolvedStack;
  /** The load every trial offers (rate, duration, signals, shape). */
  soak: SoakOptions;
  options: GateOptions;
  /** With `--at-knee-fraction`: the capacity search that finds the baseline's knee before the trials. */
  knee?: CapacityOptions;
}

/** What a gate calls to check, boot and load (tests pass fakes). */
export interface GateDeps {
  checks: GateChecks;
  startStack: typeof startStack;
  runLoadStep: typeof runLoadStep;
}
