import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalog } from '../../images/catalog.js';
import type { Catalog } from '../../images/catalog-types.js';
import { stacksDir } from '../../paths.js';
import { renderTemplate } from '../docker/render-config.js';
import { component, lokiService, prometheusService, READY_TIMEOUT_MS, tempoService } from '../docker/services.js';
import { backendService, type ServiceDefinition, type StackDefinition } from '../docker/stack-definition.js';

/** NodePorts of the collector Service (OTLP gRPC and HTTP), published on 127.0.0.1 by the node container. */
export const NODE_PORTS = { grpc: 30317, http: 30318 } as const;

/** The seeds' namespace and names (seed 000/002: `kubectl get hpa -n observability`, otel-collector-hpa). */
export const PHASE3_NAMES = {
  namespace: 'observability',
  deployment: 'otel-collector',
  service: 'otel-collector',
  hpa: 'otel-collector-hpa',
  pdb: 'otel-collector-pdb',
  config: 'otel-collector-config',
} as const;

export function phase3Dir(): string {
  return join(stacksDir(), 'phase3');
}

export interface Phase3DefinitionOptions {
  /** Host directory holding the image archives the node imports at boot (pause, metrics-server, collector). */
  imagesDir: string;
  runId: string;
  /** Extra kube-controller-manager flags (the HPA controller's sync period, tolerance, …). */
  controllerManagerArgs: string[];
  /**
   * Prometheus's `storage.tsdb.out_of_order_time_window` in seconds; 0 (the seed's Prometheus) leaves it
   * unset, so a sample older than its series' newest is refused.
   */
  prometheusOooWindowSeconds?: number;
  /**
   * `--log-source file`: the host directory mounted as the node's /var/log/pods, where the kubelet writes its
   * pods' logs and the harness writes its own pod's container logs, read by the node-collector DaemonSet.
   */
  podLogsDir?: string;
}

/**
 * Phase 1's prometheus.yml, with a TSDB out-of-order window when one is asked for: several collector
 * replicas remote-write samples of the same series, and the Prometheus guide suggests such a window then.
 */
export function phase3PrometheusConfig(windowSeconds: number, values: Record<string, string>): string {
  const text = renderTemplate(
    readFileSync(join(stacksDir(), 'phase1', 'prometheus.yml'), 'utf8'),
    values,
    'stacks/phase1/prometheus.yml',
  );
  if (windowSeconds <= 0) return text;
  return `${text}\n# otel-harness --prometheus-ooo-window\nstorage:\n  tsdb:\n    out_of_order_time_window: ${windowSeconds}s\n`;
}

/**
 * Phase 3: the Phase 1 collector on Kubernetes. The backends (Tempo, Prometheus, Loki) run as containers
 * beside the cluster on the run's Docker network — they are not what scales, their verifiers read them as
 * in Phase 1, and they keep their CPU out of the node's — while the collector runs as a Deployment with the
 * seeds' HPA inside one node container (catalog component kube-node). Load enters through the collector
 * Service's NodePort, published on 127.0.0.1.
 */
export function phase3Definition(options: Phase3DefinitionOptions, catalog: Catalog = loadCatalog()): StackDefinition {
  const phase1 = join(stacksDir(), 'phase1');
  const read = (file: string) => readFileSync(join(phase1, file), 'utf8');
  const values = { 'traces.backend': 'tempo', 'traces.metricsTarget': 'tempo:3200' };
  const prometheus = prometheusService(
    catalog,
    phase3PrometheusConfig(options.prometheusOooWindowSeconds ?? 0, values),
    ['--web.enable-remote-write-receiver', '--web.enable-otlp-receiver'],
  );
  const loki = lokiService(catalog, renderTemplate(read('loki.yaml'), {}, 'stacks/phase1/loki.yaml'));
  const tempo = tempoService(catalog, renderTemplate(read('tempo.yaml'), {}, 'stacks/phase1/tempo.yaml'));
  const node: ServiceDefinition = {
    name: 'kube-node',
    component: 'kube-node',
    aliases: ['kube-node'],
    env: {
      KUBE_NODE_NAME: 'kube-node',
      KUBE_APISERVER_SANS: '127.0.0.1,localhost,kube-node',
      KUBE_CONTROLLER_MANAGER_ARGS: options.controllerManagerArgs.join(' '),
      // One cgroup root per run on the host (the node shares the host's cgroup tree).
      KUBE_CGROUP_ROOT: `/otel-harness-${options.runId}`,
    },
    files: [],
    volumes: [],
    hostMounts: [
      { source: options.imagesDir, target: '/var/lib/kube-node/images', readOnly: true },
      ...(options.podLogsDir === undefined
        ? []
        : [{ source: options.podLogsDir, target: '/var/log/pods', readOnly: false }]),
    ],
    nestedRuntime: { dropCapabilities: ['SYS_RESOURCE'] },
    ports: [
      { container: 6443, label: 'Kubernetes API (https)', scheme: 'http' },
      { container: NODE_PORTS.grpc, label: 'OTLP gRPC', scheme: 'grpc', standardHostPort: 4317 },
      { container: NODE_PORTS.http, label: 'OTLP HTTP', scheme: 'http', standardHostPort: 4318 },
    ],
    // kube-proxy answers once the API server, the node and its Service rules are up.
    readiness: { port: 10256, path: '/healthz', timeoutMs: READY_TIMEOUT_MS.backend },
    dependsOn: ['tempo', 'prometheus', 'loki'],
  };
  return {
    phase: 3,
    topology: 'phase3',
    title: `Phase 3 (Kubernetes: collector Deployment with HPA${options.podLogsDir === undefined ? '' : ', node-collector DaemonSet reading the pod logs'}; traces: tempo)`,
    services: [tempo, prometheus, loki, node],
    ingest: {
      http: { service: 'kube-node', port: NODE_PORTS.http },
      grpc: { service: 'kube-node', port: NODE_PORTS.grpc },
    },
    // The collectors are pods; Phase3Stack lists them.
    collectors: [],
    backends: {
      traces: backendService('tempo', 3200),
      logs: backendService('loki', 3100),
      metrics: backendService('prometheus', 9090),
    },
    aliases: { traces: 'tempo', node: 'kube-node' },
    versions: Object.fromEntries(
      ['otelcol', 'tempo', 'prometheus', 'loki', 'kube-node', 'pause', 'metrics-server'].map((c) => [
        c,
        component(catalog, c).version,
      ]),
    ),
  };
}

/** The Phase 1 seed collector configuration with the Tempo backend (the ConfigMap of the Deployment). */
export function phase3CollectorConfig(): string {
  const text = readFileSync(join(stacksDir(), 'phase1', 'otelcol.yaml'), 'utf8');
  return renderTemplate(
    text,
    { 'traces.backend': 'tempo', 'traces.otlpGrpcEndpoint': 'tempo:4317' },
    'stacks/phase1/otelcol.yaml',
  );
}
