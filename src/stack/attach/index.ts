import { existsSync, readFileSync } from 'node:fs';
import { collectorConditions } from '../collector-drain.js';
import type { DrainCondition } from '../../drain/drain.js';
import { configurationError, ExitCode, HarnessError } from '../../harness-error.js';
import type { Signal } from '../../load/ledger.js';
import { httpUrl, text, type OptionDef, type OptionTable } from '../../options/option-table.js';
import { BACKENDS } from '../../verify/backends/registry.js';
import type {
  BackendBinding,
  CollectorRole,
  Endpoint,
  StackBuilder,
  StackDescription,
  StackEndpoints,
  StackObserver,
  StartedStack,
} from '../stack.js';
import { defineTopology, type StackChoice, type Topology } from '../topology.js';
import {
  endpointByLabel,
  K6_ENDPOINT_LABEL,
  K6_IMAGE_LABEL,
  K6_STARTER_LABEL,
  readTargetFile,
  type TargetFile,
} from './target-file.js';
import { attachHpas, kubeconfigPath, parseHpaRef } from '../hpa/attach-hpa.js';
import type { HpaObserver } from '../hpa/hpa-observer.js';
import { KubeApiError, KubeClient } from '../../k8s/kube-client.js';
import { loadKubeconfig } from '../../k8s/kubeconfig.js';
import { loadCatalog } from '../../images/catalog.js';
import type { ClusterEngine } from '../../load/drivers/driver.js';
import type { TlsSettings } from '../../load/otlp/transport.js';
import { httpGet, setOriginCredentials } from '../../observe/http-auth.js';
import { PHASE3_CONNECTIONS } from '../phase3/phase3-stack.js';

export interface AttachOptions {
  target: string | undefined;
  otlpEndpoint: string | undefined;
  otlpGrpc: string | undefined;
  otlpHeaders: string | undefined;
  /** TLS to an https OTLP endpoint: files of the CA, the client certificate and key (PEM). */
  otlpCa: string | undefined;
  otlpClientCert: string | undefined;
  otlpClientKey: string | undefined;
  insecureSkipVerify: boolean;
  tenant: string | undefined;
  /**
   * Per backend of the registry: its API URL, its /metrics URL where it has an address of its own, and the
   * headers its gateway wants (basic or bearer auth).
   */
  backends: Record<string, { query: string | undefined; metrics: string | undefined; headers: string | undefined }>;
  /** TLS to https backends (a gateway in front of them): PEM files of the CA, the client certificate and key. */
  backendCa: string | undefined;
  backendClientCert: string | undefined;
  backendClientKey: string | undefined;
  collectorMetrics: string[];
  kubeconfig: string | undefined;
  kubeContext: string | undefined;
  hpa: string[];
  k6Endpoint: string | undefined;
  k6Namespace: string;
  k6Image: string | undefined;
  k6StarterImage: string | undefined;
  /** The environment variable the OTLP endpoint came from (OTEL_EXPORTER_OTLP_ENDPOINT), when it did. */
  otlpEndpointFrom?: string;
}

const pemFile = (raw: string, name: string): string => {
  if (!existsSync(raw)) throw configurationError(name, 'a readable PEM file', raw);
  if (!readFileSync(raw, 'utf8').includes('-----BEGIN '))
    throw configurationError(name, 'a PEM file (-----BEGIN …-----)', raw);
  return raw;
};

const hostPort = (raw: string, name: string): string => {
  if (!/^[^\s:/]+:\d+$/.test(raw)) throw configurationError(name, 'host:port, e.g. 127.0.0.1:4317', raw);
  return raw;
};

