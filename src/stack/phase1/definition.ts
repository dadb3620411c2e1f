import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalog } from '../../images/catalog.js';
import type { Catalog } from '../../images/catalog-types.js';
import { stacksDir } from '../../paths.js';
import { applyVariant, loadVariant, SEED_VARIANT } from '../collector-variant.js';
import { AGENT_SERVICE, agentService, HARNESS_SCRAPE_JOB } from '../agent-config.js';
import { renderTemplate } from '../docker/render-config.js';
import {
  component,
  configPath,
  lokiService,
  mimirService,
  ownerOf,
  prometheusService,
  READY_TIMEOUT_MS,
  tempoService,
} from '../docker/services.js';
import { backendService, type ServiceDefinition, type StackDefinition } from '../docker/stack-definition.js';
import type { LogAgentKind } from '../../observe/agent-read-watch.js';
import { PROMTAIL_SERVICE, promtailService } from '../promtail.js';

export const TRACES_BACKENDS = ['jaeger', 'tempo'] as const;
export type TracesBackend = (typeof TRACES_BACKENDS)[number];

export interface Phase1Options {
  traces: TracesBackend;
  /** Collector variant: `seed` (the seeds' configuration) or an overlay in stacks/phase1/variants. */
  variant?: string;
  /** A user's own collector configuration (YAML text), used as is instead of the seed's. */
  collectorConfig?: string;
  /** The collector container's CPU limit (the seed's: 2). */
  collectorCpus?: number;
  /**
   * Seed 003's node agent, forwarding to the collector: with `hostDir` (`--log-source file`) it reads the
   * container log files there (mounted as its /var/log/pods); with `scrape` (`--scraper agent`) its prometheus
   * receiver scrapes the harness's targets instead of Prometheus. `config` is a user's agent configuration
   * (YAML text), stacks/phase1/agent.yaml when absent. `reader: 'promtail'` (seed 004): Promtail reads the
   * files and pushes to Loki itself (`config` then a Promtail configuration, stacks/phase1/promtail.yaml when
   * absent); the collector agent runs only to scrape.
   */
  agent?: { hostDir?: string; scrape?: boolean; config?: string; reader?: LogAgentKind };
  /** `--metric-source scrape`: the harness's targets (host:port), scraped every second by Prometheus or the agent. */
  scrapeTargets?: string[];
  /**
   * `--remote-write mimir`: seed 004's long-term store — Prometheus remote-writes what it stores to Mimir, the
   * metrics backend of record; Prometheus is asked which samples Mimir lacks got that far.
   */
  remoteWrite?: 'mimir';
}

/** The hop between Prometheus and Mimir with `--remote-write mimir`, as loss causes name it. */
export const REMOTE_WRITE_HOP = 'prometheus → mimir (remote_write)';

export { AGENT_LOG_ROOT, AGENT_SERVICE } from '../agent-config.js';

/** The seed's collector limits: 2 CPUs, 2 GiB. */
export const SEED_COLLECTOR_CPUS = 2;

export function phase1Dir(): string {
  return join(stacksDir(), 'phase1');
}

/** Per-backend values of the stacks/phase1 templates. */
export function tracesTemplateValues(traces: TracesBackend): Record<string, string> {
  return traces === 'jaeger'
    ? { 'traces.backend': 'jaeger', 'traces.otlpGrpcEndpoint': 'jaeger:4317', 'traces.metricsTarget': 'jaeger:8888' }
    : { 'traces.backend': 'tempo', 'traces.otlpGrpcEndpoint': 'tempo:4317', 'traces.metricsTarget': 'tempo:3200' };
}

function pick(values: Record<string, string>, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.map((k) => [k, values[k] ?? '']));
}

/**
 * Phase 1 of the seeds: one collector with persistent queues in front of a trace backend (Jaeger or
 * Tempo), Prometheus and Loki. Configuration files come from stacks/phase1; paths and users from the
 * catalog's layouts, so the same definition runs with upstream or local images.
 */
