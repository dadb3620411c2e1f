import { restartFromStore, type StoreHandoverMode, type StoreRestart } from '../object-store.js';
import { createHash } from 'node:crypto';
import type { StartedTestContainer } from 'testcontainers';
import type { DockerEngine } from '../../docker/docker-engine.js';
import type { DrainCondition } from '../../drain/drain.js';
import type { Signal } from '../../load/ledger.js';
import { containerLogLines } from '../../observe/collector-log.js';
import { usageFromStats, type DockerStats } from '../../observe/resource-sampler.js';
import { collectorConditions } from '../collector-drain.js';
import type {
  BackendBinding,
  CollectorRole,
  Endpoint,
  FaultTarget,
  ResourceSource,
  StackDescription,
  StackEndpoints,
  StartedStack,
} from '../stack.js';
import { removeHarnessResources, type RemovedResources } from './cleanup.js';
import type { BackendService, PublishedPort, ServiceDefinition, StackDefinition } from './stack-definition.js';

export interface StartedService {
  definition: ServiceDefinition;
  container: StartedTestContainer;
  image: string;
  /** Seconds from container creation to readiness. */
  readySeconds: number;
}

/** The seeds' batch processor flushes after 5 s; drain looks must be further apart to see it. */

/**
 * A stack booted here on Docker. It exposes roles (ingest, collectors, a backend per signal, faults,
 * resources) computed from its definition; disposing it removes every container, network and volume of
 * its run.
 */
export class DockerStack implements StartedStack {
  private stopped: Promise<RemovedResources> | undefined;
  readonly faults: FaultTarget;
  readonly resources: ResourceSource;

  constructor(
    readonly runId: string,
    readonly definition: StackDefinition,
    readonly network: string,
    private readonly running: Map<string, StartedService>,
    readonly bootSeconds: number,
    private readonly engine: DockerEngine,
    private readonly extra: {
      manifestHash: string | undefined;
      versions: Record<string, string>;
      launch?: (service: ServiceDefinition) => Promise<StartedService>;
    },
  ) {
    this.faults = new DockerFaults(this);
    this.resources = {
      names: () => [...this.services.keys()],
      read: async (name) => {
        const id = this.services.get(name)?.container.getId();
        if (id === undefined) return undefined;
        try {
          const stats = (await this.engine.dockerode
            .getContainer(id)
            .stats({ stream: false })) as unknown as DockerStats;
          return usageFromStats(stats);
        } catch {
          return undefined; // gone (e.g. killed by a chaos action): no reading now
        }
      },
      cpuLimits: async () => {
        const out: Record<string, number> = {};
        await Promise.all(
          [...this.services].map(async ([name, s]) => {
            const nano = await this.engine.dockerode
              .getContainer(s.container.getId())
              .inspect()
              .then((i) => i.HostConfig.NanoCpus ?? 0)
              .catch(() => 0);
            if (nano > 0) out[name] = nano / 1e9;
          }),
        );
        return out;
      },
    };
  }

  get services(): ReadonlyMap<string, StartedService> {
    return this.running;
  }

  /** Starts one more service of the run (scaling a role up), ready when its readiness check passes. */
  async addService(service: ServiceDefinition): Promise<StartedService> {
    if (this.extra.launch === undefined) throw new Error(`${this.title} cannot start services after boot`);
    if (this.running.has(service.name)) throw new Error(`${this.title} already runs '${service.name}'`);
    const started = await this.extra.launch(service);
    this.running.set(service.name, started);
    return started;
  }

  /** `--verify-from-store`: see restartFromStore in ../object-store.ts. */
  restartFromStore(
    mode: StoreHandoverMode,
    backends: readonly string[],
    progress: (message: string) => void,
  ): Promise<StoreRestart[]> {
    return restartFromStore(this, mode, backends, progress);
  }

