import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DockerEngine } from '../../docker/docker-engine.js';
import { connectDockerEngine } from '../../docker/docker-engine.js';
import { newRunId } from '../../docker/labels.js';
import { ExitCode, HarnessError } from '../../harness-error.js';
import { apiServiceAvailable, pollUntil, waitDeploymentReady, waitPodsReady } from '../../k8s/cluster-waits.js';
import { KubeClient, type KubeObject } from '../../k8s/kube-client.js';
import { loadKubeconfig } from '../../k8s/kubeconfig.js';
import { deployK6Operator } from '../../k8s/k6-operator.js';
import type { ClusterEngine } from '../../load/drivers/driver.js';
import { cacheDir, stacksDir } from '../../paths.js';
import { HARNESS_POD, harnessLogLayout, makePodLogsDir, type LogFileChoice } from '../log-agent.js';
import { harnessLogFiles, NodeLogFiles } from '../node-log-files.js';
import {
  harnessLogPodManifests,
  NODE_COLLECTOR,
  NODE_POD_LOGS,
  nodeCollectorManifests,
  nodeCollectorScraper,
} from './node-collector.js';
import { BaseStackBuilder } from '../docker/base-builder.js';
import type { DockerStack } from '../docker/docker-stack.js';
import type { StackChoice } from '../topology.js';
import { PHASE3_NAMES, phase3CollectorConfig, phase3Definition } from './definition.js';
import {
  collectorManifests,
  kubeletApiAccess,
  metricsServerManifests,
  type CollectorResources,
  type HpaSettings,
} from './manifests.js';
import { COLLECTOR_SELECTOR, Phase3Stack, stopNode } from './phase3-stack.js';

/** An image as the node's containerd names it: an imported `name:tag` is docker.io/name:tag, as the kubelet says. */
function inClusterRef(images: ReadonlyMap<string, string>, component: string): string {
  const ref = images.get(component)!;
  return ref.split('/')[0]!.includes('.') ? ref : `docker.io/${ref}`;
}

/** A Service's ClusterIP (there is no cluster DNS on the node: pods reach Services by address). */
function clusterIpOf(service: KubeObject & { spec?: { clusterIP?: string } }): string {
  const ip = service.spec?.clusterIP;
  if (ip === undefined || ip === '' || ip === 'None')
    throw new Error(`service ${service.metadata.name} has no ClusterIP`);
  return ip;
}

/** Components that run inside the node (imported into its containerd at boot). */
const IN_CLUSTER = ['pause', 'metrics-server', 'otelcol'] as const;
/** With --driver k6-operator: the operator and the k6 its TestRuns run. */
const CLUSTER_LOAD = ['k6-operator', 'k6-runner'] as const;
const METRICS_RESOLUTION_SECONDS = 15;
const NODE_READY_TIMEOUT_MS = 120_000;
const PODS_READY_TIMEOUT_MS = 120_000;
const METRICS_API_TIMEOUT_MS = 120_000;

export interface Phase3TopologyOptions {
  hpa: HpaSettings;
  resources: CollectorResources;
  terminationGraceSeconds: number;
  /** Prometheus's TSDB out-of-order window (0: unset, as the seed's Prometheus). */
  prometheusOooWindowSeconds: number;
  /** `--log-source file`: the files' format and rotation; undefined: logs are pushed as OTLP. */
  logFiles: LogFileChoice | undefined;
}

