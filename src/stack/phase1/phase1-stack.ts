import { remoteWriteCondition } from '../../drain/remote-write-condition.js';
import { RemoteWriteObserver } from '../../observe/remote-write-observer.js';
import { RemoteWriteWatch } from '../../observe/remote-write-watch.js';
import type { DrainCondition } from '../../drain/drain.js';
import type { Signal } from '../../load/ledger.js';
import type { ScrapeTargets } from '../../load/scrape/scrape-targets.js';
import type { DockerStack } from '../docker/docker-stack.js';
import { WrappedDockerStack } from '../docker/wrapped-stack.js';
import type { NodeLogFiles } from '../node-log-files.js';
import type { Endpoint, FaultTarget, StackEndpoints, StackObserver } from '../stack.js';
import { ScrapeTargetFaults } from './scrape-target-faults.js';
import { REMOTE_WRITE_QUEUE } from './definition.js';

/**
 * Phase 1 with a source other than OTLP push, or with Prometheus remote-writing to Mimir. `--log-source file`: the harness writes the logs into container
 * log files that the node agent reads; the drain waits until the agent read every line written, and the
 * directory goes with the stack. `--metric-source scrape`: Prometheus scrapes the harness's targets, which
 * close with the stack. `--remote-write mimir`: the drain waits until Prometheus sent Mimir what it stored, and
 * its remote write is reported.
 */
export class Phase1Stack extends WrappedDockerStack {
  /** The containers', and with `--metric-source scrape` the harness's scrape targets too. */
  override readonly faults: FaultTarget | undefined;
  /** Prometheus's remote write to Mimir (`--remote-write mimir`), read every second from the stack's start. */
  private readonly remoteWrite: RemoteWriteWatch | undefined;

  constructor(
    docker: DockerStack,
    nodeLogs: NodeLogFiles | undefined,
    private readonly targets: ScrapeTargets | undefined,
  ) {
    const endpoints = docker.endpoints();
    super(docker, nodeLogs);
    this.faults =
      targets === undefined || docker.faults === undefined
        ? docker.faults
        : new ScrapeTargetFaults(docker.faults, targets);
    // A store before the metrics backend is Prometheus remote-writing to it (`--remote-write mimir`).
    const prometheus = endpoints.upstream?.metrics?.endpoint.metrics;
    this.remoteWrite =
      prometheus === undefined
        ? undefined
        : new RemoteWriteWatch({ metricsUrl: prometheus, queue: REMOTE_WRITE_QUEUE, pollMs: 1_000 }).start();
  }

  override endpoints(): StackEndpoints {
    return {
      ...super.endpoints(),
      ...(this.targets === undefined ? {} : { scrapeTargets: this.targets }),
    };
  }

  override endpointList(): Endpoint[] {
    return [
      ...super.endpointList(),
      ...(this.targets?.addresses() ?? []).map((a) => ({
        service: 'otel-harness',
        label: 'Scrape target',
        address: `http://${a}/metrics`,
      })),
    ];
  }

  override drainConditions(signals: readonly Signal[]): DrainCondition[] {
    return [
      ...super.drainConditions(signals),
      ...(this.remoteWrite === undefined || !signals.includes('metrics')
        ? []
        : [
            remoteWriteCondition({
              name: 'prometheus',
              receiver: REMOTE_WRITE_QUEUE,
              watch: this.remoteWrite,
              pollMs: 1_000,
            }),
          ]),
    ];
  }

  override observers(signals: readonly Signal[]): StackObserver[] {
    return [
      ...(this.remoteWrite === undefined || !signals.includes('metrics')
        ? []
        : [new RemoteWriteObserver(this.remoteWrite, { sender: 'prometheus', receiver: REMOTE_WRITE_QUEUE })]),
      ...super.observers(signals),
    ];
  }

  override async stop(): Promise<void> {
    this.remoteWrite?.stop();
    try {
      await super.stop();
    } finally {
      await this.targets?.close();
    }
  }
}
