import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalog } from '../../images/catalog-types.js';
import { loadCatalog } from '../../images/catalog.js';
import type { Signal } from '../../load/ledger.js';
import { stacksDir } from '../../paths.js';
import { AGENT_SERVICE, agentService } from '../agent-config.js';
import type { LogAgentKind } from '../../observe/agent-read-watch.js';
import { PROMTAIL_SERVICE, promtailService } from '../promtail.js';
import { applyVariant, loadVariant, SEED_VARIANT } from '../collector-variant.js';
import { renderTemplate } from '../docker/render-config.js';
import {
  component,
  configPath,
  dataDir,
  lokiService,
  mimirService,
  ownerOf,
  prometheusService,
  READY_TIMEOUT_MS,
  tempoService,
} from '../docker/services.js';
import { backendService, type ServiceDefinition, type StackDefinition } from '../docker/stack-definition.js';
import { createTopics, type GroupSpec, type TopicSpec } from './kafka-admin.js';

export function phase2Dir(): string {
  return join(stacksDir(), 'phase2');
}

/** Seed 002 "Topic Design": one topic per signal, 12 partitions, 24 h retention. */
export const PARTITIONS = 12;
export const TOPICS: Readonly<Record<Signal, TopicSpec>> = {
  traces: { name: 'otlp-traces', partitions: PARTITIONS, retentionMs: 86_400_000 },
  metrics: { name: 'otlp-metrics', partitions: PARTITIONS, retentionMs: 86_400_000 },
  logs: { name: 'otlp-logs', partitions: PARTITIONS, retentionMs: 86_400_000 },
};
/** The processors' consumer groups (stacks/phase2/processor.yaml). */
export const GROUPS: Readonly<Record<Signal, string>> = {
  traces: 'trace-processors',
  metrics: 'metric-processors',
  logs: 'log-processors',
};
/** Kafka's EXTERNAL listener with `--ports standard` (its INTERNAL one has the seed's 9092). */
export const STANDARD_KAFKA_PORT = 29092;

export interface Phase2Options {
  gateways: number;
  processors: number;
  /** Kafka's EXTERNAL listener port, the same inside the container and on 127.0.0.1. */
  kafkaPort: number;
  /** Processor variant: `seed` or an overlay in stacks/phase2/variants. */
  variant?: string;
  /** A user's own collector configurations (YAML text) per role, used as they are. */
  collectorConfigs?: { gateway?: string; processor?: string };
  /**
   * `--log-source file`: seed 003's node agent reads the container log files in `hostDir` (mounted as its
   * /var/log/pods) and forwards them to HAProxy, in front of the gateways; `config` is a user's (YAML text).
   * `reader: 'promtail'` (seed 004): Promtail reads them and pushes to Loki itself.
   */
  agent?: { hostDir: string; config?: string; reader?: LogAgentKind };
}

const gatewayName = (i: number) => `gateway-${i}`;
const processorName = (i: number) => `processor-${i}`;

/** The definition of gateway `i` (1-based): also what a scale-up starts. */
export function gatewayService(catalog: Catalog, config: string, i: number): ServiceDefinition {
  // Every gateway answers to otel-gateway: HAProxy's server-template and Prometheus find them by it.
  return collectorService(catalog, config, {
    name: gatewayName(i),
    alias: 'otel-gateway',
    label: `Gateway ${i}`,
    memory: { limit: '1100MiB', GiB: 1.5 },
    dependsOn: ['kafka'],
  });
}

/** The definition of processor `i` (1-based). */
export function processorService(catalog: Catalog, config: string, i: number): ServiceDefinition {
  return collectorService(catalog, config, {
    name: processorName(i),
    alias: 'otel-processor',
    label: `Processor ${i}`,
    memory: { limit: '2200MiB', GiB: 2.5 },
    dependsOn: ['kafka', 'tempo', 'mimir', 'loki'],
  });
}

