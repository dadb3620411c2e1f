import type { KubeClient } from '../../k8s/kube-client.js';
import type { ContainerLogWriter } from '../files/container-log-writer.js';
import type { ScrapeTargets } from '../scrape/scrape-targets.js';
import type { MetricTimeline } from '../../../generators/index.js';
import type { Ledger, Signal } from '../ledger.js';
import type { LiveCounters } from '../live-counters.js';
import type { LoadSpec } from '../load-spec.js';
import type { TlsSettings } from '../otlp/transport.js';
import type { SchedulerReport } from '../open-model-scheduler.js';
import type { K6Summary } from './k6/k6-results.js';

/** Where load goes: the stack's ingest endpoints. */
export interface Ingest {
  otlpHttp: string;
  otlpGrpc: string | undefined;
  headers: Record<string, string>;
  /** TLS to an https OTLP endpoint (drivers whose capabilities say `tls`). */
  tls?: TlsSettings;
  /**
   * Behind an L4 balancer (a Kubernetes Service): how many connections to open and how many requests each
   * carries before it is replaced, so that load spreads over replicas that appear while it runs.
   */
  connections?: { connections: number; requestsPerConnection: number };
  /** A Kubernetes cluster that can run the load on its own pods (k6-operator TestRuns). */
  cluster?: ClusterEngine;
  /** `--log-source file`: log records go as lines into this container log, which the stack's agent reads. */
  logFiles?: ContainerLogWriter;
  /** `--metric-source scrape`: metric samples are served by these targets, which the stack's scraper scrapes. */
  scrapeTargets?: ScrapeTargets;
}

/** Where a TestRun goes: the cluster, its namespace, the ingest endpoint as pods reach it, the images. */
export interface ClusterEngine {
  client: KubeClient;
  namespace: string;
  /** OTLP/HTTP base URL as the cluster's pods reach it (a Service address). */
  otlpHttp: string;
  /** The k6 image of the initializer and the runners. */
  runnerImage: string;
  /** The image of the starter Job (sh and curl); the operator's default when undefined. */
  starterImage: string | undefined;
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
  /**
   * The load's first request goes out now (a driver whose start waits for something else, e.g. the
   * cluster starting its runners): observers and the load's clock start here. Called at most once; a
   * driver that does not call it starts when `drive` is called.
   */
  onLoadStart?: (atMs: number) => void;
}

/** What a k6 run left behind, for the report. */
export interface K6RunReport {
  scenario: string;
  binary: string;
  exitCode: number;
  summary: K6Summary | undefined;
  /** End of k6's own output. */
  outputTail: string[];
  /** A TestRun on a cluster: each runner's pod, its iterations per its summary, and the points read back. */
  runners?: { pod: string; iterations: number | undefined; pointsRead: number; exitCode: number | undefined }[];
}

export interface DriveOutcome {
  reports: Map<Signal, SchedulerReport>;
  k6?: K6RunReport;
  /**
   * Why the ledger may not hold every request that was sent (a runner's output not read in full): those
   * signals' verification cannot be a census and is inconclusive.
   */
  ledgerGaps?: Partial<Record<Signal, string>>;
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

/** A driver with nothing to prepare or dispose of: its name and how it drives. */
export function inProcessDriver(name: string, drive: (input: DriveInput) => Promise<DriveOutcome>): LoadDriver {
  return { name, prepare: () => Promise.resolve(), drive, dispose: () => Promise.resolve() };
}
