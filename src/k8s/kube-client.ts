import { Agent, request } from 'undici';
import { ExitCode, HarnessError } from '../harness-error.js';
import type { KubeCredentials } from './kubeconfig.js';

/** A Kubernetes object as the API serves it (only what the harness reads is typed). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface KubeList<T = KubeObject> {
  metadata: { resourceVersion?: string };
  items: T[];
}

export interface WatchEvent<T = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** The kinds the harness creates or reads: API group/version prefix, plural, namespaced. */
const RESOURCES: Record<string, { prefix: string; plural: string; namespaced: boolean }> = {
  'v1/Namespace': { prefix: '/api/v1', plural: 'namespaces', namespaced: false },
  'v1/ConfigMap': { prefix: '/api/v1', plural: 'configmaps', namespaced: true },
  'v1/Service': { prefix: '/api/v1', plural: 'services', namespaced: true },
  'v1/ServiceAccount': { prefix: '/api/v1', plural: 'serviceaccounts', namespaced: true },
  'v1/Pod': { prefix: '/api/v1', plural: 'pods', namespaced: true },
  'v1/Event': { prefix: '/api/v1', plural: 'events', namespaced: true },
  'apps/v1/Deployment': { prefix: '/apis/apps/v1', plural: 'deployments', namespaced: true },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    prefix: '/apis/autoscaling/v2',
    plural: 'horizontalpodautoscalers',
    namespaced: true,
  },
  'policy/v1/PodDisruptionBudget': { prefix: '/apis/policy/v1', plural: 'poddisruptionbudgets', namespaced: true },
  'rbac.authorization.k8s.io/v1/ClusterRole': {
    prefix: '/apis/rbac.authorization.k8s.io/v1',
    plural: 'clusterroles',
    namespaced: false,
  },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': {
    prefix: '/apis/rbac.authorization.k8s.io/v1',
    plural: 'clusterrolebindings',
    namespaced: false,
  },
  'rbac.authorization.k8s.io/v1/RoleBinding': {
    prefix: '/apis/rbac.authorization.k8s.io/v1',
    plural: 'rolebindings',
    namespaced: true,
  },
  'apiextensions.k8s.io/v1/CustomResourceDefinition': {
    prefix: '/apis/apiextensions.k8s.io/v1',
    plural: 'customresourcedefinitions',
    namespaced: false,
  },
  'apps/v1/DaemonSet': { prefix: '/apis/apps/v1', plural: 'daemonsets', namespaced: true },
  'k6.io/v1alpha1/TestRun': { prefix: '/apis/k6.io/v1alpha1', plural: 'testruns', namespaced: true },
  'apiregistration.k8s.io/v1/APIService': {
    prefix: '/apis/apiregistration.k8s.io/v1',
    plural: 'apiservices',
    namespaced: false,
  },
};

