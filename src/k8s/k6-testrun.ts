import { stringify } from 'yaml';

/** k6-operator's TestRun resource (k6.io/v1alpha1), the subset otel-harness renders. */
export interface TestRunInput {
  name: string;
  namespace: string;
  parallelism: number;
  /** `k6 archive` of the scenario (the script and every module it imports), base64. */
  archiveBase64: string;
  /** Environment of every runner: the scenario's __ENV (endpoint, run id, rate, duration, …). */
  env: Record<string, string>;
  runnerImage: string;
  /** The image of the starter Job (curl); the operator's default is ghcr.io/grafana/k6-operator:latest-starter. */
  starterImage?: string;
  /** k6 run arguments, space-separated (default `--no-usage-report`). */
  arguments?: string;
  /** `post`: the operator deletes the jobs when the run ends (default); `none`: whoever applied it does. */
  cleanup?: 'post' | 'none';
  /** Labels on every runner pod, besides the operator's own (app, k6_cr, runner). */
  podLabels?: Record<string, string>;
}

export const ARCHIVE_KEY = 'archive.tar';

/** Kubernetes names: lower-case RFC 1123 labels, at most 63 characters. */
export function isDnsLabel(name: string): boolean {
  return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) && name.length <= 63;
}

/**
 * A ConfigMap holding the scenario archive and a TestRun running it on `parallelism` runners. k6 splits
 * the arrival rate across runners (execution segments) and keeps iteration numbers — hence sequence
 * numbers and ids — unique across them, so the verifiers apply unchanged.
 */
export function renderTestRun(input: TestRunInput): {
  configMap: Record<string, unknown>;
  testRun: Record<string, unknown>;
} {
  const labels = {
    'app.kubernetes.io/managed-by': 'otel-harness',
    'io.otel-harness.run': input.env.RUN_ID ?? input.name,
  };
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${input.name}-script`, namespace: input.namespace, labels },
    binaryData: { [ARCHIVE_KEY]: input.archiveBase64 },
  };
  const testRun = {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: { name: input.name, namespace: input.namespace, labels },
    spec: {
      parallelism: input.parallelism,
      script: { configMap: { name: `${input.name}-script`, file: ARCHIVE_KEY } },
      arguments: input.arguments ?? '--no-usage-report',
      separate: false,
      ...((input.cleanup ?? 'post') === 'post' ? { cleanup: 'post' } : {}),
      runner: {
        image: input.runnerImage,
        ...(input.podLabels === undefined ? {} : { metadata: { labels: input.podLabels } }),
        env: Object.entries(input.env).map(([name, value]) => ({ name, value })),
      },
      ...(input.starterImage === undefined ? {} : { starter: { image: input.starterImage } }),
    },
  };
  return { configMap, testRun };
}

export function toYaml(objects: readonly Record<string, unknown>[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}