export function phase1Definition(options: Phase1Options, catalog: Catalog = loadCatalog()): StackDefinition {
  const dir = phase1Dir();
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  const values = tracesTemplateValues(options.traces);
  const variant = loadVariant(dir, options.variant ?? SEED_VARIANT, values);
  const collectorConfig =
    options.collectorConfig ??
    applyVariant(
      renderTemplate(
        read('otelcol.yaml'),
        pick(values, ['traces.backend', 'traces.otlpGrpcEndpoint']),
        'stacks/phase1/otelcol.yaml',
      ),
      variant,
    );

  const otelcol = component(catalog, 'otelcol');

  const collector: ServiceDefinition = {
    name: 'otelcol',
    component: 'otelcol',
    aliases: ['otel-collector'],
    env: { GOMEMLIMIT: '1600MiB' },
    files: [{ target: configPath(otelcol), content: collectorConfig }],
    volumes: [{ name: 'otel-storage', target: '/var/lib/otelcol', owner: ownerOf(otelcol) }],
    ports: [
      { container: 4317, label: 'OTLP gRPC', scheme: 'grpc', standardHostPort: 4317 },
      { container: 4318, label: 'OTLP HTTP', scheme: 'http', standardHostPort: 4318 },
      { container: 8888, label: 'Collector metrics', scheme: 'http', path: '/metrics', standardHostPort: 8888 },
      { container: 13133, label: 'Collector health', scheme: 'http', path: '/health', standardHostPort: 13133 },
    ],
    readiness: { port: 13133, path: '/health', timeoutMs: READY_TIMEOUT_MS.collector },
    resources: { memoryGiB: 2, cpu: options.collectorCpus ?? SEED_COLLECTOR_CPUS },
    dependsOn: [options.traces, 'prometheus', 'loki'],
  };

  const prometheus = prometheusService(
    catalog,
    renderTemplate(
      read('prometheus.yml'),
      pick(values, ['traces.backend', 'traces.metricsTarget']),
      'stacks/phase1/prometheus.yml',
    ) +
      (options.scrapeTargets === undefined || options.agent?.scrape === true ? '' : scrapeJob(options.scrapeTargets)) +
      (options.remoteWrite === undefined ? '' : REMOTE_WRITE_TO_MIMIR),
    [
      '--web.enable-remote-write-receiver',
      // Not in the seed: lets the hardened collector variant send metrics over OTLP with a persistent queue.
      '--web.enable-otlp-receiver',
    ],
  );
  const loki = lokiService(catalog, renderTemplate(read('loki.yaml'), {}, 'stacks/phase1/loki.yaml'));
  const mimir =
    options.remoteWrite === undefined
      ? undefined
      : mimirService(
          catalog,
          renderTemplate(
            readFileSync(join(stacksDir(), 'phase2', 'mimir.yaml'), 'utf8'),
            {},
            'stacks/phase2/mimir.yaml',
          ),
        );
  if (mimir !== undefined) prometheus.dependsOn = ['mimir'];

  const agentScrapes = options.agent?.scrape === true && options.scrapeTargets !== undefined;
  const promtailReads = options.agent?.reader === 'promtail' ? options.agent.hostDir : undefined;
  const filelogReads = promtailReads === undefined ? options.agent?.hostDir : undefined;
  const agent =
    options.agent === undefined || (filelogReads === undefined && !agentScrapes)
      ? undefined
      : agentService(catalog, {
          ...(filelogReads === undefined ? {} : { hostDir: filelogReads }),
          ...(options.agent.config === undefined || promtailReads !== undefined
            ? {}
            : { config: options.agent.config }),
          template: read('agent.yaml'),
          ...(agentScrapes ? { scrapeTargets: options.scrapeTargets } : {}),
          dependsOn: ['otelcol'],
        });
  const promtail =
    promtailReads === undefined
      ? undefined
      : promtailService(catalog, {
          hostDir: promtailReads,
          ...(options.agent?.config === undefined ? {} : { config: options.agent.config }),
          template: read('promtail.yaml'),
          dependsOn: ['loki'],
        });

  const configured =
    options.collectorConfig !== undefined
      ? ', your collector configuration'
      : variant === undefined
        ? ''
        : `, collector variant: ${variant.name}`;
  const traces =
    options.traces === 'tempo'
      ? backendService('tempo', 3200)
      : { service: 'jaeger', backend: 'jaeger', queryPort: 16686, metrics: { port: 8888, path: '/metrics' } };
  return {
    phase: 1,
    topology: 'phase1',
    title: `Phase 1 (traces: ${options.traces}${configured}${options.agent?.hostDir === undefined ? '' : `, logs from files through ${promtail === undefined ? 'a node agent' : 'Promtail'}`}${options.scrapeTargets === undefined ? '' : `, metrics scraped by ${agentScrapes ? 'the node agent' : 'Prometheus'}`}${mimir === undefined ? '' : ', remote-written to Mimir'}${options.collectorCpus !== undefined && options.collectorCpus !== SEED_COLLECTOR_CPUS ? `, collector CPUs: ${options.collectorCpus}` : ''})`,
    services: [
      tracesService(catalog, options.traces, read),
      prometheus,
      loki,
      collector,
      ...(agent === undefined ? [] : [agent]),
      ...(promtail === undefined ? [] : [promtail]),
      ...(mimir === undefined ? [] : [mimir]),
    ],
    ingest: { http: { service: 'otelcol', port: 4318 }, grpc: { service: 'otelcol', port: 4317 } },
    collectors: [
      { service: 'otelcol', role: 'collector', metricsPort: 8888, exportsToBackends: true },
      ...(agent === undefined
        ? []
        : [{ service: AGENT_SERVICE, role: 'agent', metricsPort: 8888, exportsToBackends: false }]),
    ],
    backends: {
      traces,
      logs: backendService('loki', 3100),
      metrics: backendService(mimir === undefined ? 'prometheus' : 'mimir', mimir === undefined ? 9090 : 9009),
    },
    ...(mimir === undefined
      ? {}
      : { upstream: { metrics: { ...backendService('prometheus', 9090), hop: REMOTE_WRITE_HOP } } }),
    aliases: {
      collector: 'otelcol',
      'otel-collector': 'otelcol',
      traces: options.traces,
      ...(agent === undefined ? {} : { agent: AGENT_SERVICE }),
      ...(promtail === undefined ? {} : { agent: PROMTAIL_SERVICE }),
    },
    versions: Object.fromEntries(
      [
        'otelcol',
        options.traces,
        'prometheus',
        'loki',
        ...(mimir === undefined ? [] : ['mimir']),
        ...(promtail === undefined ? [] : ['promtail']),
      ].map((c) => [c, component(catalog, c).version]),
    ),
  };
}