/** Path of an object (or of its collection when `name` is undefined). */
export function resourcePath(apiVersion: string, kind: string, namespace: string | undefined, name?: string): string {
  const r = RESOURCES[`${apiVersion}/${kind}`];
  if (r === undefined) throw new Error(`otel-harness does not know the resource ${apiVersion} ${kind}`);
  if (r.namespaced && namespace === undefined) throw new Error(`${kind} ${name ?? ''} needs a namespace`);
  const ns = r.namespaced ? `/namespaces/${encodeURIComponent(namespace!)}` : '';
  return `${r.prefix}${ns}/${r.plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

/** An API answer that was not 2xx. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly path: string,
    readonly reason: string,
    message: string,
  ) {
    super(`${path}: ${status} ${reason}: ${message}`);
    this.name = 'KubeApiError';
  }
}

const FIELD_MANAGER = 'otel-harness';

/**
 * A small Kubernetes REST client: JSON requests, server-side apply, list-then-watch streams. Nothing
 * outside the paths asked for is touched.
 */
export class KubeClient {
  private readonly agent: Agent;
  private readonly headers: Record<string, string>;

  constructor(readonly credentials: KubeCredentials) {
    this.agent = new Agent({
      connect: {
        ...(credentials.ca === undefined ? {} : { ca: credentials.ca }),
        ...(credentials.cert === undefined ? {} : { cert: credentials.cert, key: credentials.key }),
        ...(credentials.serverName === undefined ? {} : { servername: credentials.serverName }),
        rejectUnauthorized: !credentials.insecureSkipTlsVerify,
      },
      keepAliveTimeout: 30_000,
    });
    this.headers = credentials.token === undefined ? {} : { authorization: `Bearer ${credentials.token}` };
  }

  get server(): string {
    return this.credentials.server;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** GET a path; the body as JSON. */
  async get<T = KubeObject>(path: string, signal?: AbortSignal): Promise<T> {
    return JSON.parse(await this.text('GET', path, { signal })) as T;
  }

  /** GET a path whose body is not JSON (e.g. a pod's /metrics through the API server's proxy). */
  async getText(path: string, signal?: AbortSignal): Promise<string> {
    return this.text('GET', path, { signal });
  }

  /** Whether an object exists (404 → false; other errors throw). */
  async exists(path: string): Promise<boolean> {
    try {
      await this.text('GET', path, {});
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return false;
      throw err;
    }
  }

  /**
   * Server-side apply: creates or updates the object to this spec (fields owned by otel-harness). Strict
   * field validation: the API server checks it against its OpenAPI schema and refuses unknown fields.
   */
  async apply(object: KubeObject): Promise<KubeObject> {
    const path = resourcePath(object.apiVersion, object.kind, object.metadata.namespace, object.metadata.name);
    const body = JSON.stringify(object);
    const text = await this.text('PATCH', `${path}?fieldManager=${FIELD_MANAGER}&force=true&fieldValidation=Strict`, {
      body,
      contentType: 'application/apply-patch+yaml',
    });
    return JSON.parse(text) as KubeObject;
  }

  /** Deletes an object (absent already: fine); `propagation` Foreground or Background. */
  async delete(path: string, propagation: 'Background' | 'Foreground' = 'Background'): Promise<void> {
    try {
      await this.text('DELETE', path, {
        body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: propagation }),
        contentType: 'application/json',
      });
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return;
      throw err;
    }
  }

  /** PATCH with a JSON merge patch. */
  async mergePatch(path: string, patch: unknown): Promise<KubeObject> {
    const text = await this.text('PATCH', path, {
      body: JSON.stringify(patch),
      contentType: 'application/merge-patch+json',
    });
    return JSON.parse(text) as KubeObject;
  }

  /**
   * Lists `collectionPath`, then watches it from the list's resourceVersion, calling `onEvent` for each
   * listed object (as ADDED) and each change, until `signal` aborts. A watch the server ends is resumed
   * from the last version seen; a 410 Gone re-lists. Errors other than the abort are passed to `onError`
   * and retried after a second.
   */
  async listAndWatch<T extends KubeObject>(
    collectionPath: string,
    onEvent: (event: WatchEvent<T>, atMs: number) => void,
    signal: AbortSignal,
    onError: (err: unknown) => void = () => undefined,
  ): Promise<void> {
    let resourceVersion: string | undefined;
    const separator = collectionPath.includes('?') ? '&' : '?';
    while (!signal.aborted) {
      try {
        if (resourceVersion === undefined) {
          const list = await this.get<KubeList<T>>(collectionPath, signal);
          const now = Date.now();
          for (const item of list.items) onEvent({ type: 'ADDED', object: item }, now);
          resourceVersion = list.metadata.resourceVersion;
        }
        const path = `${collectionPath}${separator}watch=1&allowWatchBookmarks=true&timeoutSeconds=300${
          resourceVersion === undefined ? '' : `&resourceVersion=${resourceVersion}`
        }`;
        const response = await this.stream(path, 'application/json', signal);
        if (response.statusCode !== 200) {
          const text = await response.body.text();
          if (response.statusCode === 410) {
            resourceVersion = undefined;
            continue;
          }
          throw apiError(response.statusCode, path, text);
        }
        let buffered = '';
        for await (const chunk of response.body) {
          buffered += (chunk as Buffer).toString('utf8');
          let newline: number;
          while ((newline = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, newline).trim();
            buffered = buffered.slice(newline + 1);
            if (line === '') continue;
            const event = JSON.parse(line) as WatchEvent<T>;
            if (event.type === 'ERROR') {
              // A Status object: 410 Gone means the version is too old; list again.
              resourceVersion = undefined;
              break;
            }
            resourceVersion = event.object.metadata.resourceVersion ?? resourceVersion;
            if (event.type !== 'BOOKMARK') onEvent(event, Date.now());
          }
        }
      } catch (err) {
        if (signal.aborted) return;
        onError(err);
        await new Promise((r) => setTimeout(r, 1000).unref());
      }
    }
  }

  /** A GET whose body streams for as long as the server keeps it open (a watch, a followed log). */
  private stream(path: string, accept: string, signal: AbortSignal): ReturnType<typeof request> {
    return request(`${this.server}${path}`, {
      dispatcher: this.agent,
      method: 'GET',
      headers: { ...this.headers, accept },
      signal,
      bodyTimeout: 0,
    });
  }

  /**
   * Streams a text resource line by line (a pod's log with `follow=true`) until the server ends it or
   * `signal` aborts; the last line is passed even without a newline.
   */
  async followLines(path: string, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
    const response = await this.stream(path, '*/*', signal);
    if (response.statusCode !== 200) throw apiError(response.statusCode, path, await response.body.text());
    let buffered = '';
    try {
      for await (const chunk of response.body) {
        buffered += (chunk as Buffer).toString('utf8');
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          onLine(buffered.slice(0, newline));
          buffered = buffered.slice(newline + 1);
        }
      }
    } finally {
      if (buffered !== '') onLine(buffered);
    }
  }

  private async text(
    method: 'GET' | 'PATCH' | 'DELETE' | 'POST',
    path: string,
    options: { body?: string; contentType?: string; signal?: AbortSignal | undefined },
  ): Promise<string> {
    let response;
    try {
      response = await request(`${this.server}${path}`, {
        dispatcher: this.agent,
        method,
        headers: {
          ...this.headers,
          accept: 'application/json, */*',
          ...(options.contentType === undefined ? {} : { 'content-type': options.contentType }),
        },
        ...(options.body === undefined ? {} : { body: options.body }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        headersTimeout: 30_000,
        bodyTimeout: 60_000,
      });
    } catch (err) {
      if (options.signal?.aborted === true) throw err;
      throw new HarnessError(
        `the Kubernetes API at ${this.server} (context ${this.credentials.context}) is unreachable: ${(err as Error).message}`,
        { code: 'KUBE_UNREACHABLE', exitCode: ExitCode.stackFailed, cause: err },
      );
    }
    const text = await response.body.text();
    if (response.statusCode < 200 || response.statusCode >= 300) throw apiError(response.statusCode, path, text);
    return text;
  }
}

function apiError(status: number, path: string, text: string): KubeApiError {
  try {
    const s = JSON.parse(text) as { reason?: string; message?: string };
    return new KubeApiError(status, path, s.reason ?? 'Error', s.message ?? text.slice(0, 300));
  } catch {
    return new KubeApiError(status, path, 'Error', text.slice(0, 300));
  }
}
