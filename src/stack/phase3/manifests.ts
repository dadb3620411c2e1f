import type { KubeObject } from '../../k8s/kube-client.js';
import { NODE_PORTS, PHASE3_NAMES } from './definition.js';

/** The collector's autoscaling, from the seeds (000: 2–5 replicas, CPU 70 %, memory 80 %; 002: behavior). */
export interface HpaSettings {
  minReplicas: number;
  maxReplicas: number;
  /** averageUtilization targets, % of the pod's requests. */
  cpuTargetPct: number;
  memoryTargetPct: number;
  /** behavior.scaleUp / scaleDown stabilizationWindowSeconds (seed 002: 0 and 300). */
  scaleUpWindowSeconds: number;
  scaleDownWindowSeconds: number;
}

export const SEED_HPA: HpaSettings = {
  minReplicas: 2,
  maxReplicas: 5,
  cpuTargetPct: 70,
  memoryTargetPct: 80,
  scaleUpWindowSeconds: 0,
  scaleDownWindowSeconds: 300,
};

/** Requests and limits of one collector pod, scaled to this machine (the seeds' collector: 2 CPUs, 2 GiB). */
export interface CollectorResources {
  cpuRequestMilli: number;
  cpuLimitMilli: number;
  memoryRequestMiB: number;
  memoryLimitMiB: number;
}

/**
 * The seeds size one replica per 5,000 spans/s at 70 % CPU (000: 2–5 replicas for 5,000–25,000/s). A
 * collector pod here spends about 10–15 millicores per 1,000 items/s (measured: 23m at 1,000/s, 31m at
 * 2,000/s for two pods), and this machine tops out near 4,500 items/s: 20m puts one replica's 70 % near
 * 1,000 items/s, so the seeds' 2→5 range is crossed within what this machine can offer.
 */
export const DEFAULT_COLLECTOR_RESOURCES: CollectorResources = {
  cpuRequestMilli: 20,
  cpuLimitMilli: 1000,
  memoryRequestMiB: 512,
  memoryLimitMiB: 2048,
};

export interface CollectorManifestInput {
  image: string;
  config: string;
  hpa: HpaSettings;
  resources: CollectorResources;
  /** Backend host names → their addresses on the run's Docker network (pods have no Docker DNS). */
  hostAliases: Record<string, string>;
  /** Seconds a terminating pod has to drain (seed: the collector's graceful shutdown). */
  terminationGraceSeconds: number;
  runId: string;
}

const APP = { 'app.kubernetes.io/name': 'otel-collector', 'app.kubernetes.io/component': 'collector' };

/** A collector's configuration as a ConfigMap of the Phase 3 namespace (mounted at /etc/otelcol-contrib). */
export function collectorConfigMap(name: string, labels: Record<string, string>, config: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: PHASE3_NAMES.namespace, labels },
    data: { 'config.yaml': config },
  };
}

/** The start of a collector container: the image built here, run with the ConfigMap's configuration. */
export function collectorContainer(name: string, image: string, goMemLimitMiB: number): Record<string, unknown> {
  return {
    name,
    image,
    imagePullPolicy: 'Never',
    args: ['--config=/etc/otelcol-contrib/config.yaml'],
    env: [{ name: 'GOMEMLIMIT', value: `${goMemLimitMiB}MiB` }],
  };
}

/**
 * The Phase 1 collector as the seeds run it on Kubernetes: a Deployment (persistent queue on an emptyDir,
 * graceful shutdown: a preStop pause while the Service drops the pod, then SIGTERM with time to flush), a
 * NodePort Service, the HPA (autoscaling/v2: CPU and memory utilization, behavior) and a PDB.
 */
