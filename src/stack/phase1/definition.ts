import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalog } from '../../images/catalog.js';
import type { Catalog, ComponentSpec } from '../../images/catalog-types.js';
import { stacksDir } from '../../paths.js';
import { applyVariant, loadVariant, SEED_VARIANT } from './collector-variant.js';
import { renderTemplate } from '../docker/render-config.js';
import type { ServiceDefinition, StackDefinition } from '../docker/stack-definition.js';

export const TRACES_BACKENDS = ['jaeger', 'tempo'] as const;
export type TracesBackend = (typeof TRACES_BACKENDS)[number];

export interface Phase1Options {
  traces: TracesBackend;
  /** Collector variant: `seed` (the seeds' configuration) or an overlay in stacks/phase1/variants. */
  variant?: string;
  /** A user's own collector configuration (YAML text), used as is instead of the seed's. */
  collectorConfig?: string;
}

export function phase1Dir(): string {
  return join(stacksDir(), 'phase1');
}

/** Phase 1 readiness budgets; Loki and Tempo wait out their ingester's ring join. */
const READY_TIMEOUT_MS = { collector: 60_000, backend: 120_000, prometheus: 60_000 } as const;

/** Per-backend values of the stacks/phase1 templates. */
export function tracesTemplateValues(traces: TracesBackend): Record<string, string> {
  return traces === 'jaeger'
    ? { 'traces.backend': 'jaeger', 'traces.otlpGrpcEndpoint': 'jaeger:4317', 'traces.metricsTarget': 'jaeger:8888' }
    : { 'traces.backend': 'tempo', 'traces.otlpGrpcEndpoint': 'tempo:4317', 'traces.metricsTarget': 'tempo:3200' };
}

function pick(values: Record<string, string>, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.map((k) => [k, values[k] ?? '']));
}

function component(catalog: Catalog, name: string): ComponentSpec {
  const spec = catalog.components.get(name);
  if (spec === undefined) throw new Error(`the catalog has no component '${name}' (needed by phase 1)`);
  return spec;
}

function configPath(spec: ComponentSpec): string {
  if (spec.layout.config === undefined) throw new Error(`catalog component ${spec.name} has no layout.config`);
  return spec.layout.config;
}