function tracesService(catalog: Catalog, traces: TracesBackend, read: (file: string) => string): ServiceDefinition {
  if (traces === 'tempo')
    return tempoService(catalog, renderTemplate(read('tempo.yaml'), {}, 'stacks/phase1/tempo.yaml'));
  const jaeger = component(catalog, 'jaeger');
  return {
    name: 'jaeger',
    component: 'jaeger',
    aliases: ['jaeger'],
    command: ['--config', '/etc/jaeger/config.yaml'],
    env: {},
    files: [
      {
        target: '/etc/jaeger/config.yaml',
        content: renderTemplate(read('jaeger.yaml'), {}, 'stacks/phase1/jaeger.yaml'),
      },
    ],
    volumes: [{ name: 'jaeger-data', target: '/badger', owner: ownerOf(jaeger) }],
    ports: [
      { container: 16686, label: 'Jaeger query', scheme: 'http', standardHostPort: 16686 },
      { container: 13133, label: 'Jaeger health', scheme: 'http', path: '/status' },
      { container: 8888, label: 'Jaeger metrics', scheme: 'http', path: '/metrics' },
    ],
    readiness: { port: 13133, path: '/status', timeoutMs: READY_TIMEOUT_MS.backend },
    resources: { memoryGiB: 4, cpu: 2 },
    dependsOn: [],
  };
}

/**
 * Seed 004's path for metrics: Prometheus scrapes the harness's targets (every second: each target serves a
 * new tick only when one came due, so faster scrapes add nothing but a fast notice of each tick).
 */
export function scrapeJob(targets: readonly string[]): string {
  return [
    '',
    "  # --metric-source scrape: the harness's targets (added by otel-harness).",
    `  - job_name: '${HARNESS_SCRAPE_JOB}'`,
    '    scrape_interval: 1s',
    '    scrape_timeout: 1s',
    '    static_configs:',
    `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
    '',
  ].join('\n');
}

/**
 * Seed 004's remote write: everything Prometheus stores (its own scrapes, the harness's targets, what it
 * received) to Mimir, with the seed's queue settings.
 */
/** The remote-write queue's name (`remote_name` on Prometheus's counters): its receiver's. */
export const REMOTE_WRITE_QUEUE = 'mimir';

const REMOTE_WRITE_TO_MIMIR = [
  '',
  '# --remote-write mimir: seed 004 (values-prometheus.yaml remoteWrite; added by otel-harness).',
  'remote_write:',
  `  - name: ${REMOTE_WRITE_QUEUE}`,
  '    url: http://mimir:9009/api/v1/push',
  '    queue_config:',
  '      capacity: 10000',
  '      max_shards: 20',
  '      min_shards: 1',
  '      max_samples_per_send: 5000',
  '      batch_send_deadline: 5s',
  '',
].join('\n');
