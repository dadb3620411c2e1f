import type { StartedTestContainer } from 'testcontainers';
import type { DockerEngine } from '../docker/docker-engine.js';
import { removeHarnessResources, type RemovedResources } from './cleanup.js';
import type { PublishedPort, ServiceDefinition, StackDefinition } from './stack-definition.js';

export interface StartedService {
  definition: ServiceDefinition;
  container: StartedTestContainer;
  image: string;
  /** Seconds from container creation to readiness. */
  readySeconds: number;
}

export interface Endpoint {
  service: string;
  label: string;
  /** `http://127.0.0.1:port/path` or `127.0.0.1:port` for gRPC. */
  address: string;
}

/** A booted stack. Disposing it removes every container, network and volume of its run. */
export class StartedStack implements AsyncDisposable {
  private stopped: Promise<RemovedResources> | undefined;

  constructor(
    readonly runId: string,
    readonly definition: StackDefinition,
    readonly network: string,
    readonly services: ReadonlyMap<string, StartedService>,
    readonly bootSeconds: number,
    private readonly engine: DockerEngine,
  ) {}

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

  endpoints(): Endpoint[] {
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

  /** Removes everything of this run (idempotent). */
  stop(): Promise<RemovedResources> {
    this.stopped ??= removeHarnessResources(this.engine, this.runId);
    return this.stopped;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
