import type { LogShape, MetricShape, MetricTimeline, TraceShape } from '../../generators/index.js';
import type { Signal } from './ledger.js';
import type { RateProfile } from './rate-profile.js';
import type { Transport } from './otlp/transport.js';

import { capabilitiesOf, type DriverName } from './drivers/capabilities.js';

export { DRIVERS, type DriverName } from './drivers/capabilities.js';

/** One signal's offered load. */
export interface SignalPlan {
  signal: Signal;
  /** Offered items/s. */
  rateRps: number;
  /** Sequence units/s (traces/s for traces). */
  unitRate: number;
  itemsPerUnit: number;
  batchUnits: number;
}

/** What to offer, with which driver and shapes: everything a driver needs, nothing about the stack. */
export interface LoadSpec {
  driver: DriverName;
  /** k6 scenario (--driver k6). */
  scenario: string;
  /** A k6 binary to use instead of the one built here. */
  k6Path: string | undefined;
  /** Runners of a k6-operator TestRun (--driver k6-operator): k6 execution segments. */
  k6Parallelism: number;
  signals: SignalPlan[];
  traceShape: TraceShape;
  logShape: LogShape;
  metricShape: MetricShape;
  profile: RateProfile;
  durationMs: number;
  batchItems: number;
  maxInFlight: number;
  /** Connections or HTTP/2 sessions to the OTLP endpoint (--connections); the driver's default when absent. */
  connections?: number;
  requestTimeoutMs: number;
  /** OTLP protocol and compression (the native driver; the others speak their own). */
  transport: Transport;
}

/** The metric timeline of a load started at `startMs` (k6's metric scenarios run a constant, whole rate). */
export function metricTimelineOf(spec: LoadSpec, startMs: number): MetricTimeline {
  const rate = spec.signals.find((s) => s.signal === 'metrics')?.rateRps ?? 1;
  return capabilitiesOf(spec.driver).k6Scenario
    ? { startMs, profile: { kind: 'constant' }, rate: Math.max(1, Math.round(rate)), durationMs: k6DurationMs(spec) }
    : { startMs, profile: spec.profile, rate, durationMs: spec.durationMs };
}

/** k6 runs whole seconds (its DURATION), at least one. */
export function k6DurationMs(spec: LoadSpec): number {
  return Math.max(1, Math.round(spec.durationMs / 1000)) * 1000;
}
