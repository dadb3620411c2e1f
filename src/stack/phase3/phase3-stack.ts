import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectorDrainCondition } from '../../drain/collector-condition.js';
import type { DrainCondition } from '../../drain/drain.js';
import type { PodObject } from '../../k8s/cluster-waits.js';
import { HpaObserver } from '../hpa/hpa-observer.js';
import type { KubeClient, KubeList } from '../../k8s/kube-client.js';
import type { ClusterEngine } from '../../load/drivers/driver.js';
import type { Signal } from '../../load/ledger.js';
import type { NodeLogFiles } from '../node-log-files.js';
import { parsePrometheusText, type Sample } from '../../observe/prometheus-text.js';
import { collectorPipelineOf } from '../collector-pipeline.js';
import { queueUnits } from '../collector-config.js';
import { quietOf } from '../collector-drain.js';
import type { DockerStack } from '../docker/docker-stack.js';
import type { Endpoint, FaultTarget, StackDescription, StackEndpoints, StackObserver } from '../stack.js';
import { WrappedDockerStack } from '../docker/wrapped-stack.js';
import { K6_ENDPOINT_LABEL, K6_IMAGE_LABEL, K6_STARTER_LABEL } from '../attach/target-file.js';
import { PHASE3_NAMES } from './definition.js';

const COLLECTOR_DRAIN_POLL_MS = 6_000;
export const COLLECTOR_SELECTOR = 'app.kubernetes.io/name=otel-collector';

/**
 * Connections the generator opens to the NodePort, and how many requests each carries before it is
 * replaced: kube-proxy balances connections, not requests, so only new connections reach new pods; at a few
 * requests a second a connection must be short-lived for the load to spread at all.
 */
export const PHASE3_CONNECTIONS = { connections: 16, requestsPerConnection: 5 } as const;

/** SIGTERM to the node first: it stops its components and pods and removes their cgroups from the host. */
export async function stopNode(docker: DockerStack): Promise<void> {
  const node = docker.services.get('kube-node');
  if (node === undefined) return;
  await docker.dockerode
    .getContainer(node.container.getId())
    .stop({ t: 30 })
    .catch(() => undefined);
}

/** One pod's self-metrics, labelled with the pod's name. */
export interface PodScrape {
  pod: string;
  samples: Sample[];
}

/**
 * Reads every ready or terminating collector pod's self-metrics through the API server's pod proxy; a
 * pod that does not answer makes the whole reading fail (a queue that cannot be read is not empty).
 */
export async function scrapeCollectorPods(client: KubeClient, namespace: string): Promise<PodScrape[]> {
  const pods = await client.get<KubeList<PodObject>>(
    `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(COLLECTOR_SELECTOR)}`,
  );
  const running = pods.items.filter((p) => p.status?.phase === 'Running');
  return Promise.all(
    running.map(async (pod) => {
      const text = await client.getText(`/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}:8888/proxy/metrics`);
      return { pod: pod.metadata.name, samples: parsePrometheusText(text) };
    }),
  );
}

