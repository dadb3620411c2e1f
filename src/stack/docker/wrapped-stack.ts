import type { DrainCondition } from '../../drain/drain.js';
import type { Signal } from '../../load/ledger.js';
import type { Endpoint, FaultTarget, StackDescription, StackEndpoints, StackObserver, StartedStack } from '../stack.js';
import type { DockerStack } from './docker-stack.js';

/**
 * A topology's started stack built on the containers of a DockerStack (testcontainers'
 * AbstractStartedContainer pattern): everything is the containers' unless the topology says otherwise, so a
 * topology writes only what differs (its title, endpoints, drain conditions, observers, faults, stop).
 */
export abstract class WrappedDockerStack implements StartedStack {
  readonly faults: FaultTarget | undefined;

  constructor(readonly docker: DockerStack) {
    this.faults = docker.faults;
  }

  get runId(): string {
    return this.docker.runId;
  }

  get topology(): string {
    return this.docker.topology;
  }

  get title(): string {
    return this.docker.title;
  }

  get resources(): StartedStack['resources'] {
    return this.docker.resources;
  }

  describe(): StackDescription {
    return { ...this.docker.describe(), title: this.title };
  }

  endpoints(): StackEndpoints {
    return this.docker.endpoints();
  }

  endpointList(): Endpoint[] {
    return this.docker.endpointList();
  }

  drainConditions(signals: readonly Signal[]): DrainCondition[] {
    return this.docker.drainConditions(signals);
  }

  observers(_signals: readonly Signal[]): StackObserver[] {
    return [];
  }

  exitedServices(): ReturnType<DockerStack['exitedServices']> {
    return this.docker.exitedServices();
  }

  logs(component: string): Promise<string[]> {
    return this.docker.logs(component);
  }

  stop(): Promise<void> {
    return this.docker.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
