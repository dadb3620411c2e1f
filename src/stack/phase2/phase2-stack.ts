import { PROMTAIL_SERVICE } from '../promtail.js';
import { WrappedDockerStack } from '../docker/wrapped-stack.js';
import type { Catalog } from '../../images/catalog-types.js';
import type { DrainCondition } from '../../drain/drain.js';
import { kafkaLagCondition } from '../../drain/kafka-condition.js';
import type { Signal } from '../../load/ledger.js';
import { KafkaLagReader } from '../../observe/kafka-lag.js';
import { KafkaLagObserver } from '../../observe/kafka-lag-observer.js';
import { samplingOracle } from '../../verify/sampling/tail-sampling.js';
import { traceShapeDefaults } from '../../../generators/index.js';
import type { DockerStack } from '../docker/docker-stack.js';
import type { NodeLogFiles } from '../node-log-files.js';
import type { FaultTarget, StackObserver } from '../stack.js';
import { gatewayService, GROUPS, groupsOf, processorService, TOPICS } from './definition.js';
import { waitForUpServers } from './haproxy.js';
import { waitForGroups } from './kafka-admin.js';

const KAFKA_DRAIN_POLL_MS = 3_000;
/** After the last decision a tail sampler's batch processor holds traces up to its timeout (5 s). */
const AFTER_DECISION_MS = 7_000;

/** Roles that `scale:` can resize, and how their instances are named. */
export const SCALABLE_ROLES = ['gateway', 'processor'] as const;
export type ScalableRole = (typeof SCALABLE_ROLES)[number];

/** What a scale action did, and how long the stack took to route to (gateways) or rebalance onto (processors) the new set. */
export interface ScaleOutcome {
  role: ScalableRole;
  from: number;
  to: number;
  started: string[];
  removed: string[];
  /** ms from the change until HAProxy routed to every gateway / every group was Stable with every member. */
  settledMs: number;
}

/**
 * The Phase 2 stack booted on Docker: the Docker stack's roles, plus what Phase 2 adds — Kafka lag in the
 * drain, and gateways and processors that can be scaled while load runs.
 */
export class Phase2Stack extends WrappedDockerStack {
  /** The containers' faults, and `scale` of a role. */
  override readonly faults: FaultTarget & { scale(role: string, count: number): Promise<ScaleOutcome> };

  constructor(
    docker: DockerStack,
    private readonly catalog: Catalog,
    private readonly configs: { gateway: string; processor: string },
    readonly kafkaBroker: string,
    private counts: { gateways: number; processors: number },
    /** `--log-source file`: the container log files the harness writes and the node agent reading them. */
    files?: NodeLogFiles,
  ) {
    super(docker, files);
    const scale = (role: string, count: number) => this.scale(role, count);
    // Every fault of the containers as they are, bound to them, and `scale`.
    this.faults = new Proxy(docker.faults, {
      get: (target, key) => {
        if (key === 'scale') return scale;
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as FaultTarget & { scale(role: string, count: number): Promise<ScaleOutcome> };
  }

  override get title(): string {
    const agent = this.nodeLogs?.agentName;
    return `Phase 2 (${agent === undefined ? '' : agent === PROMTAIL_SERVICE ? 'Promtail → Loki; ' : 'node agent → '}${this.counts.gateways} gateway${this.counts.gateways === 1 ? '' : 's'}, ${this.counts.processors} processor${this.counts.processors === 1 ? '' : 's'})`;
  }

  /** Collector queues (gateways and processors), then Kafka lag 0 held for the tail sampler's decision wait. */
  override drainConditions(signals: readonly Signal[]): DrainCondition[] {
    const reader = new KafkaLagReader([this.kafkaBroker], groupsOf(0, signals));
    const oracle = samplingOracle(this.configs.processor, traceShapeDefaults());
    const holdMs =
      signals.includes('traces') && oracle.kind === 'predict' ? oracle.decisionWaitMs + AFTER_DECISION_MS : 0;
    return [
      ...super.drainConditions(signals),
      kafkaLagCondition({ name: 'kafka', read: () => reader.read(), pollMs: KAFKA_DRAIN_POLL_MS, holdMs }),
    ];
  }

  /** Kafka consumer lag through the step, per group and topic, beside the receivers' own lag gauge. */
  override observers(signals: readonly Signal[]): StackObserver[] {
    const processors = () =>
      this.docker
        .endpoints()
        .collectors.filter((c) => c.role === 'processor' && c.metricsUrl !== undefined)
        .map((c) => c.metricsUrl!);
    return [
      new KafkaLagObserver(new KafkaLagReader([this.kafkaBroker], groupsOf(0, signals)), processors, signals),
      ...super.observers(signals),
    ];
  }

  /**
   * Resizes a role to `count` instances while the stack runs: new gateways join HAProxy through the
   * otel-gateway alias, new processors join the consumer groups; removed ones are stopped gracefully
   * (SIGTERM, 30 s). Waits until the stack routes to / rebalanced onto the new set.
   */
  async scale(role: string, count: number): Promise<ScaleOutcome> {
    if (!(SCALABLE_ROLES as readonly string[]).includes(role))
      throw new Error(`scale: '${role}' cannot be scaled (roles: ${SCALABLE_ROLES.join(', ')})`);
    const r = role as ScalableRole;
    const from = r === 'gateway' ? this.counts.gateways : this.counts.processors;
    if (count < 1) throw new Error(`scale: ${role} needs at least one instance`);
    if (r === 'processor' && count > TOPICS.traces.partitions)
      throw new Error(`scale: more processors than partitions (${TOPICS.traces.partitions}) leaves some idle`);
    const started: string[] = [];
    const removed: string[] = [];
    const changedAt = Date.now();
    for (let i = from + 1; i <= count; i++) {
      const def =
        r === 'gateway'
          ? gatewayService(this.catalog, this.configs.gateway, i)
          : processorService(this.catalog, this.configs.processor, i);
      await this.docker.addService(def);
      this.docker.definition.collectors.push({
        service: def.name,
        role: r,
        metricsPort: 8888,
        exportsToBackends: r === 'processor',
      });
      started.push(def.name);
    }
    for (let i = from; i > count; i--) {
      const name = `${r}-${i}`;
      await this.docker.removeService(name, 30);
      const at = this.docker.definition.collectors.findIndex((c) => c.service === name);
      if (at >= 0) this.docker.definition.collectors.splice(at, 1);
      removed.push(name);
    }
    if (r === 'gateway') this.counts.gateways = count;
    else this.counts.processors = count;
    await this.settle(r);
    return { role: r, from, to: count, started, removed, settledMs: Date.now() - changedAt };
  }

  /** Waits until HAProxy routes to every gateway, or every consumer group is Stable with every processor. */
  async settle(role: ScalableRole, timeoutMs = 120_000): Promise<void> {
    if (role === 'gateway') {
      await waitForUpServers(
        `${this.docker.url('haproxy', 8404)}/stats;csv`,
        ['gw_grpc', 'gw_http'],
        this.counts.gateways,
        {
          timeoutMs,
        },
      );
    } else {
      await waitForGroups([this.kafkaBroker], groupsOf(this.counts.processors, Object.keys(GROUPS) as Signal[]), {
        timeoutMs,
      });
    }
  }
}
