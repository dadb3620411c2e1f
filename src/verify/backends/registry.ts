import { configurationError } from '../../harness-error.js';
import type { Signal } from '../../load/ledger.js';
import type { BackendEndpoint, SignalBackend } from './backend.js';
import { jaegerBackend } from './jaeger.js';
import { lokiBackend } from './loki.js';
import { mimirBackend } from './mimir.js';
import { prometheusBackend } from './prometheus.js';
import { tempoBackend } from './tempo.js';

/** One backend module and how attach mode finds it: its flag, and the labels `up --json` gives its addresses. */
export interface BackendModule {
  signal: Signal;
  create(endpoint: BackendEndpoint): SignalBackend<never>;
  /** Help of its attach flag `--<name> URL`. */
  help: string;
  /**
   * Where its own /metrics is: under the API's URL, or on an address of its own (`--<name>-metrics URL`,
   * e.g. Jaeger's admin port).
   */
  metrics: 'under-api' | 'own-address';
  /** The labels of its addresses in a file of `up --json` (older files without a `stack` section). */
  labels?: { query: string; metrics?: string };
}

/**
 * Every backend the harness can verify, by name. Adding one (VictoriaMetrics, …) is one module implementing
 * SignalBackend plus a line here: attach mode's flags and endpoints follow from it.
 */
export const BACKENDS: Readonly<Record<string, BackendModule>> = {
  tempo: {
    signal: 'traces',
    create: tempoBackend,
    help: "Tempo's HTTP API (traces verified there)",
    metrics: 'under-api',
    labels: { query: 'Tempo query' },
  },
  jaeger: {
    signal: 'traces',
    create: jaegerBackend,
    help: "Jaeger's query API (traces verified there)",
    metrics: 'own-address',
    labels: { query: 'Jaeger query', metrics: 'Jaeger metrics' },
  },
  loki: {
    signal: 'logs',
    create: lokiBackend,
    help: "Loki's HTTP API (logs verified there)",
    metrics: 'under-api',
    labels: { query: 'Loki' },
  },
  prometheus: {
    signal: 'metrics',
    create: prometheusBackend,
    help: "Prometheus' HTTP API (metrics verified there)",
    metrics: 'under-api',
    labels: { query: 'Prometheus' },
  },
  mimir: {
    signal: 'metrics',
    create: mimirBackend,
    help: "Mimir's HTTP API, e.g. http://127.0.0.1:9009 (metrics verified through its /prometheus API)",
    metrics: 'under-api',
  },
};

/** The backend module `name` at `endpoint`; an unknown name is a configuration error listing the known ones. */
export function backendOf(name: string, endpoint: BackendEndpoint): SignalBackend {
  const entry = BACKENDS[name];
  if (entry === undefined) throw configurationError('backend', `one of ${Object.keys(BACKENDS).join(', ')}`, name);
  return entry.create(endpoint);
}
