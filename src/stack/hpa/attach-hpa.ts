import { homedir } from 'node:os';
import { join } from 'node:path';
import { configurationError, ExitCode, HarnessError } from '../../harness-error.js';
import { HpaObserver, type HpaTarget } from './hpa-observer.js';
import { KubeApiError, KubeClient } from '../../k8s/kube-client.js';
import { loadKubeconfig } from '../../k8s/kubeconfig.js';

/** `namespace/name` of an HPA (`--hpa`). */
export function parseHpaRef(raw: string, name = '--hpa'): HpaTarget {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(raw.trim());
  if (m === null) throw configurationError(name, 'namespace/name of a HorizontalPodAutoscaler', raw);
  return { namespace: m[1]!, name: m[3]! };
}

/** The kubeconfig to use: the flag, else $KUBECONFIG's first file, else ~/.kube/config. */
export function kubeconfigPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag !== undefined) return flag;
  const fromEnv = (env.KUBECONFIG ?? '').split(':').find((p) => p !== '');
  return fromEnv ?? join(homedir(), '.kube', 'config');
}

/**
 * Connects to the user's cluster read-only and checks what watching its HPAs needs: the API answers,
 * metrics.k8s.io is served (exit 5 otherwise, naming it), every HPA exists (exit 2 otherwise). Returns
 * the client and one observer per HPA.
 */
export async function attachHpas(options: {
  kubeconfig: string;
  context: string | undefined;
  hpas: readonly HpaTarget[];
  progress: (message: string) => void;
}): Promise<{ client: KubeClient; observers: HpaObserver[] }> {
  const credentials = loadKubeconfig(
    options.kubeconfig,
    options.context === undefined ? {} : { context: options.context },
  );
  const client = new KubeClient(credentials);
  try {
    const version = await client.get<{ gitVersion?: string }>('/version');
    options.progress(
      `kubernetes: ${credentials.server} (context ${credentials.context}, ${version.gitVersion ?? '?'})`,
    );
    try {
      await client.get('/apis/metrics.k8s.io/v1beta1');
    } catch (err) {
      if (err instanceof KubeApiError && (err.status === 404 || err.status === 503)) {
        throw new HarnessError(
          'metrics.k8s.io not served: install metrics-server (the HPA reads CPU and memory there)',
          {
            code: 'METRICS_API_MISSING',
            exitCode: ExitCode.stackFailed,
            details: err.message,
          },
        );
      }
      throw err;
    }
    for (const hpa of options.hpas) {
      try {
        await client.get(`/apis/autoscaling/v2/namespaces/${hpa.namespace}/horizontalpodautoscalers/${hpa.name}`);
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404)
          throw configurationError(
            '--hpa',
            'an existing HorizontalPodAutoscaler (autoscaling/v2)',
            `${hpa.namespace}/${hpa.name}`,
          );
        throw err;
      }
    }
  } catch (err) {
    await client.close().catch(() => undefined);
    if (err instanceof KubeApiError) {
      throw new HarnessError(`the Kubernetes API refused a read: ${err.message}`, {
        code: 'KUBE_FORBIDDEN',
        exitCode: ExitCode.stackFailed,
        hint: 'the kubeconfig user needs get/list/watch on horizontalpodautoscalers, deployments, pods, events and pods.metrics.k8s.io',
      });
    }
    throw err;
  }
  return { client, observers: options.hpas.map((hpa) => new HpaObserver(client, hpa, options.progress)) };
}
