import type { MetricTimeline } from '../../../generators/index.js';
import type { Ledger, Signal } from '../ledger.js';
import type { LiveCounters } from '../live-counters.js';
import type { LoadSpec } from '../load-spec.js';
import type { SchedulerReport } from '../open-model-scheduler.js';
import type { K6Summary } from './k6/k6-results.js';

/** Where load goes: the stack's ingest endpoints. */
export interface Ingest {
  otlpHttp: string;
  otlpGrpc: string | undefined;
  headers: Record<string, string>;
  /**
   * Behind an L4 balancer (a Kubernetes Service): how many connections to open and how many requests each
   * carries before it is replaced, so that load spreads over replicas that appear while it runs.
   */
  connections?: { connections: number; requestsPerConnection: number };
}

export interface DriveInput {
  runId: string;
  serviceName: string;
  spec: LoadSpec;
  ingest: Ingest;
  ledger: Ledger;
  live: LiveCounters;
  abort: AbortSignal;
  /** The metric samples' clock (started when the load starts). */
  metricTimeline: MetricTimeline;
  progress: (message: string) => void;
  /** A generator subprocess started (k6): counted as the generator in the resource report. */
  onGeneratorProcess?: (pid: number, label: string, cores: number) => void;
}

/** What a k6 run left behind, for the report. */
export interface K6RunReport {
  scenario: string;
  binary: string;
  exitCode: number;
  summary: K6Summary | undefined;
  /** End of k6's own output. */
  outputTail: string[];
}

export interface DriveOutcome {
  reports: Map<Signal, SchedulerReport>;
  k6?: K6RunReport;
}

/**
 * A load generator: native (pre-built OTLP protobuf over HTTP), sdk (the OpenTelemetry JS SDK over OTLP
 * gRPC) or k6 (scenarios/ as a subprocess). Every one writes each batch's answer into the ledger.
 */
export interface LoadDriver {
  readonly name: string;
  /** Before anything starts: tools built, scripts loaded (bad input → exit 2). */
  prepare(spec: LoadSpec, runId: string, serviceName: string, progress: (m: string) => void): Promise<void>;
  drive(input: DriveInput): Promise<DriveOutcome>;
  /** Removes what prepare made (temporary files). */
  dispose(): Promise<void>;
}