/** The scrapes as one exposition, each sample labelled `k8s_pod`. */
export function mergeScrapes(scrapes: readonly PodScrape[]): string {
  const lines: string[] = [];
  for (const { pod, samples } of scrapes) {
    for (const s of samples) {
      const labels = Object.entries({ ...s.labels, k8s_pod: pod })
        .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
        .join(',');
      lines.push(`${s.name}{${labels}} ${Number.isFinite(s.value) ? String(s.value) : s.value > 0 ? '+Inf' : '-Inf'}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The Phase 3 stack: the backends on Docker (DockerStack) and the collector Deployment on the node's
 * Kubernetes. The collector role is all its pods: their self-metrics are served merged on a local port
 * (for the queue watch and the counters), the drain waits for every pod's queues, and an HPA observer
 * records the scaling.
 */
export class Phase3Stack extends WrappedDockerStack {
  override readonly faults: FaultTarget | undefined = undefined;
  private metricsServer: Server | undefined;
  private metricsPort = 0;
  /** Each collector pod's log lines, read every 15 s: pods removed by the HPA take theirs with them. */
  private readonly podLogs = new Map<string, Set<string>>();
  private logTimer: NodeJS.Timeout | undefined;

  constructor(
    docker: DockerStack,
    readonly client: KubeClient,
    private readonly extra: {
      collectorConfig: string;
      kubeconfigPath: string;
      runDir: string;
      progress: (message: string) => void;
      clusterSeconds: number;
      /** Where --driver k6-operator runs its TestRuns, when the operator was deployed. */
      cluster?: ClusterEngine;
      /** `--log-source file`: the harness's pod's container logs and the node-collector DaemonSet reading them. */
      files?: NodeLogFiles;
    },
  ) {
    super(docker, extra.files);
  }

  /** Starts the local endpoint that serves the pods' merged self-metrics. */
  async listen(): Promise<void> {
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      scrapeCollectorPods(this.client, PHASE3_NAMES.namespace)
        .then((scrapes) => {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(mergeScrapes(scrapes));
        })
        .catch((err: unknown) => {
          res
            .writeHead(502, { 'content-type': 'text/plain' })
            .end(`collector pods unreadable: ${(err as Error).message}\n`);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.metricsServer = server;
    this.metricsPort = (server.address() as AddressInfo).port;
    this.logTimer = setInterval(() => void this.keepLogs(), 15_000);
    this.logTimer.unref();
  }

  private async keepLogs(): Promise<void> {
    const pods = await this.client
      .get<KubeList<PodObject>>(
        `/api/v1/namespaces/${PHASE3_NAMES.namespace}/pods?labelSelector=${encodeURIComponent(COLLECTOR_SELECTOR)}`,
      )
      .catch(() => ({ items: [] as PodObject[] }));
    for (const pod of pods.items) {
      const name = pod.metadata.name;
      const text = await this.client
        .getText(`/api/v1/namespaces/${PHASE3_NAMES.namespace}/pods/${name}/log?sinceSeconds=20&timestamps=true`)
        .catch(() => '');
      const kept = this.podLogs.get(name) ?? new Set<string>();
      for (const line of text.split('\n')) if (line !== '' && kept.size < 2_000) kept.add(line);
      this.podLogs.set(name, kept);
    }
  }

  override get topology(): string {
    return 'phase3';
  }

  private get metricsUrl(): string {
    return `http://127.0.0.1:${this.metricsPort}/metrics`;
  }

  override describe(): StackDescription {
    const base = this.docker.describe();
    return {
      ...base,
      configHashes: { 'otel-collector': createHash('sha256').update(this.extra.collectorConfig).digest('hex') },
      // The containers, then the cluster: metrics-server, the collector pods ready, the HPA's first reading.
      bootSeconds: this.bootSeconds,
    };
  }

  override endpoints(): StackEndpoints {
    return {
      ...super.endpoints(),
      otlpConnections: PHASE3_CONNECTIONS,
      ...(this.extra.cluster === undefined ? {} : { cluster: this.extra.cluster }),
      collectors: [
        {
          name: PHASE3_NAMES.deployment,
          role: 'collector',
          metricsUrl: this.metricsUrl,
          config: this.extra.collectorConfig,
          exportsToBackends: true,
        },
      ],
    };
  }

  override endpointList(): Endpoint[] {
    return [
      ...super.endpointList(),
      { service: 'kube-node', label: 'kubeconfig', address: this.extra.kubeconfigPath },
      { service: PHASE3_NAMES.deployment, label: 'Collector metrics', address: this.metricsUrl },
      ...(this.extra.cluster === undefined
        ? []
        : [
            { service: 'k6-operator', label: K6_ENDPOINT_LABEL, address: this.extra.cluster.otlpHttp },
            { service: 'k6-operator', label: K6_IMAGE_LABEL, address: this.extra.cluster.runnerImage },
            ...(this.extra.cluster.starterImage === undefined
              ? []
              : [{ service: 'k6-operator', label: K6_STARTER_LABEL, address: this.extra.cluster.starterImage }]),
          ]),
    ];
  }

  override drainConditions(signals: readonly Signal[]): DrainCondition[] {
    return [
      ...super.drainConditions(signals),
      collectorDrainCondition({
        name: 'collector pods',
        metricsUrl: this.metricsUrl,
        signals,
        pollMs: COLLECTOR_DRAIN_POLL_MS,
        read: async () =>
          (await scrapeCollectorPods(this.client, PHASE3_NAMES.namespace)).flatMap((s) =>
            s.samples.map((x) => ({ ...x, labels: { ...x.labels, k8s_pod: s.pod } })),
          ),
        quiet: quietOf(collectorPipelineOf(this.extra.collectorConfig), COLLECTOR_DRAIN_POLL_MS),
        queueUnit: queueUnits(this.extra.collectorConfig),
        pipeline: collectorPipelineOf(this.extra.collectorConfig),
      }),
    ];
  }

  override observers(signals: readonly Signal[]): StackObserver[] {
    return [
      new HpaObserver(this.client, { namespace: PHASE3_NAMES.namespace, name: PHASE3_NAMES.hpa }, this.extra.progress),
      ...super.observers(signals),
    ];
  }

  override async logs(component: string): Promise<string[]> {
    if (component !== 'otelcol' && component !== PHASE3_NAMES.deployment) return this.docker.logs(component);
    await this.keepLogs();
    // Lines carry the kubelet's timestamp (for de-duplication across reads); the log line follows it.
    return [...this.podLogs.values()].flatMap((lines) => [...lines].map((l) => l.replace(/^\S+ /, '')));
  }

  get bootSeconds(): number {
    return this.docker.bootSeconds + this.extra.clusterSeconds;
  }

  override async stop(): Promise<void> {
    if (this.logTimer !== undefined) clearInterval(this.logTimer);
    await new Promise<void>((resolve) =>
      this.metricsServer === undefined ? resolve() : this.metricsServer.close(() => resolve()),
    );
    this.metricsServer = undefined;
    await this.client.close().catch(() => undefined);
    await stopNode(this.docker);
    try {
      await super.stop();
    } finally {
      await rm(this.extra.runDir, { recursive: true, force: true });
    }
  }
}
