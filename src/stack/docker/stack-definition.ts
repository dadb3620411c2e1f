import type { CounterSpec } from '../../observe/backend-counters.js';
import type { Signal } from '../../load/ledger.js';

/**
 * Declarative description of a stack: what to run, wired how, ready when, and which service plays which
 * role (ingest, collectors, a backend per signal). Booted by boot.ts; exposed as roles by DockerStack.
 */

export interface PublishedPort {
  container: number;
  /** Shown in the endpoint list, e.g. 'OTLP gRPC'. */
  label: string;
  scheme: 'http' | 'grpc';
  /** Path appended to the URL in the endpoint list. */
  path?: string;
  /** Host port used with `--ports standard` (the seed's port); without it the port is always random. */
  standardHostPort?: number;
  /**
   * Published on the same host port as its container port, whatever the port mode: for a service that
   * advertises its own address (Kafka's EXTERNAL listener), the definition picks a free port for both.
   */
  sameOnHost?: boolean;
}

/** What a service's after-ready step can use: its published addresses and the progress line. */
export interface ReadyContext {
  /** Host port (127.0.0.1) of a container port. */
  hostPort(containerPort: number): number;
  progress(message: string): void;
  signal: AbortSignal | undefined;
}

export interface VolumeMount {
  /** Volume name within the run (the Docker volume is `<runId>-<name>`). */
  name: string;
  target: string;
  /** `uid:gid` the mount point must belong to; set before the service starts (init step). */
  owner?: string;
}

export interface ConfigFile {
  target: string;
  content: string;
}

export interface Readiness {
  port: number;
  path: string;
  timeoutMs: number;
}

export interface ServiceDefinition {
  /** Role in the stack, e.g. 'otelcol', 'loki'. */
  name: string;
  /** Catalog component providing the image. */
  component: string;
  /** DNS names on the run's network (the seed's service names). */
  aliases: string[];
  command?: string[];
  env: Record<string, string>;
  files: ConfigFile[];
  volumes: VolumeMount[];
  ports: PublishedPort[];
  readiness: Readiness;
  /**
   * Runs once the readiness check passed, before dependent services start (e.g. Kafka's topics created
   * and its metadata answered). A failure fails the boot like a readiness time-out, with the service's logs.
   */
  afterReady?: (ctx: ReadyContext) => Promise<void>;
  /** Counters of its own the report gives as deltas over the run (the object store's requests and bytes). */
  counters?: { port: number; path: string; specs: readonly CounterSpec[] };
  resources?: { memoryGiB: number; cpu: number };
  /**
   * Runs a container runtime and kubelet inside (the Phase 3 node): every capability the engine can grant,
   * no seccomp/AppArmor confinement, /proc and /sys unmasked, the host's cgroup tree writable, /dev/kmsg,
   * tmpfs /run. Not `--privileged`: hosts whose own bounding set lacks a capability (CAP_SYS_RESOURCE in
   * some microVMs) refuse that outright.
   */
  nestedRuntime?: { dropCapabilities: string[] };
  /** Host directories mounted into the container (read-only when `readOnly`). */
  hostMounts?: { source: string; target: string; readOnly: boolean }[];
  /** Services that must be ready first. */
  dependsOn: string[];
}

/** A service port by role. */
export interface ServicePort {
  service: string;
  port: number;
}

export interface StackDefinition {
  phase: number;
  /** Topology name, e.g. 'phase1'. */
  topology: string;
  /** Human summary, e.g. 'Phase 1 (traces: tempo)'. */
  title: string;
  services: ServiceDefinition[];
  /** Where generated load enters: OTLP/HTTP, and OTLP/gRPC when offered. */
  ingest: { http: ServicePort; grpc?: ServicePort };
  /** Collectors by role, with their self-metrics port. */
  collectors: { service: string; role: string; metricsPort: number; exportsToBackends: boolean }[];
  /** The backend storing each signal (a src/verify/backends registry name) and its ports. */
  backends: Partial<Record<Signal, BackendService>>;
  /**
   * A store on a signal's path before its backend that holds the same items (seed 004: Prometheus, which
   * remote-writes to Mimir): asked, where the backend lacks items, which of them got that far.
   */
  upstream?: Partial<Record<Signal, BackendService & { hop: string }>>;
  /** Fault-target aliases → service (e.g. collector → otelcol, traces → jaeger). */
  aliases: Record<string, string>;
  /** Component → version of what the definition runs. */
  versions: Record<string, string>;
}

/** A service that stores a signal: its registry name, its query port and its own /metrics. */
export interface BackendService {
  service: string;
  backend: string;
  queryPort: number;
  metrics?: { port: number; path: string };
}

/** A backend whose API and /metrics share a port (Tempo, Loki, Prometheus, Mimir), under its own service name. */
export function backendService(name: string, port: number): BackendService {
  return { service: name, backend: name, queryPort: port, metrics: { port, path: '/metrics' } };
}

/** Orders services into layers: each layer depends only on earlier ones. Throws on unknown deps or cycles. */
export function bootLayers(services: readonly ServiceDefinition[]): ServiceDefinition[][] {
  const byName = new Map(services.map((s) => [s.name, s]));
  for (const s of services) {
    for (const dep of s.dependsOn) {
      if (!byName.has(dep)) throw new Error(`service ${s.name} depends on unknown service ${dep}`);
    }
  }
  const layers: ServiceDefinition[][] = [];
  const placed = new Set<string>();
  while (placed.size < services.length) {
    const layer = services.filter((s) => !placed.has(s.name) && s.dependsOn.every((d) => placed.has(d)));
    if (layer.length === 0) {
      const left = services.filter((s) => !placed.has(s.name)).map((s) => s.name);
      throw new Error(`dependency cycle among services: ${left.join(', ')}`);
    }
    for (const s of layer) placed.add(s.name);
    layers.push(layer);
  }
  return layers;
}