/** `docker save` of an image, cached by image id: archives are reused across runs. */
async function imageArchive(engine: DockerEngine, ref: string): Promise<string> {
  const info = await engine.dockerode.getImage(ref).inspect();
  const dir = join(cacheDir(), 'kube-node', 'images');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${info.Id.replace(/^sha256:/, '')}.tar`);
  if (existsSync(path)) return path;
  const partial = `${path}.${process.pid}.partial`;
  const stream = await engine.dockerode.getImage(ref).get();
  const { createWriteStream } = await import('node:fs');
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(partial);
    stream.on('error', reject);
    out.on('error', reject);
    out.on('finish', resolve);
    stream.pipe(out);
  });
  renameSync(partial, path);
  return path;
}

/**
 * Builder for Phase 3: backends on Docker, one Kubernetes node container (kube-node) running the
 * collector Deployment with the seeds' HPA, metrics-server, and the images it needs imported at boot.
 */
export class Phase3Builder extends BaseStackBuilder<Phase3Stack> {
  constructor(
    private readonly options: Phase3TopologyOptions,
    choice: StackChoice,
  ) {
    super(choice);
  }

  override withCollectorConfig(): this {
    throw new HarnessError('Phase 3 runs the seed collector configuration; --collector-config is not available', {
      code: 'USAGE',
      exitCode: ExitCode.usage,
    });
  }

  async start(): Promise<Phase3Stack> {
    const engine = await connectDockerEngine();
    const runId = this.runId ?? newRunId();
    const runDir = join(cacheDir(), 'runs', runId);
    const imagesDir = join(runDir, 'images');
    const logFiles = this.options.logFiles;
    const podLogsDir = logFiles === undefined ? undefined : makePodLogsDir(runId);
    const definition = this.onStorage(
      phase3Definition({
        imagesDir,
        runId,
        controllerManagerArgs: [],
        prometheusOooWindowSeconds: this.options.prometheusOooWindowSeconds,
        ...(podLogsDir === undefined ? {} : { podLogsDir }),
      }),
    );
    const inCluster: string[] = [...IN_CLUSTER, ...(this.choice.clusterLoad === true ? CLUSTER_LOAD : [])];
    const resolved = await this.resolveImages(engine, {
      services: [...definition.services, ...inCluster.map((component) => ({ component }))],
    });
    mkdirSync(imagesDir, { recursive: true });
    for (const component of inCluster) {
      const ref = resolved.images.get(component)!;
      this.progress(`kube-node: saving ${ref} for the node's containerd`);
      linkSync(await imageArchive(engine, ref), join(imagesDir, `${component}.tar`));
    }
    let docker: DockerStack | undefined;
    try {
      docker = await this.boot(engine, definition, resolved, runId);
      const started = Date.now();
      const kubeconfigPath = join(runDir, 'kubeconfig');
      const client = await this.connect(docker, kubeconfigPath);
      const config = phase3CollectorConfig();
      // The k6-operator installs while the collector starts and the HPA waits for its first reading.
      const operator =
        this.choice.clusterLoad === true
          ? deployK6Operator(client, inClusterRef(resolved.images, 'k6-operator'), this.progress, this.signal)
          : undefined;
      operator?.catch(() => undefined); // awaited below; a failure of deploy() must not leave it unhandled
      await this.deploy(client, docker, resolved.images, config, runId);
      const files =
        podLogsDir === undefined || logFiles === undefined
          ? undefined
          : await this.deployNodeCollector(client, resolved.images, runId, podLogsDir, logFiles);
      const cluster =
        operator === undefined ? undefined : await operator.then(() => this.loadEngine(client, resolved.images));
      const stack = new Phase3Stack(docker, client, {
        ...(cluster === undefined ? {} : { cluster }),
        ...(files === undefined ? {} : { files }),
        collectorConfig: config,
        kubeconfigPath,
        runDir,
        progress: this.progress,
        clusterSeconds: (Date.now() - started) / 1000,
      });
      await stack.listen();
      return stack;
    } catch (err) {
      if (docker !== undefined)
        await stopNode(docker)
          .then(() => docker!.stop())
          .catch(() => undefined);
      await rm(runDir, { recursive: true, force: true });
      if (podLogsDir !== undefined) await rm(podLogsDir, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * `--log-source file`: the pod whose container logs the harness writes (the kubelet keeps the directory of
   * a pod it runs), and seed 003's node collector as a DaemonSet reading the node's /var/log/pods and
   * forwarding to the gateway collectors' Service.
   */
  private async deployNodeCollector(
    client: KubeClient,
    images: ReadonlyMap<string, string>,
    runId: string,
    podLogsDir: string,
    choice: LogFileChoice,
  ): Promise<NodeLogFiles> {
    const wait = { timeoutMs: PODS_READY_TIMEOUT_MS, ...(this.signal === undefined ? {} : { signal: this.signal }) };
    this.progress(
      `kube-node: starting pod ${HARNESS_POD.namespace}/${HARNESS_POD.name}, whose container logs the harness writes`,
    );
    for (const o of harnessLogPodManifests(inClusterRef(images, 'pause'), runId)) await client.apply(o);
    const [pod] = await waitPodsReady(client, HARNESS_POD.namespace, `io.otel-harness.run=${runId}`, {
      ...wait,
      count: 1,
      what: `pod ${HARNESS_POD.namespace}/${HARNESS_POD.name}`,
    });
    const uid = pod!.metadata.uid!;
    const gateway = await client.get<KubeObject & { spec?: { clusterIP?: string } }>(
      `/api/v1/namespaces/${PHASE3_NAMES.namespace}/services/${PHASE3_NAMES.service}`,
    );
    this.progress(
      `kube-node: deploying the node collector (DaemonSet ${NODE_COLLECTOR.name}: filelog over ${NODE_POD_LOGS})`,
    );
    for (const o of nodeCollectorManifests({
      image: inClusterRef(images, 'otelcol'),
      config: readFileSync(join(stacksDir(), 'phase1', 'agent.yaml'), 'utf8'),
      gatewayIp: clusterIpOf(gateway),
      runId,
    }))
      await client.apply(o);
    await waitPodsReady(client, PHASE3_NAMES.namespace, NODE_COLLECTOR.selector, {
      ...wait,
      count: 1,
      what: `DaemonSet ${PHASE3_NAMES.namespace}/${NODE_COLLECTOR.name}`,
    });
    const base = harnessLogLayout(podLogsDir, runId, choice);
    const layout = { ...base, pod: { ...base.pod, uid } };
    return new NodeLogFiles(harnessLogFiles(layout), {
      name: NODE_COLLECTOR.name,
      root: NODE_POD_LOGS,
      source: {
        metricsUrl: `pods of ${NODE_COLLECTOR.selector}, :8888/metrics`,
        read: nodeCollectorScraper(client),
      },
      otherFiles: "the node's other pods' logs (collectors, metrics-server)",
    });
  }

  /** The node's admin kubeconfig, pointed at the published API port; a client once the node is Ready. */
  private async connect(docker: DockerStack, kubeconfigPath: string): Promise<KubeClient> {
    const node = docker.service('kube-node').container;
    const { output, exitCode } = await node.exec(['cat', '/etc/kubernetes/super-admin.conf']);
    if (exitCode !== 0) throw new Error(`kube-node has no admin kubeconfig: ${output}`);
    const server = `https://127.0.0.1:${docker.hostPort('kube-node', 6443)}`;
    const text = output.replace(/server: https:\/\/\S+/, `server: ${server}`);
    writeFileSync(kubeconfigPath, text, { mode: 0o600 });
    const client = new KubeClient(loadKubeconfig(kubeconfigPath));
    this.progress('kube-node: waiting for the node to be Ready');
    await pollUntil(
      async () => {
        const nodes = await client.get<{ items: { status?: { conditions?: { type: string; status: string }[] } }[] }>(
          '/api/v1/nodes',
        );
        return nodes.items.some((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
          ? true
          : undefined;
      },
      {
        timeoutMs: NODE_READY_TIMEOUT_MS,
        everyMs: 1000,
        ...(this.signal === undefined ? {} : { signal: this.signal }),
        onTimeout: async () => {
          const logs = await node.exec(['tail', '-n', '30', '/var/log/kubernetes/kubelet.log']).catch(() => undefined);
          return new HarnessError('the Kubernetes node did not become Ready', {
            code: 'NODE_NOT_READY',
            exitCode: ExitCode.stackFailed,
            ...(logs === undefined ? {} : { details: `last kubelet log lines:\n${logs.output}` }),
          });
        },
      },
    );
    return client;
  }

  /** Where the k6-operator's TestRuns send: the collector Service's ClusterIP (no cluster DNS here). */
  private async loadEngine(client: KubeClient, images: ReadonlyMap<string, string>): Promise<ClusterEngine> {
    const service = await client.get<KubeObject & { spec?: { clusterIP?: string } }>(
      `/api/v1/namespaces/${PHASE3_NAMES.namespace}/services/${PHASE3_NAMES.service}`,
    );
    const ip = clusterIpOf(service);
    const runner = inClusterRef(images, 'k6-runner');
    return {
      client,
      namespace: PHASE3_NAMES.namespace,
      otlpHttp: `http://${ip}:4318`,
      runnerImage: runner,
      starterImage: runner,
    };
  }

  private async deploy(
    client: KubeClient,
    docker: DockerStack,
    images: ReadonlyMap<string, string>,
    config: string,
    runId: string,
  ): Promise<void> {
    const inCluster = (component: string) => inClusterRef(images, component);
    for (const o of kubeletApiAccess()) await client.apply(o);
    this.progress('kube-node: deploying metrics-server');
    for (const o of metricsServerManifests(inCluster('metrics-server'), METRICS_RESOLUTION_SECONDS))
      await client.apply(o);
    const hostAliases: Record<string, string> = {};
    for (const service of ['tempo', 'prometheus', 'loki']) {
      const inspect = await docker.dockerode.getContainer(docker.service(service).container.getId()).inspect();
      const ip = inspect.NetworkSettings.Networks[docker.network]?.IPAddress;
      if (ip === undefined || ip === '') throw new Error(`${service} has no address on ${docker.network}`);
      hostAliases[service] = ip;
    }
    this.progress(
      `kube-node: deploying the collector (HPA ${this.options.hpa.minReplicas}–${this.options.hpa.maxReplicas} replicas, ` +
        `CPU ${this.options.hpa.cpuTargetPct} % of ${this.options.resources.cpuRequestMilli}m)`,
    );
    const objects: KubeObject[] = collectorManifests({
      image: inCluster('otelcol'),
      config,
      hpa: this.options.hpa,
      resources: this.options.resources,
      hostAliases,
      terminationGraceSeconds: this.options.terminationGraceSeconds,
      runId,
    });
    for (const o of objects) await client.apply(o);
    await waitDeploymentReady(client, PHASE3_NAMES.namespace, PHASE3_NAMES.deployment, COLLECTOR_SELECTOR, {
      replicas: this.options.hpa.minReplicas,
      timeoutMs: PODS_READY_TIMEOUT_MS,
      ...(this.signal === undefined ? {} : { signal: this.signal }),
    });
    this.progress("kube-node: waiting for metrics.k8s.io and the HPA's first CPU reading");
    await pollUntil(async () => ((await apiServiceAvailable(client, 'v1beta1.metrics.k8s.io')) ? true : undefined), {
      timeoutMs: METRICS_API_TIMEOUT_MS,
      everyMs: 1000,
      ...(this.signal === undefined ? {} : { signal: this.signal }),
      onTimeout: () =>
        Promise.resolve(
          new HarnessError('metrics.k8s.io is not served: the HPA cannot read CPU or memory', {
            code: 'METRICS_API_MISSING',
            exitCode: ExitCode.stackFailed,
            hint: 'metrics-server did not become available; its pod events are in `kubectl -n kube-system describe pod -l k8s-app=metrics-server`',
          }),
        ),
    });
    await pollUntil(
      async () => {
        const hpa = await client.get<
          KubeObject & {
            status?: { currentMetrics?: { resource?: { name: string; current?: { averageUtilization?: number } } }[] };
          }
        >(`/apis/autoscaling/v2/namespaces/${PHASE3_NAMES.namespace}/horizontalpodautoscalers/${PHASE3_NAMES.hpa}`);
        const cpu = hpa.status?.currentMetrics?.find((m) => m.resource?.name === 'cpu');
        return cpu?.resource?.current?.averageUtilization !== undefined ? true : undefined;
      },
      {
        timeoutMs: METRICS_API_TIMEOUT_MS,
        everyMs: 2000,
        ...(this.signal === undefined ? {} : { signal: this.signal }),
        onTimeout: () =>
          Promise.resolve(
            new HarnessError('the HPA has no CPU reading of the collector pods', {
              code: 'HPA_NO_METRICS',
              exitCode: ExitCode.stackFailed,
              hint: 'metrics-server serves no pod metrics yet; `kubectl describe hpa -n observability` says why',
            }),
          ),
      },
    );
  }
}