/** A collector of one role: its configuration, metrics and health ports, a Go memory limit under its container's. */
function collectorService(
  catalog: Catalog,
  config: string,
  c: { name: string; alias: string; label: string; memory: { limit: string; GiB: number }; dependsOn: string[] },
): ServiceDefinition {
  return {
    name: c.name,
    component: 'otelcol',
    aliases: [c.alias, c.name],
    env: { GOMEMLIMIT: c.memory.limit },
    files: [{ target: configPath(component(catalog, 'otelcol')), content: config }],
    volumes: [],
    ports: [
      { container: 8888, label: `${c.label} metrics`, scheme: 'http', path: '/metrics' },
      { container: 13133, label: `${c.label} health`, scheme: 'http', path: '/health' },
    ],
    readiness: { port: 13133, path: '/health', timeoutMs: READY_TIMEOUT_MS.collector },
    resources: { memoryGiB: c.memory.GiB, cpu: 2 },
    dependsOn: c.dependsOn,
  };
}

/** The stack's collector configurations: the seed's (with a processor variant), or the user's. */
export function phase2Configs(options: Phase2Options): { gateway: string; processor: string } {
  const dir = phase2Dir();
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  const variant = loadVariant(dir, options.variant ?? SEED_VARIANT);
  return {
    gateway:
      options.collectorConfigs?.gateway ?? renderTemplate(read('gateway.yaml'), {}, 'stacks/phase2/gateway.yaml'),
    processor:
      options.collectorConfigs?.processor ??
      applyVariant(renderTemplate(read('processor.yaml'), {}, 'stacks/phase2/processor.yaml'), variant),
  };
}

/**
 * Phase 2 of the seeds (001 "Phase 2: Adding Kafka for Reliability", 002 Part II): HAProxy → gateway
 * collectors → Kafka (KRaft) → processor collectors with tail sampling → Tempo, Mimir, Loki; Prometheus
 * monitors the stack itself. Configuration files come from stacks/phase2 (Tempo's and Loki's are Phase 1's,
 * unchanged); paths and users from the catalog's layouts.
 */
