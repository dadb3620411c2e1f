import { GenericContainer } from 'testcontainers';
import { LineRing } from './line-ring.js';

export const LOG_TAIL_LINES = 50;

/**
 * A testcontainers GenericContainer with the harness's rules: published ports bound to 127.0.0.1 only,
 * joined to the run's network under the service's aliases at creation (no default bridge), the last
 * log lines kept for error reports, and a hook that refuses to start once the run is aborted.
 */
export class HarnessContainer extends GenericContainer {
  readonly logTail = new LineRing(LOG_TAIL_LINES);
  private networkName: string | undefined;
  private aliases: string[] = [];
  private abortSignal: AbortSignal | undefined;
  private onCreated: ((containerId: string) => void) | undefined;

  constructor(image: string) {
    super(image);
    this.withLogConsumer((stream) => {
      stream.on('data', (chunk: Buffer | string) => this.logTail.push(chunk.toString()));
      stream.on('error', () => undefined);
    });
  }

  /** Joins `network` (by name) with DNS `aliases`. */
  withRunNetwork(network: string, aliases: string[]): this {
    this.networkName = network;
    this.aliases = aliases;
    return this.withNetworkMode(network);
  }

  withAbortSignal(signal: AbortSignal | undefined): this {
    this.abortSignal = signal;
    return this;
  }

  withCreatedHook(hook: (containerId: string) => void): this {
    this.onCreated = hook;
    return this;
  }

  protected override beforeContainerCreated(): Promise<void> {
    this.abortSignal?.throwIfAborted();
    const portBindings = (this.hostConfig.PortBindings ?? {}) as Record<string, { HostIp?: string }[]>;
    for (const bindings of Object.values(portBindings)) {
      for (const binding of bindings) binding.HostIp = '127.0.0.1';
    }
    if (this.networkName !== undefined) {
      this.createOpts.NetworkingConfig = { EndpointsConfig: { [this.networkName]: { Aliases: this.aliases } } };
    }
    return Promise.resolve();
  }

  protected override containerCreated(containerId: string): Promise<void> {
    this.onCreated?.(containerId);
    this.abortSignal?.throwIfAborted();
    return Promise.resolve();
  }
}