export const ATTACH_OPTIONS: OptionTable = {
  name: 'attach',
  title: 'attach mode (--target or --otlp-endpoint)',
  activation: 'drive an existing stack: add --target stack.json (from `otel-harness up --json`) or --otlp-endpoint URL',
  options: [
    {
      key: 'target',
      flag: 'target',
      default: undefined,
      parse: text,
      help: 'drive an existing stack: the JSON file of `otel-harness up --json`',
    },
    {
      key: 'otlpEndpoint',
      flag: 'otlp-endpoint',
      default: undefined,
      parse: httpUrl,
      env: ['OTEL_EXPORTER_OTLP_ENDPOINT'],
      help: "the stack's OTLP/HTTP base URL (attach mode), e.g. http://127.0.0.1:4318",
    },
    {
      key: 'otlpGrpc',
      flag: 'otlp-grpc',
      default: undefined,
      parse: hostPort,
      help: 'its OTLP/gRPC host:port (--driver sdk)',
    },
    {
      key: 'otlpHeaders',
      flag: 'otlp-headers',
      default: undefined,
      parse: text,
      env: ['OTEL_EXPORTER_OTLP_HEADERS'],
      secret: true,
      help: 'headers on every OTLP request: key=value,key2=value2 (values URL-encoded; never shown in reports)',
    },
    {
      key: 'otlpCa',
      flag: 'otlp-ca',
      default: undefined,
      parse: pemFile,
      env: ['OTEL_EXPORTER_OTLP_CERTIFICATE'],
      help: "PEM file of the CA that signed an https OTLP endpoint's certificate (else the system's CAs)",
    },
    {
      key: 'otlpClientCert',
      flag: 'otlp-client-cert',
      default: undefined,
      parse: pemFile,
      env: ['OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE'],
      help: 'PEM file of the client certificate for mutual TLS (with --otlp-client-key)',
    },
    {
      key: 'otlpClientKey',
      flag: 'otlp-client-key',
      default: undefined,
      parse: pemFile,
      env: ['OTEL_EXPORTER_OTLP_CLIENT_KEY'],
      help: "PEM file of the client certificate's private key",
    },
    {
      key: 'insecureSkipVerify',
      flag: 'insecure-skip-verify',
      default: 'false',
      boolean: true,
      parse: (raw) => raw === 'true',
      help: "accept an https OTLP endpoint's certificate without checking it (said on the first line)",
    },
    {
      key: 'tenant',
      flag: 'tenant',
      default: undefined,
      parse: text,
      help: 'X-Scope-OrgID on OTLP requests and backend queries',
    },
    ...backendOptions(),
    {
      key: 'backendCa',
      flag: 'backend-ca',
      default: undefined,
      parse: pemFile,
      help: "PEM file of the CA that signed https backends' certificates (a gateway in front of Tempo, Loki, Mimir)",
    },
    {
      key: 'backendClientCert',
      flag: 'backend-client-cert',
      default: undefined,
      parse: pemFile,
      help: 'PEM file of a client certificate for https backends (mutual TLS, with --backend-client-key)',
    },
    {
      key: 'backendClientKey',
      flag: 'backend-client-key',
      default: undefined,
      parse: pemFile,
      help: "PEM file of that client certificate's key",
    },
    {
      key: 'collectorMetrics',
      flag: 'collector-metrics',
      default: undefined,
      parse: httpUrl,
      repeatable: true,
      help: "a collector's /metrics URL (drain waits for its queues; give each collector that exports to the backends)",
    },
    {
      key: 'hpa',
      flag: 'hpa',
      default: undefined,
      parse: (raw, name) => {
        parseHpaRef(raw, name);
        return raw;
      },
      repeatable: true,
      help: 'namespace/name of an HPA to watch (read-only): scaling timeline and reaction times per load step',
    },
    {
      key: 'kubeconfig',
      flag: 'kubeconfig',
      default: undefined,
      parse: text,
      help: 'kubeconfig of the cluster running the HPAs (default: $KUBECONFIG, then ~/.kube/config)',
    },
    {
      key: 'kubeContext',
      flag: 'kube-context',
      default: undefined,
      parse: text,
      help: "the kubeconfig's context to use (default: its current context)",
    },
    {
      key: 'k6Endpoint',
      flag: 'k6-endpoint',
      default: undefined,
      parse: httpUrl,
      help: "--driver k6-operator: the OTLP/HTTP URL as the cluster's pods reach it (e.g. http://otel-collector.observability:4318)",
    },
    {
      key: 'k6Namespace',
      flag: 'k6-namespace',
      default: 'default',
      parse: text,
      help: '--driver k6-operator: the namespace of the TestRun and its runner pods',
    },
    {
      key: 'k6Image',
      flag: 'k6-image',
      default: undefined,
      parse: text,
      help: "--driver k6-operator: the runners' k6 image; unset, the catalog's upstream (docker.io/grafana/k6:2.2.0)",
    },
    {
      key: 'k6StarterImage',
      flag: 'k6-starter-image',
      default: undefined,
      parse: text,
      help: "--driver k6-operator: the TestRun's starter image (sh and curl); unset, the operator's own",
    },
  ],
};

