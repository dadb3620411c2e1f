import type { CounterSpec } from '../observe/backend-counters.js';
import type { StoreHandoverMode, StoreRestart } from './object-store.js';
import type { ContainerLogWriter } from '../load/files/container-log-writer.js';
import type { ScrapeTargets } from '../load/scrape/scrape-targets.js';
import type { TlsSettings } from '../load/otlp/transport.js';
import type { ClusterEngine } from '../load/drivers/driver.js';
import type { DrainCondition } from '../drain/drain.js';
import type { ImageProgress } from '../images/image-builder.js';
import type { SeqRange, Signal } from '../load/ledger.js';
import type { LossCause } from '../verify/loss-evidence.js';
import type { BackendEndpoint } from '../verify/backends/backend.js';
import type {
  ContainerReading,
  ObservedLoad,
  ResourceSource,
  StackObservation,
  StackObserver,
} from '../observe/observer.js';

export type { ContainerReading, ObservedLoad, ResourceSource, StackObservation, StackObserver };

/**
 * The seam between what runs a stack (Docker, an attached stack, later Kubernetes) and what drives,
 * drains, faults and verifies it. Everything outside src/stack sees roles — ingest endpoints, collectors,
 * a backend per signal, drain conditions, fault targets, resource sources — never containers.
 */

/** One address of a stack, as `up` prints it. */
export interface Endpoint {
  service: string;
  label: string;
  /** `http://127.0.0.1:port/path` or `127.0.0.1:port` for gRPC. */
  address: string;
}

/** A collector of the stack, by role. */
export interface CollectorRole {
  /** e.g. 'otelcol', 'gateway-1', 'processor-2'. */
  name: string;
  /** e.g. 'collector' (Phase 1), 'gateway', 'processor'. */
  role: string;
  /** Its self-metrics (Prometheus text), when reachable. */
  metricsUrl: string | undefined;
  /** Its effective configuration (YAML), when known. */
  config: string | undefined;
  /** Whether its exporters deliver to the backends (their sent counters meet the backends' received ones). */
  exportsToBackends: boolean;
}

/** The backend that stores one signal: a registry name (src/verify/backends) and where it answers. */
export interface BackendBinding {
  /** 'tempo', 'jaeger', 'loki', 'prometheus', 'mimir'. */
  backend: string;
  endpoint: BackendEndpoint;
}

/** Where the harness sends load and asks questions. */
export interface StackEndpoints {
  /** OTLP/HTTP base URL, e.g. http://127.0.0.1:4318. */
  otlpHttp: string;
  /** host:port of OTLP/gRPC (the SDK driver), when the stack has one. */
  otlpGrpc: string | undefined;
  /** Headers on every OTLP request (OTEL_EXPORTER_OTLP_HEADERS, a tenant). */
  otlpHeaders: Record<string, string>;
  /** TLS to an https OTLP endpoint (CA, client certificate): attach mode. */
  otlpTls?: TlsSettings;
  /**
   * Behind an L4 balancer (a Kubernetes Service): how many connections to open and how many requests each
   * carries before it is replaced, so that load spreads over replicas that appear while it runs.
   */
  otlpConnections?: { connections: number; requestsPerConnection: number };
  /** A Kubernetes cluster that can run the load itself (--driver k6-operator), when the stack has one. */
  cluster?: ClusterEngine;
  collectors: CollectorRole[];
  backends: Partial<Record<Signal, BackendBinding>>;
  /**
   * A store on a signal's path before its backend that holds the same items (Prometheus before Mimir with
   * `--remote-write mimir`), and the hop between them (`prometheus → mimir (remote_write)`): where the backend
   * lacks items, the verifier asks it which of them got that far.
   */
  upstream?: Partial<Record<Signal, BackendBinding & { hop: string }>>;
  /**
   * `--log-source file`: log records are lines the harness writes to a container's log files, which the
   * stack's node agent reads (the writer's layout says where and in which format).
   */
  logFiles?: LogFileIngest;
  /** `--metric-source scrape`: metric samples are served by targets the stack's scraper scrapes. */
  scrapeTargets?: ScrapeTargets;
  /** Other components whose counters the report gives as deltas over the run (the object store's). */
  counted?: { name: string; metricsUrl: string; specs: readonly CounterSpec[] }[];
}