  /** Stops (SIGTERM, then SIGKILL after `graceSeconds`) and removes one service (scaling a role down). */
  async removeService(name: string, graceSeconds: number): Promise<void> {
    const service = this.service(name);
    const container = this.engine.dockerode.getContainer(service.container.getId());
    await container.stop({ t: graceSeconds }).catch(() => undefined);
    await container.remove({ force: true, v: true });
    this.running.delete(name);
  }

  get topology(): string {
    return this.definition.topology;
  }

  get title(): string {
    return this.definition.title;
  }

  get dockerode(): DockerEngine['dockerode'] {
    return this.engine.dockerode;
  }

  service(name: string): StartedService {
    const service = this.services.get(name);
    if (service === undefined) throw new Error(`stack ${this.definition.title} has no service '${name}'`);
    return service;
  }

  /** Host port (on 127.0.0.1) where `service`'s `containerPort` is published. */
  hostPort(service: string, containerPort: number): number {
    return this.service(service).container.getMappedPort(containerPort);
  }

  /** `http://127.0.0.1:<port>` of a service's published HTTP port. */
  url(service: string, containerPort: number): string {
    return `http://127.0.0.1:${this.hostPort(service, containerPort)}`;
  }

  /** Whether a service's container is running, and its exit code when it is not. */
  async containerState(name: string): Promise<{ running: boolean; exitCode: number }> {
    const info = await this.engine.dockerode.getContainer(this.service(name).container.getId()).inspect();
    return { running: info.State.Running, exitCode: info.State.ExitCode };
  }