/** Attach flags of every backend of the registry: `--<name> URL`, and `--<name>-metrics URL` where it has its own. */
function backendOptions(): OptionDef[] {
  return Object.entries(BACKENDS).flatMap(([name, b]) => [
    { key: name, flag: name, default: undefined, parse: httpUrl, help: b.help },
    {
      key: `${name}Headers`,
      flag: `${name}-headers`,
      default: undefined,
      parse: (raw: string, flag: string) => {
        parseHeaders(raw, flag);
        return raw;
      },
      secret: true,
      help: `headers on every ${name} query and /metrics read: key=value,… (e.g. authorization=Bearer%20<token>; never shown in reports)`,
    },
    ...(b.metrics === 'own-address'
      ? [
          {
            key: `${name}Metrics`,
            flag: `${name}-metrics`,
            default: undefined,
            parse: httpUrl,
            help: `${name}'s /metrics URL (its ingest and discard counters)`,
          },
        ]
      : []),
  ]);
}

/** Resolved attach values → AttachOptions, the backends' flags gathered by name. */
export function attachOptionsOf(values: Readonly<Record<string, unknown>>): AttachOptions {
  const backends: AttachOptions['backends'] = {};
  const rest: Record<string, unknown> = { ...values };
  for (const name of Object.keys(BACKENDS)) {
    backends[name] = {
      query: values[name] as string | undefined,
      metrics: values[`${name}Metrics`] as string | undefined,
      headers: values[`${name}Headers`] as string | undefined,
    };
    delete rest[name];
    delete rest[`${name}Metrics`];
    delete rest[`${name}Headers`];
  }
  return { ...(rest as Omit<AttachOptions, 'backends'>), backends };
}

/**
 * The backend of each signal: the one whose flag was given (two for one signal is an error), else — for a
 * file of `up --json` without a `stack` section — the one whose address the file labels.
 */
function backendBindings(
  o: AttachOptions,
  file: TargetFile | undefined,
  tenant: Record<string, string>,
): Partial<Record<Signal, BackendBinding>> {
  const out: Partial<Record<Signal, BackendBinding>> = {};
  const byFlag = new Map<Signal, string>();
  for (const [name, b] of Object.entries(BACKENDS)) {
    const given = o.backends[name]?.query;
    const fromFile =
      file?.stack === undefined && b.labels !== undefined ? endpointByLabel(file, b.labels.query) : undefined;
    const query = given ?? fromFile;
    if (query === undefined) continue;
    if (given !== undefined) {
      const other = byFlag.get(b.signal);
      if (other !== undefined)
        throw configurationError(`--${name}`, `one ${b.signal} backend (--${other} is given too)`, given);
      byFlag.set(b.signal, name);
    } else if (out[b.signal] !== undefined) continue;
    const metrics =
      b.metrics === 'under-api'
        ? `${query}/metrics`
        : (o.backends[name]?.metrics ??
          (b.labels?.metrics === undefined ? undefined : endpointByLabel(file, b.labels.metrics)));
    out[b.signal] = {
      backend: name,
      endpoint: { query, ...(metrics === undefined ? {} : { metrics }), headers: tenant },
    };
  }
  return out;
}

/**
 * Registers a gateway's credentials (`--<backend>-headers`, `--backend-ca`, a client certificate) for every
 * address of the bound backends: queries and /metrics reads alike carry them from then on.
 */
