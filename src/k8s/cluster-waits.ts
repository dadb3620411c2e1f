import { ExitCode, HarnessError } from '../harness-error.js';
import { KubeApiError, type KubeClient, type KubeList, type KubeObject } from './kube-client.js';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface PodObject extends KubeObject {
  spec?: { nodeName?: string; containers?: { name: string }[] };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: Condition[];
    containerStatuses?: {
      name: string;
      ready: boolean;
      restartCount: number;
      state?: Record<string, { reason?: string; message?: string; exitCode?: number }>;
    }[];
  };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason as Error);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Polls `check` every `everyMs` until it returns a value, or throws the error `onTimeout` gives. */
export async function pollUntil<T>(
  check: () => Promise<T | undefined>,
  options: { timeoutMs: number; everyMs: number; signal?: AbortSignal; onTimeout: () => Promise<Error> },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    options.signal?.throwIfAborted();
    let value: T | undefined;
    try {
      value = await check();
    } catch (err) {
      if (!(err instanceof KubeApiError) && !(err instanceof HarnessError)) throw err;
    }
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw await options.onTimeout();
    await sleep(options.everyMs, options.signal);
  }
}

export function isPodReady(pod: PodObject): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** Whether an APIService (e.g. v1beta1.metrics.k8s.io) reports Available=True. */
export async function apiServiceAvailable(client: KubeClient, name: string): Promise<boolean> {
  const svc = await client.get<KubeObject & { status?: { conditions?: Condition[] } }>(
    `/apis/apiregistration.k8s.io/v1/apiservices/${name}`,
  );
  return svc.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') === true;
}

/**
 * What a platform engineer needs when pods do not become ready: each pod's phase and container states,
 * its recent events, and its containers' last log lines.
 */
export async function describePods(client: KubeClient, namespace: string, selector: string): Promise<string> {
  const lines: string[] = [];
  try {
    const pods = await client.get<KubeList<PodObject>>(
      `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(selector)}`,
    );
    const events = await client.get<
      KubeList<KubeObject & { involvedObject?: { name?: string }; reason?: string; message?: string; type?: string }>
    >(`/api/v1/namespaces/${namespace}/events`);
    if (pods.items.length === 0) lines.push(`no pod matches ${selector} in ${namespace}`);
    for (const pod of pods.items) {
      const states = (pod.status?.containerStatuses ?? [])
        .map((c) => {
          const [state, detail] = Object.entries(c.state ?? {})[0] ?? ['unknown', {}];
          return `${c.name}: ${state}${detail.reason === undefined ? '' : ` (${detail.reason})`}, restarts ${c.restartCount}`;
        })
        .join('; ');
      lines.push(`pod ${pod.metadata.name}: ${pod.status?.phase ?? '?'}${states === '' ? '' : ` — ${states}`}`);
      for (const e of events.items.filter((x) => x.involvedObject?.name === pod.metadata.name).slice(-8)) {
        lines.push(`  event ${e.type ?? ''} ${e.reason ?? ''}: ${e.message ?? ''}`);
      }
      for (const c of pod.spec?.containers ?? []) {
        try {
          const log = await client.getText(
            `/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}/log?container=${c.name}&tailLines=15`,
          );
          if (log.trim() !== '')
            lines.push(
              `  last log lines of ${c.name}:`,
              ...log
                .trimEnd()
                .split('\n')
                .map((l) => `    ${l}`),
            );
        } catch {
          // no log yet (container never started)
        }
      }
    }
  } catch (err) {
    lines.push(`(could not read the pods: ${(err as Error).message})`);
  }
  return lines.join('\n');
}

/** Waits until a Deployment has `replicas` ready pods; exit 5 with the pods' states, events and logs otherwise. */
export async function waitDeploymentReady(
  client: KubeClient,
  namespace: string,
  name: string,
  selector: string,
  options: { replicas: number; timeoutMs: number; signal?: AbortSignal },
): Promise<void> {
  await pollUntil(
    async () => {
      const d = await client.get<KubeObject & { status?: { readyReplicas?: number } }>(
        `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`,
      );
      return (d.status?.readyReplicas ?? 0) >= options.replicas ? true : undefined;
    },
    {
      timeoutMs: options.timeoutMs,
      everyMs: 1000,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onTimeout: async () =>
        new HarnessError(
          `Deployment ${namespace}/${name} did not get ${options.replicas} ready pods within ${Math.round(options.timeoutMs / 1000)} s`,
          {
            code: 'PODS_NOT_READY',
            exitCode: ExitCode.stackFailed,
            details: await describePods(client, namespace, selector),
            hint: 'the pod states, events and log lines below say why',
          },
        ),
    },
  );
}

/** Waits until `count` pods matching `selector` are ready, and returns them; exit 5 with their states otherwise. */
export async function waitPodsReady(
  client: KubeClient,
  namespace: string,
  selector: string,
  options: { count: number; timeoutMs: number; what: string; signal?: AbortSignal },
): Promise<PodObject[]> {
  return pollUntil(
    async () => {
      const pods = await client.get<KubeList<PodObject>>(
        `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(selector)}`,
      );
      const ready = pods.items.filter(isPodReady);
      return ready.length >= options.count ? ready : undefined;
    },
    {
      timeoutMs: options.timeoutMs,
      everyMs: 1000,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onTimeout: async () =>
        new HarnessError(
          `${options.what} did not get ${options.count} ready pod(s) within ${Math.round(options.timeoutMs / 1000)} s`,
          {
            code: 'PODS_NOT_READY',
            exitCode: ExitCode.stackFailed,
            details: await describePods(client, namespace, selector),
            hint: 'the pod states, events and log lines below say why',
          },
        ),
    },
  );
}

export { sleep };