export function collectorManifests(input: CollectorManifestInput): KubeObject[] {
  const ns = PHASE3_NAMES.namespace;
  const labels = { ...APP, 'app.kubernetes.io/managed-by': 'otel-harness', 'io.otel-harness.run': input.runId };
  const r = input.resources;
  const hostAliases = Object.entries(
    Object.entries(input.hostAliases).reduce<Record<string, string[]>>((byIp, [host, ip]) => {
      (byIp[ip] ??= []).push(host);
      return byIp;
    }, {}),
  ).map(([ip, hostnames]) => ({ ip, hostnames: hostnames.sort() }));
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } },
    collectorConfigMap(PHASE3_NAMES.config, labels, input.config),
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: PHASE3_NAMES.deployment, namespace: ns, labels },
      spec: {
        replicas: input.hpa.minReplicas,
        selector: { matchLabels: APP },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: {
          metadata: { labels: { ...APP, 'io.otel-harness.run': input.runId } },
          spec: {
            terminationGracePeriodSeconds: input.terminationGraceSeconds,
            hostAliases,
            containers: [
              {
                ...collectorContainer('otel-collector', input.image, Math.floor(r.memoryLimitMiB * 0.8)),
                ports: [
                  { name: 'otlp-grpc', containerPort: 4317 },
                  { name: 'otlp-http', containerPort: 4318 },
                  { name: 'metrics', containerPort: 8888 },
                  { name: 'health', containerPort: 13133 },
                ],
                resources: {
                  requests: { cpu: `${r.cpuRequestMilli}m`, memory: `${r.memoryRequestMiB}Mi` },
                  limits: { cpu: `${r.cpuLimitMilli}m`, memory: `${r.memoryLimitMiB}Mi` },
                },
                readinessProbe: {
                  httpGet: { path: '/health', port: 13133 },
                  periodSeconds: 2,
                  failureThreshold: 2,
                },
                livenessProbe: {
                  httpGet: { path: '/health', port: 13133 },
                  initialDelaySeconds: 10,
                  periodSeconds: 10,
                },
                // The Service stops routing new connections to a terminating pod; until then it serves.
                lifecycle: { preStop: { sleep: { seconds: 5 } } },
                volumeMounts: [
                  { name: 'config', mountPath: '/etc/otelcol-contrib' },
                  { name: 'storage', mountPath: '/var/lib/otelcol' },
                ],
              },
            ],
            securityContext: { runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001 },
            volumes: [
              { name: 'config', configMap: { name: PHASE3_NAMES.config } },
              { name: 'storage', emptyDir: {} },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: PHASE3_NAMES.service, namespace: ns, labels },
      spec: {
        type: 'NodePort',
        selector: APP,
        ports: [
          { name: 'otlp-grpc', port: 4317, targetPort: 4317, nodePort: NODE_PORTS.grpc },
          { name: 'otlp-http', port: 4318, targetPort: 4318, nodePort: NODE_PORTS.http },
        ],
      },
    },
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: PHASE3_NAMES.hpa, namespace: ns, labels },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: PHASE3_NAMES.deployment },
        minReplicas: input.hpa.minReplicas,
        maxReplicas: input.hpa.maxReplicas,
        metrics: [
          {
            type: 'Resource',
            resource: {
              name: 'memory',
              target: { type: 'Utilization', averageUtilization: input.hpa.memoryTargetPct },
            },
          },
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: input.hpa.cpuTargetPct } },
          },
        ],
        behavior: {
          scaleDown: {
            stabilizationWindowSeconds: input.hpa.scaleDownWindowSeconds,
            policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }],
          },
          scaleUp: {
            stabilizationWindowSeconds: input.hpa.scaleUpWindowSeconds,
            policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
          },
        },
      },
    },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: PHASE3_NAMES.pdb, namespace: ns, labels },
      spec: { minAvailable: 1, selector: { matchLabels: APP } },
    },
  ];
}

/**
 * What kubeadm's init would also create: the API server's kubelet client (its certificate names the user
 * kube-apiserver-kubelet-client) may use the kubelet API, so pod logs, exec and port-forward work.
 */
export function kubeletApiAccess(): KubeObject[] {
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'otel-harness:apiserver-kubelet-api-admin' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:kubelet-api-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'kube-apiserver-kubelet-client' }],
    },
  ];
}

/**
 * metrics-server (what the HPA reads CPU and memory from), as its release manifests install it, with the
 * image built here and `--kubelet-insecure-tls` (the kubelet serves a self-signed certificate here).
 */
export function metricsServerManifests(image: string, resolutionSeconds: number): KubeObject[] {
  const ns = 'kube-system';
  const labels = { 'k8s-app': 'metrics-server' };
  const sa = [{ kind: 'ServiceAccount', name: 'metrics-server', namespace: ns }];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'metrics-server', namespace: ns, labels } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: {
        name: 'system:aggregated-metrics-reader',
        labels: {
          ...labels,
          'rbac.authorization.k8s.io/aggregate-to-view': 'true',
          'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
          'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
        },
      },
      rules: [{ apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:metrics-server', labels },
      rules: [
        { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'metrics-server-auth-reader', namespace: ns, labels },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: 'extension-apiserver-authentication-reader',
      },
      subjects: sa,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'metrics-server:system:auth-delegator', labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects: sa,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:metrics-server', labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:metrics-server' },
      subjects: sa,
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'metrics-server', namespace: ns, labels },
      spec: { selector: labels, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 'https' }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'metrics-server', namespace: ns, labels },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'metrics-server',
            priorityClassName: 'system-cluster-critical',
            containers: [
              {
                name: 'metrics-server',
                image,
                imagePullPolicy: 'Never',
                args: [
                  '--cert-dir=/tmp',
                  '--secure-port=10250',
                  '--kubelet-preferred-address-types=InternalIP',
                  '--kubelet-use-node-status-port',
                  '--kubelet-insecure-tls',
                  `--metric-resolution=${resolutionSeconds}s`,
                ],
                ports: [{ name: 'https', containerPort: 10250, protocol: 'TCP' }],
                resources: { requests: { cpu: '50m', memory: '100Mi' } },
                readinessProbe: {
                  httpGet: { path: '/readyz', port: 'https', scheme: 'HTTPS' },
                  periodSeconds: 5,
                  failureThreshold: 3,
                },
                securityContext: {
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  runAsUser: 1000,
                  allowPrivilegeEscalation: false,
                },
                volumeMounts: [{ name: 'tmp-dir', mountPath: '/tmp' }],
              },
            ],
            volumes: [{ name: 'tmp-dir', emptyDir: {} }],
          },
        },
      },
    },
    {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: 'v1beta1.metrics.k8s.io', labels },
      spec: {
        service: { name: 'metrics-server', namespace: ns },
        group: 'metrics.k8s.io',
        version: 'v1beta1',
        insecureSkipTLSVerify: true,
        groupPriorityMinimum: 100,
        versionPriority: 100,
      },
    },
  ];
}