  async exitedServices(): Promise<{ name: string; exitCode: number; container: string }[]> {
    const out: { name: string; exitCode: number; container: string }[] = [];
    for (const [name, service] of this.running) {
      const state = await this.containerState(name).catch(() => undefined);
      if (state !== undefined && !state.running)
        out.push({ name, exitCode: state.exitCode, container: service.container.getName().replace(/^\//, '') });
    }
    return out;
  }

  /** The effective configuration file of a service (its first file). */
  configOf(name: string): string | undefined {
    return this.services.get(name)?.definition.files[0]?.content;
  }

  endpointList(): Endpoint[] {
    const list: Endpoint[] = [];
    for (const [name, service] of this.services) {
      for (const port of service.definition.ports) {
        list.push({ service: name, label: port.label, address: this.address(name, port) });
      }
    }
    return list;
  }

  private address(service: string, port: PublishedPort): string {
    const hostPort = this.hostPort(service, port.container);
    return port.scheme === 'grpc' ? `127.0.0.1:${hostPort}` : `http://127.0.0.1:${hostPort}${port.path ?? ''}`;
  }

  endpoints(): StackEndpoints {
    const d = this.definition;
    const collectors: CollectorRole[] = d.collectors.map((c) => ({
      name: c.service,
      role: c.role,
      metricsUrl: `${this.url(c.service, c.metricsPort)}/metrics`,
      config: this.configOf(c.service),
      exportsToBackends: c.exportsToBackends,
    }));
    const binding = (b: BackendService): BackendBinding => ({
      backend: b.backend,
      endpoint: {
        query: this.url(b.service, b.queryPort),
        ...(b.metrics === undefined ? {} : { metrics: `${this.url(b.service, b.metrics.port)}${b.metrics.path}` }),
      },
    });
    const backends: StackEndpoints['backends'] = {};
    for (const [signal, b] of Object.entries(d.backends) as [Signal, BackendService][]) backends[signal] = binding(b);
    const upstream: NonNullable<StackEndpoints['upstream']> = {};
    for (const [signal, b] of Object.entries(d.upstream ?? {}) as [Signal, BackendService & { hop: string }][])
      upstream[signal] = { ...binding(b), hop: b.hop };
    const counted = d.services.flatMap((s) =>
      s.counters === undefined || !this.running.has(s.name)
        ? []
        : [
            {
              name: s.name,
              metricsUrl: `${this.url(s.name, s.counters.port)}${s.counters.path}`,
              specs: s.counters.specs,
            },
          ],
    );
    return {
      otlpHttp: this.url(d.ingest.http.service, d.ingest.http.port),
      otlpGrpc:
        d.ingest.grpc === undefined
          ? undefined
          : `127.0.0.1:${this.hostPort(d.ingest.grpc.service, d.ingest.grpc.port)}`,
      otlpHeaders: {},
      collectors,
      backends,
      ...(Object.keys(upstream).length === 0 ? {} : { upstream }),
      ...(counted.length === 0 ? {} : { counted }),
    };
  }

  drainConditions(signals: readonly Signal[]): DrainCondition[] {
    return collectorConditions(this.endpoints().collectors, signals, (name) => this.logs(name));
  }

  describe(): StackDescription {
    const images = Object.fromEntries([...this.services].map(([name, s]) => [name, s.image]));
    const configHashes: Record<string, string> = {};
    for (const c of this.definition.collectors) {
      const config = this.configOf(c.service);
      if (config !== undefined) configHashes[c.service] = createHash('sha256').update(config).digest('hex');
    }
    return {
      topology: this.definition.topology,
      title: this.definition.title,
      images,
      versions: this.extra.versions,
      configHashes,
      manifestHash: this.extra.manifestHash,
      bootSeconds: this.bootSeconds,
    };
  }

  async logs(component: string): Promise<string[]> {
    const id = this.services.get(this.faults.resolve(component))?.container.getId();
    if (id === undefined) return [];
    return containerLogLines(this.engine.dockerode, id).catch(() => []);
  }

  /** Removes everything of this run (idempotent). */
  removeAll(): Promise<RemovedResources> {
    this.stopped ??= removeHarnessResources(this.engine, this.runId);
    return this.stopped;
  }

  async stop(): Promise<void> {
    await this.removeAll();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Faults on the stack's containers through the Docker API. */
class DockerFaults implements FaultTarget {
  constructor(private readonly stack: DockerStack) {}

  targets(): readonly string[] {
    return [...Object.keys(this.stack.definition.aliases), ...this.stack.services.keys()];
  }

  resolve(target: string): string {
    const service = this.stack.definition.aliases[target] ?? target;
    if (!this.stack.services.has(service)) {
      throw new Error(`no fault target '${target}' in ${this.stack.title} (targets: ${this.targets().join(', ')})`);
    }
    return service;
  }

  private container(target: string) {
    return this.stack.dockerode.getContainer(this.stack.service(this.resolve(target)).container.getId());
  }

  async kill(target: string): Promise<void> {
    const c = this.container(target);
    await c.kill({ signal: 'SIGKILL' });
    await c.wait();
  }

  async stop(target: string, graceSeconds: number): Promise<void> {
    await this.container(target).stop({ t: graceSeconds });
  }

  async start(target: string): Promise<void> {
    await this.container(target).start();
  }

  async pause(target: string): Promise<void> {
    await this.container(target).pause();
  }

  async unpause(target: string): Promise<void> {
    await this.container(target).unpause();
  }

  async disconnect(target: string): Promise<void> {
    const service = this.stack.service(this.resolve(target));
    await this.stack.dockerode
      .getNetwork(this.stack.network)
      .disconnect({ Container: service.container.getId(), Force: true });
  }

  async connect(target: string): Promise<void> {
    const service = this.stack.service(this.resolve(target));
    await this.stack.dockerode.getNetwork(this.stack.network).connect({
      Container: service.container.getId(),
      EndpointConfig: { Aliases: service.definition.aliases },
    });
  }

  async throttle(target: string, cpus: number): Promise<number> {
    const c = this.container(target);
    const previous = ((await c.inspect()).HostConfig.NanoCpus ?? 0) / 1e9;
    await c.update({ NanoCpus: Math.round(cpus * 1e9) });
    return previous;
  }

  async ready(target: string): Promise<boolean> {
    const name = this.resolve(target);
    const { readiness } = this.stack.service(name).definition;
    const url = `${this.stack.url(name, readiness.port)}${readiness.path}`;
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await r.body?.cancel();
      return r.status === 200;
    } catch {
      return false;
    }
  }
}