/** Container log files a node agent of the stack reads. */
export interface LogFileIngest {
  writer: ContainerLogWriter;
  /** The latency canaries' container log, beside the load's. */
  canary: ContainerLogWriter;
  /** The agent's name in the stack. */
  agent: string;
  /** The file's path as the agent sees it. */
  agentPath: string;
}

/** Faults the stack can take (chaos). Targets are role names: collector, jaeger, tempo, loki, prometheus, … */
export interface FaultTarget {
  /** Valid targets, and aliases (e.g. traces → jaeger). */
  targets(): readonly string[];
  resolve(target: string): string;
  kill(target: string): Promise<void>;
  /** Graceful stop (SIGTERM) with `graceSeconds` before SIGKILL. */
  stop(target: string, graceSeconds: number): Promise<void>;
  start(target: string): Promise<void>;
  pause(target: string): Promise<void>;
  unpause(target: string): Promise<void>;
  /** Cuts the target off the stack's network / restores it. */
  disconnect(target: string): Promise<void>;
  connect(target: string): Promise<void>;
  /** Limits CPUs (returns the previous limit, in CPUs; 0 = none). */
  throttle(target: string, cpus: number): Promise<number>;
  /** Whether the target answers its readiness check now. */
  ready(target: string): Promise<boolean>;
  /**
   * Resizes a scalable role (Phase 2: gateway, processor) to `count` instances while load runs, and waits
   * until the stack routes to / rebalanced onto the new set. Absent where a topology cannot scale.
   */
  scale?(role: string, count: number): Promise<{ started: string[]; removed: string[]; settledMs: number }>;
}

/** What ran, for the report: effective versions, config hashes, the collector manifest. */
export interface StackDescription {
  topology: string;
  title: string;
  /** Component → image reference (or 'external' for an attached stack). */
  images: Record<string, string>;
  /** Component → version (catalog, or the user's --image). */
  versions: Record<string, string>;
  /** Collector name → sha256 of its effective configuration. */
  configHashes: Record<string, string>;
  /** sha256 of the OCB manifest the collector was built from, when built here. */
  manifestHash: string | undefined;
  bootSeconds: number | undefined;
}

/** A running stack: booted here (Docker), attached (`--target`), or later on Kubernetes. */
export interface StartedStack extends AsyncDisposable {
  readonly runId: string;
  readonly topology: string;
  readonly title: string;
  describe(): StackDescription;
  endpoints(): StackEndpoints;
  /** The addresses as `up` lists them. */
  endpointList(): Endpoint[];
  /** What must hold before verification (queues empty, Kafka lag 0, …), for the given signals. */
  drainConditions(signals: readonly Signal[]): DrainCondition[];
  /** Observers of what only this topology has (Kafka lag), for the given signals; none by default. */
  observers?(signals: readonly Signal[]): StackObserver[];
  readonly faults: FaultTarget | undefined;
  readonly resources: ResourceSource | undefined;
  /** Services of this run whose container is no longer running (for `up` to warn once each). */
  exitedServices?(): Promise<{ name: string; exitCode: number; container: string }[]>;
  /**
   * What only this stack can say of a signal's absent items before its pipeline took them (log lines in
   * rotated files deleted before the agent read them); none by default.
   */
  lossCauses?(signal: Signal, runId: string, lost: readonly SeqRange[]): LossCause[];
  /** A component's recent log lines (e.g. the collector's, for the export-failure digest). */
  logs(component: string): Promise<string[]>;
  /**
   * `--verify-from-store`: the backends on object storage flush to it and start again with no local state;
   * what each did (none where the backends keep their data on local volumes).
   */
  restartFromStore?(
    mode: StoreHandoverMode,
    backends: readonly string[],
    progress: (message: string) => void,
  ): Promise<StoreRestart[]>;
  /** Removes everything the harness started (idempotent); an attached stack is left alone. */
  stop(): Promise<void>;
}

/** Builds and starts a stack, testcontainers style: `await using s = await topology.builder(o).withRunId(id).start()`. */
export interface StackBuilder {
  withRunId(runId: string): this;
  /** Component → version or image reference overrides (`--image`). */
  withImages(images: Readonly<Record<string, string>>): this;
  /** A user's collector configuration file for a collector role (`--collector-config [role=]FILE`). */
  withCollectorConfig(role: string, file: string): this;
  withProgress(progress: (message: string) => void, images?: ImageProgress): this;
  withAbortSignal(signal: AbortSignal): this;
  start(): Promise<StartedStack>;
}