export function phase2Definition(options: Phase2Options, catalog: Catalog = loadCatalog()): StackDefinition {
  const dir = phase2Dir();
  const read = (file: string, from = dir) => readFileSync(join(from, file), 'utf8');
  const phase1 = join(stacksDir(), 'phase1');
  const configs = phase2Configs(options);
  const kafka = component(catalog, 'kafka');
  const haproxy = component(catalog, 'haproxy');
  const topics = Object.values(TOPICS);

  const kafkaService: ServiceDefinition = {
    name: 'kafka',
    component: 'kafka',
    aliases: ['kafka'],
    env: { KAFKA_HEAP_OPTS: '-Xms256m -Xmx768m' },
    files: [
      {
        target: configPath(kafka),
        content: renderTemplate(
          read('kafka-server.properties'),
          { 'kafka.externalPort': String(options.kafkaPort) },
          'stacks/phase2/kafka-server.properties',
        ),
      },
    ],
    volumes: [{ name: 'kafka-data', target: dataDir(kafka), owner: ownerOf(kafka) }],
    ports: [
      { container: options.kafkaPort, label: 'Kafka', scheme: 'grpc', sameOnHost: true },
      { container: 9404, label: 'Kafka metrics', scheme: 'http', path: '/metrics' },
    ],
    // The JMX exporter answers as soon as the JVM runs; the broker is ready when it creates the topics.
    readiness: { port: 9404, path: '/metrics', timeoutMs: READY_TIMEOUT_MS.kafka },
    afterReady: async (ctx) => {
      ctx.progress(`creating topics ${topics.map((t) => t.name).join(', ')} (${PARTITIONS} partitions, 24 h)`);
      await createTopics([`127.0.0.1:${options.kafkaPort}`], topics, {
        timeoutMs: READY_TIMEOUT_MS.kafka,
        signal: ctx.signal,
      });
    },
    resources: { memoryGiB: 1.5, cpu: 2 },
    dependsOn: [],
  };

  const mimir = mimirService(catalog, renderTemplate(read('mimir.yaml'), {}, 'stacks/phase2/mimir.yaml'));

  const gateways = Array.from({ length: options.gateways }, (_, k) => gatewayService(catalog, configs.gateway, k + 1));
  const processors = Array.from({ length: options.processors }, (_, k) =>
    processorService(catalog, configs.processor, k + 1),
  );

  const haproxyService: ServiceDefinition = {
    name: 'haproxy',
    component: 'haproxy',
    // otel-collector: the name the node agent forwards to (stacks/phase1/agent.yaml), the gateways' front.
    aliases: ['haproxy', 'otel-collector'],
    env: {},
    files: [
      { target: configPath(haproxy), content: renderTemplate(read('haproxy.cfg'), {}, 'stacks/phase2/haproxy.cfg') },
    ],
    volumes: [],
    ports: [
      { container: 4317, label: 'OTLP gRPC', scheme: 'grpc', standardHostPort: 4317 },
      { container: 4318, label: 'OTLP HTTP', scheme: 'http', standardHostPort: 4318 },
      { container: 8404, label: 'HAProxy stats', scheme: 'http', path: '/stats', standardHostPort: 8404 },
    ],
    readiness: { port: 8404, path: '/stats', timeoutMs: READY_TIMEOUT_MS.collector },
    resources: { memoryGiB: 0.5, cpu: 2 },
    dependsOn: gateways.map((g) => g.name),
  };

  const prometheus = prometheusService(
    catalog,
    renderTemplate(read('prometheus.yml'), {}, 'stacks/phase2/prometheus.yml'),
    [],
  );
  prometheus.resources = { memoryGiB: 2, cpu: 1 };

  const promtail =
    options.agent?.reader !== 'promtail'
      ? undefined
      : promtailService(catalog, {
          hostDir: options.agent.hostDir,
          ...(options.agent.config === undefined ? {} : { config: options.agent.config }),
          template: read('promtail.yaml', phase1),
          dependsOn: ['loki'],
        });
  const agent =
    options.agent === undefined || promtail !== undefined
      ? undefined
      : agentService(catalog, {
          hostDir: options.agent.hostDir,
          ...(options.agent.config === undefined ? {} : { config: options.agent.config }),
          template: read('agent.yaml', phase1),
          dependsOn: ['haproxy'],
        });

  const collectors = [
    ...gateways.map((g) => ({ service: g.name, role: 'gateway', metricsPort: 8888, exportsToBackends: false })),
    ...processors.map((p) => ({ service: p.name, role: 'processor', metricsPort: 8888, exportsToBackends: true })),
    ...(agent === undefined
      ? []
      : [{ service: AGENT_SERVICE, role: 'agent', metricsPort: 8888, exportsToBackends: false }]),
  ];
  const configured =
    options.collectorConfigs?.gateway !== undefined || options.collectorConfigs?.processor !== undefined
      ? ', your collector configuration'
      : (options.variant ?? SEED_VARIANT) === SEED_VARIANT
        ? ''
        : `, processor variant: ${options.variant}`;
  return {
    phase: 2,
    topology: 'phase2',
    title: `Phase 2 (${agent === undefined ? (promtail === undefined ? '' : 'Promtail → Loki; ') : 'node agent → '}${options.gateways} gateway${options.gateways === 1 ? '' : 's'}, ${options.processors} processor${options.processors === 1 ? '' : 's'}${configured})`,
    services: [
      kafkaService,
      tempoService(catalog, renderTemplate(read('tempo.yaml', phase1), {}, 'stacks/phase1/tempo.yaml')),
      mimir,
      lokiService(catalog, renderTemplate(read('loki.yaml', phase1), {}, 'stacks/phase1/loki.yaml')),
      prometheus,
      ...processors,
      ...gateways,
      haproxyService,
      ...(agent === undefined ? [] : [agent]),
      ...(promtail === undefined ? [] : [promtail]),
    ],
    ingest: { http: { service: 'haproxy', port: 4318 }, grpc: { service: 'haproxy', port: 4317 } },
    collectors,
    backends: {
      traces: backendService('tempo', 3200),
      metrics: backendService('mimir', 9009),
      logs: backendService('loki', 3100),
    },
    aliases: {
      ...(promtail === undefined ? {} : { agent: PROMTAIL_SERVICE }),
      gateway: gatewayName(1),
      processor: processorName(1),
      lb: 'haproxy',
      traces: 'tempo',
      metrics: 'mimir',
      logs: 'loki',
    },
    versions: Object.fromEntries(
      [
        'otelcol',
        'kafka',
        'tempo',
        'mimir',
        'loki',
        'prometheus',
        'haproxy',
        ...(promtail === undefined ? [] : ['promtail']),
      ].map((c) => [c, component(catalog, c).version]),
    ),
  };
}

/** The consumer groups of a stack with `processors` processors, for the signals in play. */
export function groupsOf(processors: number, signals: readonly Signal[]): GroupSpec[] {
  return signals.map((s) => ({ group: GROUPS[s], topic: TOPICS[s].name, members: processors }));
}