export function registerBackendCredentials(o: AttachOptions, backends: StackEndpoints['backends']): void {
  const tls = backendTlsOf(o);
  for (const binding of Object.values(backends)) {
    const credentials = {
      headers: parseHeaders(o.backends[binding.backend]?.headers, `--${binding.backend}-headers`),
      ...(tls === undefined ? {} : { tls }),
    };
    for (const url of [binding.endpoint.query, binding.endpoint.metrics])
      if (url !== undefined) setOriginCredentials(url, credentials);
  }
}

/** Whether options ask for attach mode: a target file or an OTLP endpoint given explicitly. */
export function wantsAttach(flags: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv): boolean {
  return (
    flags.target !== undefined ||
    flags['otlp-endpoint'] !== undefined ||
    (env.OTEL_HARNESS_TARGET ?? '') !== '' ||
    (env.OTEL_HARNESS_OTLP_ENDPOINT ?? '') !== '' ||
    (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '') !== ''
  );
}

/** TLS settings of the OTLP target from the options' files; undefined when none is given. */
export function otlpTlsOf(o: AttachOptions): TlsSettings | undefined {
  const tls = tlsOfFiles(o.otlpCa, o.otlpClientCert, o.otlpClientKey);
  if (tls === undefined && !o.insecureSkipVerify) return undefined;
  return { ...tls, ...(o.insecureSkipVerify ? { insecureSkipVerify: true } : {}) };
}

/** TLS settings of the backends from the options' files; undefined when none is given. */
export function backendTlsOf(o: AttachOptions): TlsSettings | undefined {
  return tlsOfFiles(o.backendCa, o.backendClientCert, o.backendClientKey);
}

function tlsOfFiles(
  caFile: string | undefined,
  certFile: string | undefined,
  keyFile: string | undefined,
): TlsSettings | undefined {
  if (caFile === undefined && certFile === undefined && keyFile === undefined) return undefined;
  const read = (f: string | undefined) => (f === undefined ? undefined : readFileSync(f, 'utf8'));
  const ca = read(caFile);
  const cert = read(certFile);
  const key = read(keyFile);
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
  };
}

/** `key=value,key2=value2` (values URL-encoded, as OTEL_EXPORTER_OTLP_HEADERS). */
export function parseHeaders(raw: string | undefined, name = '--otlp-headers'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (raw ?? '').split(',')) {
    const at = part.indexOf('=');
    if (part.trim() === '') continue;
    // The value may hold a secret: the message shows the key only.
    if (at <= 0) throw configurationError(name, 'key=value pairs separated by commas', '(not shown)');
    out[part.slice(0, at).trim()] = decodeURIComponent(part.slice(at + 1).trim());
  }
  return out;
}

export function endpointsOf(o: AttachOptions, file: TargetFile | undefined, exportingConfig?: string): StackEndpoints {
  const base = file?.stack;
  const otlpHttp = o.otlpEndpoint ?? base?.otlpHttp ?? endpointByLabel(file, 'OTLP HTTP');
  if (otlpHttp === undefined)
    throw configurationError(
      '--otlp-endpoint',
      "the stack's OTLP/HTTP URL (or a --target file that names it)",
      'missing',
    );
  const tenant: Record<string, string> = o.tenant === undefined ? {} : { 'X-Scope-OrgID': o.tenant };
  const headers = { ...parseHeaders(o.otlpHeaders), ...tenant };
  // A file written by `up --json` names every role; flags given by hand replace what they name.
  const backends: Partial<Record<Signal, BackendBinding>> = { ...(base?.backends ?? {}) };
  for (const [signal, binding] of Object.entries(backendBindings(o, file, tenant)))
    backends[signal as Signal] = binding;
  const collectorUrls =
    o.collectorMetrics.length > 0
      ? o.collectorMetrics
      : [endpointByLabel(file, 'Collector metrics')].filter((u): u is string => u !== undefined);
  const collectors: StackEndpoints['collectors'] =
    o.collectorMetrics.length === 0 && base !== undefined
      ? base.collectors
      : collectorUrls.map((url, i) => ({
          name: collectorUrls.length === 1 ? 'collector' : `collector-${i + 1}`,
          role: 'collector',
          metricsUrl: url,
          config: undefined,
          exportsToBackends: true,
        }));
  // --collector-config: what the collectors exporting to the backends run (their tail sampling is predicted).
  if (exportingConfig !== undefined) {
    const exporting = collectors.filter((c) => c.exportsToBackends);
    if (exporting.length === 0)
      collectors.push({
        name: 'collector',
        role: 'collector',
        metricsUrl: undefined,
        config: exportingConfig,
        exportsToBackends: true,
      });
    for (const c of exporting) c.config = exportingConfig;
  }
  const otlpTls = otlpTlsOf(o);
  return {
    otlpHttp,
    otlpGrpc: o.otlpGrpc ?? base?.otlpGrpc ?? endpointByLabel(file, 'OTLP gRPC'),
    otlpHeaders: { ...(base?.otlpHeaders ?? {}), ...headers },
    ...(otlpTls === undefined ? {} : { otlpTls }),
    collectors,
    backends,
  };
}

