import type { StoreHandoverMode, StoreRestart } from '../object-store.js';
import type { DrainCondition } from '../../drain/drain.js';
import type { SeqRange, Signal } from '../../load/ledger.js';
import type { LossCause } from '../../verify/loss-evidence.js';
import type { NodeLogFiles } from '../node-log-files.js';
import type { Endpoint, FaultTarget, StackDescription, StackEndpoints, StackObserver, StartedStack } from '../stack.js';
import type { DockerStack } from './docker-stack.js';

/**
 * A topology's started stack built on the containers of a DockerStack (testcontainers'
 * AbstractStartedContainer pattern): everything is the containers' unless the topology says otherwise, so a
 * topology writes only what differs (its title, endpoints, drain conditions, observers, faults, stop).
 * With `--log-source file` the container log files the harness writes and the node agent reading them
 * (`nodeLogs`) join its endpoints, drain, observers and loss causes, and their directory goes with it.
 */
export abstract class WrappedDockerStack implements StartedStack {
  readonly faults: FaultTarget | undefined;

  constructor(
    readonly docker: DockerStack,
    protected readonly nodeLogs?: NodeLogFiles,
  ) {
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

  /** With `--log-source file`: waits until the agent found the harness's files (see NodeLogFiles.waitFound). */
  async waitLogFilesFound(progress: (line: string) => void, signal?: AbortSignal): Promise<void> {
    await this.nodeLogs?.waitFound(progress, signal);
  }

  endpoints(): StackEndpoints {
    const base = this.docker.endpoints();
    return this.nodeLogs === undefined ? base : { ...base, logFiles: this.nodeLogs.ingest() };
  }

  endpointList(): Endpoint[] {
    return [...this.docker.endpointList(), ...(this.nodeLogs === undefined ? [] : [this.nodeLogs.endpoint()])];
  }

  drainConditions(signals: readonly Signal[]): DrainCondition[] {
    return [...this.docker.drainConditions(signals), ...(this.nodeLogs?.drainConditions(signals) ?? [])];
  }

  observers(signals: readonly Signal[]): StackObserver[] {
    return this.nodeLogs?.observers(signals) ?? [];
  }

  /** Absent log lines the node agent never read (rotated away before it reached them). */
  lossCauses(signal: Signal, runId: string, lost: readonly SeqRange[]): LossCause[] {
    return this.nodeLogs?.lossCauses(signal, runId, lost) ?? [];
  }

  exitedServices(): ReturnType<DockerStack['exitedServices']> {
    return this.docker.exitedServices();
  }

  logs(component: string): Promise<string[]> {
    return this.docker.logs(component);
  }

  restartFromStore(
    mode: StoreHandoverMode,
    backends: readonly string[],
    progress: (message: string) => void,
  ): Promise<StoreRestart[]> {
    return this.docker.restartFromStore(mode, backends, progress);
  }

  async stop(): Promise<void> {
    this.nodeLogs?.close();
    try {
      await this.docker.stop();
    } finally {
      this.nodeLogs?.removeDirectory();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
