import { configurationError } from '../../harness-error.js';
import type { Signal } from '../../load/ledger.js';
import type { BackendEndpoint, SignalBackend } from './backend.js';
import { jaegerBackend } from './jaeger.js';
import { lokiBackend } from './loki.js';
import { mimirBackend } from './mimir.js';
import { prometheusBackend } from './prometheus.js';
import { tempoBackend } from './tempo.js';

/**
 * Every backend the harness can verify, by name. Adding one (Mimir, VictoriaMetrics, …) is one module
 * implementing SignalBackend plus a line here.
 */
export const BACKENDS: Readonly<
  Record<string, { signal: Signal; create(endpoint: BackendEndpoint): SignalBackend<never> }>
> = {
  jaeger: { signal: 'traces', create: jaegerBackend },
  tempo: { signal: 'traces', create: tempoBackend },
  loki: { signal: 'logs', create: lokiBackend },
  prometheus: { signal: 'metrics', create: prometheusBackend },
  mimir: { signal: 'metrics', create: mimirBackend },
};

/** The backend module `name` at `endpoint`; an unknown name is a configuration error listing the known ones. */
export function backendOf(name: string, endpoint: BackendEndpoint): SignalBackend {
  const entry = BACKENDS[name];
  if (entry === undefined) throw configurationError('backend', `one of ${Object.keys(BACKENDS).join(', ')}`, name);
  return entry.create(endpoint);
}
