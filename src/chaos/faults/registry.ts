import type { FaultKind } from './fault-kind.js';
import { kill } from './kill.js';
import { outage } from './outage.js';
import { partition } from './partition.js';
import { pause } from './pause.js';
import { restart } from './restart.js';
import { scale } from './scale.js';
import { throttle } from './throttle.js';

/** Every fault a run can inject, by action. Adding one is one module and a line here. */
export const FAULTS: Readonly<Record<string, FaultKind>> = Object.fromEntries(
  [kill, restart, pause, partition, outage, throttle, scale].map((f) => [f.action, f]),
);

export const CHAOS_ACTIONS: readonly string[] = Object.keys(FAULTS);