function k6RunnerUpstream(): string {
  const runner = loadCatalog().components.get('k6-runner');
  if (runner === undefined) throw new Error('the catalog has no k6-runner component');
  return runner.upstream;
}

/**
 * The drain conditions of an attached stack: each collector whose metrics the harness can read; with none,
 * one condition that says the queues cannot be seen, so that absence is never called loss on a drain that
 * could not look.
 */
export function attachedDrainConditions(
  collectors: readonly CollectorRole[],
  signals: readonly Signal[],
): DrainCondition[] {
  const watched = collectorConditions(collectors, signals);
  if (watched.length > 0) return watched;
  const why =
    'the collector exposes no metrics to the harness, so its sending queues cannot be seen (give --collector-metrics URL)';
  return [
    {
      name: 'collector',
      pollMs: 1_000,
      check: () =>
        Promise.resolve({ idle: true, queued: [], unobservable: why, detail: 'collector queues not observable' }),
    },
  ];
}

/** A stack started elsewhere: driven and verified, never faulted or removed. */
class AttachedStack implements StartedStack {
  readonly topology = 'attach';
  readonly faults = undefined;
  readonly resources = undefined;

  constructor(
    readonly runId: string,
    readonly title: string,
    private readonly stackEndpoints: StackEndpoints,
    private readonly list: Endpoint[],
    private readonly kube?: { client: KubeClient; observers: HpaObserver[] },
  ) {}

  observers(): StackObserver[] {
    return this.kube?.observers ?? [];
  }

  describe(): StackDescription {
    return {
      topology: 'attach',
      title: this.title,
      images: {},
      versions: {},
      configHashes: {},
      manifestHash: undefined,
      bootSeconds: undefined,
    };
  }

  endpoints(): StackEndpoints {
    return this.stackEndpoints;
  }

  endpointList(): Endpoint[] {
    return this.list;
  }

  drainConditions(signals: readonly Signal[]): DrainCondition[] {
    return attachedDrainConditions(this.stackEndpoints.collectors, signals);
  }

  logs(): Promise<string[]> {
    return Promise.resolve([]);
  }

