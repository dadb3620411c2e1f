import type { PodObject } from '../../k8s/cluster-waits.js';
import type { KubeClient, KubeList, KubeObject } from '../../k8s/kube-client.js';
import { parsePrometheusText, type Sample } from '../../observe/prometheus-text.js';
import { HARNESS_POD } from '../log-agent.js';
import { PHASE3_NAMES } from './definition.js';
import { collectorConfigMap, collectorContainer } from './manifests.js';

/** Seed 003's node collector: a DaemonSet reading the pods' log files on each node. */
export const NODE_COLLECTOR = {
  name: 'otel-node-collector',
  config: 'otel-node-collector-config',
  selector: 'app.kubernetes.io/name=otel-node-collector',
  /** Where its file_storage keeps the read offsets, on the node, so a replaced pod resumes. */
  stateDir: '/var/lib/otel-node-collector',
} as const;

/** The kubelet's pod log directory on the node, which the harness's host directory is mounted over. */
export const NODE_POD_LOGS = '/var/log/pods';

/** The container of the harness's log pod: the runtime writes its (empty) log, the harness writes the others. */
const LOG_POD_CONTAINER = 'pause';

export interface NodeCollectorInput {
  image: string;
  /** The agent's configuration (stacks/phase1/agent.yaml: it forwards to `otel-collector:4317`). */
  config: string;
  /** The gateway Service's ClusterIP: `otel-collector` resolves to it (no cluster DNS on this node). */
  gatewayIp: string;
  runId: string;
}

/**
 * The node collector as seed 003 runs it: a DaemonSet whose pod reads /var/log/pods from the node
 * (hostPath, read-only), keeps its offsets in file_storage on the node (hostPath), runs as root to read
 * the runtime's files, and forwards OTLP to the gateway collectors' Service.
 */
export function nodeCollectorManifests(input: NodeCollectorInput): KubeObject[] {
  const ns = PHASE3_NAMES.namespace;
  const app = { 'app.kubernetes.io/name': NODE_COLLECTOR.name, 'app.kubernetes.io/component': 'agent' };
  const labels = { ...app, 'app.kubernetes.io/managed-by': 'otel-harness', 'io.otel-harness.run': input.runId };
  return [
    collectorConfigMap(NODE_COLLECTOR.config, labels, input.config),
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: NODE_COLLECTOR.name, namespace: ns, labels },
      spec: {
        selector: { matchLabels: app },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: { labels: { ...app, 'io.otel-harness.run': input.runId } },
          spec: {
            terminationGracePeriodSeconds: 30,
            hostAliases: [{ ip: input.gatewayIp, hostnames: [PHASE3_NAMES.service] }],
            securityContext: { runAsUser: 0, runAsGroup: 0 },
            containers: [
              {
                ...collectorContainer(NODE_COLLECTOR.name, input.image, 400),
                ports: [
                  { name: 'metrics', containerPort: 8888 },
                  { name: 'health', containerPort: 13133 },
                ],
                resources: {
                  requests: { cpu: '10m', memory: '64Mi' },
                  limits: { cpu: '1', memory: '512Mi' },
                },
                readinessProbe: { httpGet: { path: '/health', port: 13133 }, periodSeconds: 2, failureThreshold: 2 },
                volumeMounts: [
                  { name: 'config', mountPath: '/etc/otelcol-contrib' },
                  { name: 'pod-logs', mountPath: NODE_POD_LOGS, readOnly: true },
                  { name: 'state', mountPath: '/var/lib/otelcol' },
                ],
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: NODE_COLLECTOR.config } },
              { name: 'pod-logs', hostPath: { path: NODE_POD_LOGS, type: 'Directory' } },
              { name: 'state', hostPath: { path: NODE_COLLECTOR.stateDir, type: 'DirectoryOrCreate' } },
            ],
          },
        },
      },
    },
  ];
}

/**
 * The pod whose container logs the harness writes (`--log-source file`): a real pod on the node, so the
 * kubelet keeps its log directory (it removes directories of pods it does not know). Its one container
 * (pause) writes nothing; the harness writes the load's and the canaries' container logs beside it.
 */
export function harnessLogPodManifests(pauseImage: string, runId: string): KubeObject[] {
  const labels = { 'app.kubernetes.io/managed-by': 'otel-harness', 'io.otel-harness.run': runId };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: HARNESS_POD.namespace, labels } },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: HARNESS_POD.name, namespace: HARNESS_POD.namespace, labels },
      spec: {
        terminationGracePeriodSeconds: 0,
        containers: [{ name: LOG_POD_CONTAINER, image: pauseImage, imagePullPolicy: 'Never' }],
      },
    },
  ];
}

/**
 * The node collector's self-metrics through the API server's pod proxy: the newest running pod's (one
 * node: a replaced pod's successor carries on from the offsets it kept; the watch joins the two by uptime).
 * The pod is looked up once and again only when a scrape through it fails (it was replaced), not every second.
 */
export function nodeCollectorScraper(client: KubeClient): () => Promise<Sample[]> {
  let pod: string | undefined;
  const through = async (name: string): Promise<Sample[]> =>
    parsePrometheusText(
      await client.getText(`/api/v1/namespaces/${PHASE3_NAMES.namespace}/pods/${name}:8888/proxy/metrics`),
    );
  return async () => {
    if (pod !== undefined) {
      try {
        return await through(pod);
      } catch {
        pod = undefined;
      }
    }
    pod = await newestRunningPod(client);
    return through(pod);
  };
}

async function newestRunningPod(client: KubeClient): Promise<string> {
  const pods = await client.get<KubeList<PodObject>>(
    `/api/v1/namespaces/${PHASE3_NAMES.namespace}/pods?labelSelector=${encodeURIComponent(NODE_COLLECTOR.selector)}`,
  );
  const newest = pods.items
    .filter((p) => p.status?.phase === 'Running')
    .sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''))[0];
  if (newest === undefined) throw new Error(`no running ${NODE_COLLECTOR.name} pod`);
  return newest.metadata.name;
}
