import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { ExitCode, HarnessError } from '../harness-error.js';

/** What the harness needs of a kubeconfig's current context: where the API is and how to authenticate. */
export interface KubeCredentials {
  /** e.g. https://127.0.0.1:6443 */
  server: string;
  /** The context's name, for messages. */
  context: string;
  /** PEM of the cluster's CA (absent: the system's trust store). */
  ca?: string;
  insecureSkipTlsVerify: boolean;
  /** Client certificate and key (PEM). */
  cert?: string;
  key?: string;
  /** Bearer token. */
  token?: string;
  /** tls-server-name of the cluster entry. */
  serverName?: string;
}

interface NamedEntry<T> {
  name: string;
  [key: string]: unknown;
  value?: T;
}

function kubeconfigError(path: string, message: string): HarnessError {
  return new HarnessError(`kubeconfig ${path}: ${message}`, {
    code: 'KUBECONFIG_INVALID',
    exitCode: ExitCode.stackFailed,
    hint: 'pass a kubeconfig with a current context whose cluster and user are defined (kubectl config view)',
  });
}

/**
 * Reads a kubeconfig (a path, or its YAML text with `text`) and resolves a context (default: the current
 * one). Supported: CA / client certificate data or files, token or token file, insecure-skip-tls-verify.
 * Exec credential plugins and auth providers are refused with a message saying what to use instead.
 */
export function loadKubeconfig(path: string, options: { context?: string; text?: string } = {}): KubeCredentials {
  if (options.text === undefined && !existsSync(path)) throw kubeconfigError(path, 'no such file');
  const text = options.text ?? readFileSync(path, 'utf8');
  let doc: Record<string, unknown>;
  try {
    doc = (parse(text) ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw kubeconfigError(path, `not YAML (${(err as Error).message})`);
  }
  const base = dirname(path);
  const file = (p: string) => readFileSync(isAbsolute(p) ? p : resolve(base, p), 'utf8');
  const contextName = options.context ?? (doc['current-context'] as string | undefined);
  if (contextName === undefined || contextName === '') throw kubeconfigError(path, 'no current-context');
  const context = named(doc.contexts, 'context', contextName);
  if (context === undefined) throw kubeconfigError(path, `no context '${contextName}'`);
  const clusterName = context.cluster as string | undefined;
  const userName = context.user as string | undefined;
  const cluster = clusterName === undefined ? undefined : named(doc.clusters, 'cluster', clusterName);
  if (cluster === undefined) throw kubeconfigError(path, `context '${contextName}' names no defined cluster`);
  const user = userName === undefined ? {} : (named(doc.users, 'user', userName) ?? {});
  const server = cluster.server as string | undefined;
  if (server === undefined) throw kubeconfigError(path, `cluster '${String(clusterName)}' has no server`);
  if (user.exec !== undefined || user['auth-provider'] !== undefined) {
    throw kubeconfigError(
      path,
      `user '${String(userName)}' authenticates with an exec plugin or auth provider, which otel-harness does not run; ` +
        'use a kubeconfig with a token (e.g. a ServiceAccount token) or a client certificate',
    );
  }
  const pem = (data: unknown, ref: unknown): string | undefined =>
    typeof data === 'string'
      ? Buffer.from(data, 'base64').toString('utf8')
      : typeof ref === 'string'
        ? file(ref)
        : undefined;
  const creds: KubeCredentials = {
    server: server.replace(/\/$/, ''),
    context: contextName,
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
  };
  const ca = pem(cluster['certificate-authority-data'], cluster['certificate-authority']);
  if (ca !== undefined) creds.ca = ca;
  if (typeof cluster['tls-server-name'] === 'string') creds.serverName = cluster['tls-server-name'];
  const cert = pem(user['client-certificate-data'], user['client-certificate']);
  const key = pem(user['client-key-data'], user['client-key']);
  if (cert !== undefined && key !== undefined) {
    creds.cert = cert;
    creds.key = key;
  }
  const token =
    typeof user.token === 'string'
      ? user.token
      : typeof user.tokenFile === 'string'
        ? file(user.tokenFile).trim()
        : undefined;
  if (token !== undefined) creds.token = token;
  return creds;
}

function named(list: unknown, field: string, name: string): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined;
  const entry = (list as NamedEntry<unknown>[]).find((e) => e.name === name);
  const value = entry?.[field];
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
}
