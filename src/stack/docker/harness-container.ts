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
  private nested: { dropCapabilities: string[] } | undefined;
  /** The container's id once created (also when its start then fails). */
  createdId: string | undefined;

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

  /** Adds bind mounts to those already given (testcontainers' own method replaces them). */
  override withBindMounts(bindMounts: Parameters<GenericContainer['withBindMounts']>[0]): this {
    const before = this.hostConfig.Binds ?? [];
    super.withBindMounts(bindMounts);
    this.hostConfig.Binds = [...before, ...(this.hostConfig.Binds ?? [])];
    return this;
  }

  /** What a container runtime inside the container needs (see ServiceDefinition.nestedRuntime). */
  withNestedRuntime(options: { dropCapabilities: string[] }): this {
    this.nested = options;
    return this.withTmpFs({ '/run': 'rw', '/var/run': 'rw' }).withBindMounts([
      { source: '/sys/fs/cgroup', target: '/sys/fs/cgroup', mode: 'rw' },
    ]);
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
    if (this.nested !== undefined) {
      Object.assign(this.hostConfig, {
        CapAdd: ['ALL'],
        CapDrop: this.nested.dropCapabilities,
        SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
        // What `--security-opt systempaths=unconfined` means to the CLI: /proc and /sys neither masked nor read-only.
        MaskedPaths: [],
        ReadonlyPaths: [],
        CgroupnsMode: 'host',
        Devices: [{ PathOnHost: '/dev/kmsg', PathInContainer: '/dev/kmsg', CgroupPermissions: 'rwm' }],
        DeviceCgroupRules: ['a *:* rwm'],
      });
    }
    if (this.networkName !== undefined) {
      this.createOpts.NetworkingConfig = { EndpointsConfig: { [this.networkName]: { Aliases: this.aliases } } };
    }
    return Promise.resolve();
  }

  protected override containerCreated(containerId: string): Promise<void> {
    this.createdId = containerId;
    this.onCreated?.(containerId);
    this.abortSignal?.throwIfAborted();
    return Promise.resolve();
  }
}