function dataDir(spec: ComponentSpec): string {
  if (spec.layout.dataDir === undefined) throw new Error(`catalog component ${spec.name} has no layout.dataDir`);
  return spec.layout.dataDir;
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
  const prometheus = component(catalog, 'prometheus');
  const loki = component(catalog, 'loki');

  const collector: ServiceDefinition = {
    name: 'otelcol',
    component: 'otelcol',
    aliases: ['otel-collector'],
    env: { GOMEMLIMIT: '1600MiB' },
    files: [{ target: configPath(otelcol), content: collectorConfig }],
    volumes: [{ name: 'otel-storage', target: '/var/lib/otelcol', owner: uidGid(otelcol.layout.user) }],
    ports: [
      { container: 4317, label: 'OTLP gRPC', scheme: 'grpc', standardHostPort: 4317 },
      { container: 4318, label: 'OTLP HTTP', scheme: 'http', standardHostPort: 4318 },
      { container: 8888, label: 'Collector metrics', scheme: 'http', path: '/metrics', standardHostPort: 8888 },
      { container: 13133, label: 'Collector health', scheme: 'http', path: '/health', standardHostPort: 13133 },
    ],
    readiness: { port: 13133, path: '/health', timeoutMs: READY_TIMEOUT_MS.collector },
    resources: { memoryGiB: 2, cpu: 2 },
    dependsOn: [options.traces, 'prometheus', 'loki'],
  };

  const prometheusService: ServiceDefinition = {
    name: 'prometheus',
    component: 'prometheus',
    aliases: ['prometheus'],
    command: [
      `--config.file=${configPath(prometheus)}`,
      `--storage.tsdb.path=${dataDir(prometheus)}`,
      '--storage.tsdb.retention.time=30d',
      '--storage.tsdb.retention.size=40GB',
      '--web.enable-lifecycle',
      '--web.enable-remote-write-receiver',
      // Not in the seed: lets the hardened collector variant send metrics over OTLP with a persistent queue.
      '--web.enable-otlp-receiver',
    ],
    env: {},
    files: [
      {
        target: configPath(prometheus),
        content: renderTemplate(
          read('prometheus.yml'),
          pick(values, ['traces.backend', 'traces.metricsTarget']),
          'stacks/phase1/prometheus.yml',
        ),
      },
    ],
    volumes: [{ name: 'prometheus-data', target: dataDir(prometheus), owner: uidGid(prometheus.layout.user) }],
    ports: [{ container: 9090, label: 'Prometheus', scheme: 'http', standardHostPort: 9090 }],
    readiness: { port: 9090, path: '/-/ready', timeoutMs: READY_TIMEOUT_MS.prometheus },
    resources: { memoryGiB: 4, cpu: 2 },
    dependsOn: [],
  };

  const lokiService: ServiceDefinition = {
    name: 'loki',
    component: 'loki',
    aliases: ['loki'],
    env: {},
    files: [{ target: configPath(loki), content: renderTemplate(read('loki.yaml'), {}, 'stacks/phase1/loki.yaml') }],
    volumes: [{ name: 'loki-data', target: dataDir(loki), owner: uidGid(loki.layout.user) }],
    ports: [{ container: 3100, label: 'Loki', scheme: 'http', standardHostPort: 3100 }],
    readiness: { port: 3100, path: '/ready', timeoutMs: READY_TIMEOUT_MS.backend },
    resources: { memoryGiB: 2, cpu: 1 },
    dependsOn: [],
  };

  const configured =
    options.collectorConfig !== undefined
      ? ', your collector configuration'
      : variant === undefined
        ? ''
        : `, collector variant: ${variant.name}`;
  const traces =
    options.traces === 'tempo'
      ? { service: 'tempo', backend: 'tempo', queryPort: 3200, metrics: { port: 3200, path: '/metrics' } }
      : { service: 'jaeger', backend: 'jaeger', queryPort: 16686, metrics: { port: 8888, path: '/metrics' } };
  return {
    phase: 1,
    topology: 'phase1',
    title: `Phase 1 (traces: ${options.traces}${configured})`,
    services: [tracesService(catalog, options.traces, read), prometheusService, lokiService, collector],
    ingest: { http: { service: 'otelcol', port: 4318 }, grpc: { service: 'otelcol', port: 4317 } },
    collectors: [{ service: 'otelcol', role: 'collector', metricsPort: 8888, exportsToBackends: true }],
    backends: {
      traces,
      logs: { service: 'loki', backend: 'loki', queryPort: 3100, metrics: { port: 3100, path: '/metrics' } },
      metrics: {
        service: 'prometheus',
        backend: 'prometheus',
        queryPort: 9090,
        metrics: { port: 9090, path: '/metrics' },
      },
    },
    aliases: { collector: 'otelcol', 'otel-collector': 'otelcol', traces: options.traces },
    versions: Object.fromEntries(
      ['otelcol', options.traces, 'prometheus', 'loki'].map((c) => [c, component(catalog, c).version]),
    ),
  };
}

function tracesService(catalog: Catalog, traces: TracesBackend, read: (file: string) => string): ServiceDefinition {
  if (traces === 'tempo') {
    const tempo = component(catalog, 'tempo');
    const config = configPath(tempo);
    return {
      name: 'tempo',
      component: 'tempo',
      aliases: ['tempo'],
      command: [`-config.file=${config}`],
      env: {},
      files: [{ target: config, content: renderTemplate(read('tempo.yaml'), {}, 'stacks/phase1/tempo.yaml') }],
      volumes: [{ name: 'tempo-data', target: dataDir(tempo), owner: uidGid(tempo.layout.user) }],
      ports: [{ container: 3200, label: 'Tempo query', scheme: 'http', standardHostPort: 3200 }],
      readiness: { port: 3200, path: '/ready', timeoutMs: READY_TIMEOUT_MS.backend },
      resources: { memoryGiB: 4, cpu: 1 },
      dependsOn: [],
    };
  }
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
    volumes: [{ name: 'jaeger-data', target: '/badger', owner: uidGid(jaeger.layout.user) }],
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

/** `uid` or `uid:gid` or a well-known name → `uid:gid` for chown. */
export function uidGid(user: string): string {
  const named: Record<string, string> = { nobody: '65534:65534', root: '0:0' };
  const known = named[user];
  if (known !== undefined) return known;
  const [uid, gid] = user.split(':');
  if (uid === undefined || !/^\d+$/.test(uid)) throw new Error(`cannot turn user '${user}' into uid:gid`);
  return `${uid}:${gid ?? uid}`;
}
