import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ExitCode, HarnessError } from '../harness-error.js';
import { loadCatalog } from '../images/catalog.js';
import { runCommand } from '../images/run-command.js';
import { pollUntil, waitDeploymentReady } from './cluster-waits.js';
import type { KubeClient, KubeObject } from './kube-client.js';

export const K6_OPERATOR = {
  namespace: 'otel-harness-k6',
  deployment: 'k6-operator',
  selector: 'app.kubernetes.io/name=k6-operator',
  clusterRole: 'otel-harness-k6-operator',
} as const;

const LABELS = { 'app.kubernetes.io/name': 'k6-operator', 'app.kubernetes.io/managed-by': 'otel-harness' };

/** What the operator's module ships beside its code: its CRDs and the ClusterRole's rules. */
export interface K6OperatorSources {
  ref: string;
  crds: KubeObject[];
  rules: unknown[];
}

/**
 * The k6-operator's CRDs (TestRun, PrivateLoadZone) and RBAC rules, read from the module the catalog pins
 * (`go mod download`, served from the module cache once the image was built): nothing of it is copied
 * into this project.
 */
export async function k6OperatorSources(): Promise<K6OperatorSources> {
  const component = loadCatalog().components.get('k6-operator');
  const recipe = component?.recipe;
  if (recipe === undefined || recipe.kind !== 'go-module') throw new Error('the catalog has no k6-operator module');
  const ref = `${recipe.module}@${recipe.moduleVersion}`;
  const json = await runCommand('go', ['mod', 'download', '-json', ref], { captureStdout: true }).catch(
    (err: unknown) => {
      throw new HarnessError(`the k6-operator's CRDs cannot be read: go mod download ${ref} failed`, {
        code: 'K6_OPERATOR_SOURCE',
        exitCode: ExitCode.stackFailed,
        details: err instanceof Error ? err.message : String(err),
      });
    },
  );
  const dir = (JSON.parse(json) as { Dir?: string }).Dir;
  if (dir === undefined) throw new Error(`go mod download ${ref} gave no directory`);
  const docs = (file: string) =>
    parseAllDocuments(readFileSync(join(dir, file), 'utf8'))
      .map((d) => d.toJS() as KubeObject | null)
      .filter((d): d is KubeObject => d !== null);
  const crds = ['k6.io_testruns.yaml', 'k6.io_privateloadzones.yaml'].flatMap((f) =>
    docs(join('config', 'crd', 'bases', f)),
  );
  const role: (KubeObject & { rules?: unknown[] }) | undefined = docs(join('config', 'rbac', 'role.yaml')).find(
    (d) => d.kind === 'ClusterRole',
  );
  if (role?.rules === undefined) throw new Error(`${ref} has no ClusterRole in config/rbac/role.yaml`);
  return { ref, crds, rules: role.rules };
}

/**
 * The operator as its kustomize default deploys it, in otel-harness's own namespace: a ServiceAccount, the
 * module's ClusterRole bound to it, and the manager Deployment (one replica, no leader election).
 */
export function k6OperatorManifests(image: string, rules: readonly unknown[]): KubeObject[] {
  const ns = K6_OPERATOR.namespace;
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: LABELS } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'k6-operator', namespace: ns, labels: LABELS } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: K6_OPERATOR.clusterRole, labels: LABELS },
      rules,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: K6_OPERATOR.clusterRole, labels: LABELS },
      subjects: [{ kind: 'ServiceAccount', name: 'k6-operator', namespace: ns }],
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: K6_OPERATOR.clusterRole },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: K6_OPERATOR.deployment, namespace: ns, labels: LABELS },
      spec: {
        replicas: 1,
        selector: { matchLabels: { 'app.kubernetes.io/name': 'k6-operator' } },
        template: {
          metadata: { labels: LABELS },
          spec: {
            serviceAccountName: 'k6-operator',
            containers: [
              {
                name: 'manager',
                image,
                imagePullPolicy: 'IfNotPresent',
                // v0.0.19's manager parses --health-addr but never serves it (main.go sets no
                // HealthProbeBindAddress): no probe, ready once it runs.
                args: ['--metrics-addr=:8080'],
                ports: [{ name: 'metrics', containerPort: 8080 }],
                resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } },
              },
            ],
          },
        },
      },
    },
  ];
}

/** Installs the operator (CRDs established, manager ready). Idempotent: server-side apply. */
export async function deployK6Operator(
  client: KubeClient,
  image: string,
  progress: (message: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const sources = await k6OperatorSources();
  progress(`k6-operator: installing ${sources.ref} (CRDs TestRun, PrivateLoadZone; manager ${image})`);
  for (const crd of sources.crds) await client.apply(crd);
  for (const crd of sources.crds) {
    await pollUntil(
      async () => {
        const o = await client.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(
          `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
        );
        return o.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
      },
      {
        timeoutMs: 60_000,
        everyMs: 500,
        ...(signal === undefined ? {} : { signal }),
        onTimeout: () =>
          Promise.resolve(
            new HarnessError(`CRD ${crd.metadata.name} was not established`, {
              code: 'K6_OPERATOR_CRD',
              exitCode: ExitCode.stackFailed,
            }),
          ),
      },
    );
  }
  for (const o of k6OperatorManifests(image, sources.rules)) await client.apply(o);
  await waitDeploymentReady(client, K6_OPERATOR.namespace, K6_OPERATOR.deployment, K6_OPERATOR.selector, {
    replicas: 1,
    timeoutMs: 120_000,
    ...(signal === undefined ? {} : { signal }),
  });
  progress('k6-operator: ready');
}