  async stop(): Promise<void> {
    await this.kube?.client.close().catch(() => undefined); // the stack is not ours to remove
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * Checks each collector metrics and backend endpoint answers HTTP at all; the first that does not is named
 * in an exit-5 error. The OTLP endpoint is probed by the load step, with the run's protocol, TLS and
 * headers (probeOtlpTarget).
 */
export async function checkReachable(e: StackEndpoints): Promise<void> {
  const probes: [string, string, string | undefined][] = [];
  for (const c of e.collectors)
    if (c.metricsUrl !== undefined) probes.push([`${c.name} metrics`, c.metricsUrl, undefined]);
  for (const [signal, b] of Object.entries(e.backends))
    probes.push([`${b.backend} (${signal})`, b.endpoint.query, `--${b.backend}-headers`]);
  for (const [name, url, credentialsFlag] of probes) {
    let status: number;
    try {
      status = (await httpGet(url, {}, 5_000)).status;
    } catch (err) {
      const c = (err as { cause?: { code?: string; message?: string } }).cause;
      const cause = c?.code ?? c?.message ?? (err as Error).message;
      const tls = /CERT|SSL|TLS|SELF_SIGNED/.test(cause);
      throw new HarnessError(`Target endpoint ${name} (${url}) is unreachable: ${cause}`, {
        code: 'TARGET_UNREACHABLE',
        exitCode: ExitCode.stackFailed,
        hint: tls
          ? 'its TLS certificate is not trusted: give the CA that signed it (--backend-ca)'
          : 'check the stack is up (`otel-harness up --json > stack.json`) and the file or flags name its current ports',
      });
    }
    if ((status === 401 || status === 403) && credentialsFlag !== undefined)
      throw new HarnessError(
        `Target endpoint ${name} (${url}) answered HTTP ${status}: it refused the credentials sent`,
        {
          code: 'TARGET_REFUSED',
          exitCode: ExitCode.stackFailed,
          hint: `give the headers its gateway expects: ${credentialsFlag} (e.g. authorization=Bearer%20<token>)`,
        },
      );
  }
}

class AttachBuilder implements StackBuilder {
  private runId = 'attached';
  private progress: (m: string) => void = () => undefined;
  private exportingConfig: string | undefined;
  private readonly clusterLoad: boolean;

  constructor(
    private readonly options: AttachOptions,
    choice?: StackChoice,
  ) {
    this.clusterLoad = choice?.clusterLoad === true;
    const file = choice?.collectorConfigs.exporting;
    if (file !== undefined) this.exportingConfig = readFileSync(file, 'utf8');
  }

  withRunId(runId: string): this {
    this.runId = runId;
    return this;
  }
  withImages(): this {
    return this;
  }
  withCollectorConfig(_role: string, file: string): this {
    this.exportingConfig = readFileSync(file, 'utf8');
    return this;
  }
  withProgress(progress: (m: string) => void): this {
    this.progress = progress;
    return this;
  }
  withAbortSignal(): this {
    return this;
  }

  async start(): Promise<StartedStack> {
    const file = this.options.target === undefined ? undefined : readTargetFile(this.options.target);
    const endpoints = endpointsOf(this.options, file, this.exportingConfig);
    registerBackendCredentials(this.options, endpoints.backends);
    await checkReachable(endpoints);
    const title = file?.title ?? `attached stack (${endpoints.otlpHttp})`;
    this.progress(`target: ${title}`);
    const list: Endpoint[] = file?.endpoints ?? [
      { service: 'target', label: 'OTLP HTTP', address: endpoints.otlpHttp },
    ];
    const o = this.options;
    const kube =
      o.hpa.length === 0
        ? undefined
        : await attachHpas({
            kubeconfig: kubeconfigPath(o.kubeconfig),
            context: o.kubeContext,
            hpas: o.hpa.map((h) => parseHpaRef(h)),
            progress: this.progress,
          });
    // Behind a Kubernetes Service the load must use many short-lived connections to reach new replicas.
    const spread = kube === undefined ? endpoints : { ...endpoints, otlpConnections: PHASE3_CONNECTIONS };
    if (!this.clusterLoad) return new AttachedStack(this.runId, title, spread, list, kube);
    const k6Endpoint = o.k6Endpoint ?? endpointByLabel(file, K6_ENDPOINT_LABEL);
    if (k6Endpoint === undefined)
      throw configurationError(
        '--k6-endpoint',
        "the OTLP/HTTP URL as the cluster's pods reach it (--driver k6-operator)",
        'missing',
      );
    const client =
      kube?.client ??
      new KubeClient(
        loadKubeconfig(kubeconfigPath(o.kubeconfig), o.kubeContext === undefined ? {} : { context: o.kubeContext }),
      );
    try {
      await client.get('/apis/k6.io/v1alpha1');
    } catch (err) {
      await client.close().catch(() => undefined);
      if (err instanceof KubeApiError && err.status === 404)
        throw new HarnessError('k6-operator is not installed on the cluster: k6.io/v1alpha1 (TestRun) is not served', {
          code: 'K6_OPERATOR_MISSING',
          exitCode: ExitCode.stackFailed,
          hint: 'install the k6-operator (its bundle.yaml), or boot a cluster with it: --phase 3 --driver k6-operator',
        });
      throw err;
    }
    const runnerImage = o.k6Image ?? endpointByLabel(file, K6_IMAGE_LABEL) ?? k6RunnerUpstream();
    this.progress(`k6-operator: TestRuns in namespace ${o.k6Namespace}, runners of ${runnerImage} → ${k6Endpoint}`);
    const cluster: ClusterEngine = {
      client,
      namespace: o.k6Namespace,
      otlpHttp: k6Endpoint,
      runnerImage,
      starterImage: o.k6StarterImage ?? endpointByLabel(file, K6_STARTER_LABEL),
    };
    return new AttachedStack(this.runId, title, { ...spread, cluster }, list, kube ?? { client, observers: [] });
  }
}

export const attachTopology: Topology = defineTopology<AttachOptions>({
  options: ATTACH_OPTIONS,
  capabilities: { boots: false, tailSampling: false, clusterLoad: true, sideBySide: false },
  // The configuration of the collectors exporting to the backends, for predicting their tail sampling.
  collectorRoles: ['exporting'],
  read: attachOptionsOf,
  check(o, choice: StackChoice) {
    if (o.target !== undefined && !existsSync(o.target))
      throw configurationError('--target', 'an existing file (`otel-harness up --json > stack.json`)', o.target);
    if (o.target !== undefined) readTargetFile(o.target);
    if (
      (o.kubeconfig !== undefined || o.kubeContext !== undefined) &&
      o.hpa.length === 0 &&
      choice.clusterLoad !== true
    )
      throw configurationError(
        '--hpa',
        'namespace/name of an HPA to watch with --kubeconfig/--kube-context (or --driver k6-operator)',
        'missing',
      );
    if (o.target === undefined && o.otlpEndpoint === undefined)
      throw configurationError('--otlp-endpoint', 'the OTLP/HTTP URL of the stack to drive', 'missing');
    parseHeaders(o.otlpHeaders);
    if ((o.otlpClientCert === undefined) !== (o.otlpClientKey === undefined))
      throw configurationError(
        o.otlpClientCert === undefined ? '--otlp-client-cert' : '--otlp-client-key',
        'a client certificate and its key together (mutual TLS)',
        'missing',
      );
    if ((o.backendClientCert === undefined) !== (o.backendClientKey === undefined))
      throw configurationError(
        o.backendClientCert === undefined ? '--backend-client-cert' : '--backend-client-key',
        'a client certificate and its key together (mutual TLS)',
        'missing',
      );
    if (otlpTlsOf(o) !== undefined) choice.tlsTarget = true;
    if (Object.keys(choice.images).length > 0 || choice.manifest !== undefined)
      throw configurationError('--image/--otelcol-manifest', 'a stack booted here (not --target)', 'attach mode');
  },
  faultTargets: () => undefined,
  describe: (o) => {
    const where = o.target !== undefined ? `target ${o.target}` : `target ${o.otlpEndpoint ?? ''}`;
    const tls = otlpTlsOf(o);
    const notes = [
      ...(o.otlpEndpointFrom === undefined ? [] : [`from ${o.otlpEndpointFrom}`]),
      ...(tls === undefined
        ? []
        : [
            tls.insecureSkipVerify === true
              ? 'TLS, certificate NOT verified (--insecure-skip-verify)'
              : `TLS${tls.ca === undefined ? '' : ' with the CA given'}${tls.cert === undefined ? '' : ' and a client certificate'}`,
          ]),
      ...(o.otlpHeaders === undefined
        ? []
        : [`headers ${Object.keys(parseHeaders(o.otlpHeaders)).join(', ')} (values not shown)`]),
      ...Object.entries(o.backends)
        .filter(([, b]) => b.headers !== undefined)
        .map(([name, b]) => `${name} headers ${Object.keys(parseHeaders(b.headers)).join(', ')} (values not shown)`),
      ...(backendTlsOf(o) === undefined
        ? []
        : [
            `backends over TLS${o.backendCa === undefined ? '' : ' with the CA given'}${o.backendClientCert === undefined ? '' : ' and a client certificate'}`,
          ]),
    ];
    return notes.length === 0 ? where : `${where} (${notes.join('; ')})`;
  },
  builder: (options, choice) => new AttachBuilder(options, choice),
});
