import {
  LogBatchBuilder,
  MetricBatchBuilder,
  runTag,
  sampleTimeMs,
  toHex,
  TraceBatchBuilder,
  traceShapeDefaults,
  type RunIdentity,
} from '../../generators/index.js';
import type { Signal } from '../load/ledger.js';
import type { OtlpHttpClient } from '../load/otlp-http-client.js';
import { Histogram, type Percentiles } from '../stats/histogram.js';
import { getJson } from './http-json.js';
import { parseLokiVector } from './loki-verifier.js';
import { parsePromSampleTimes } from './prometheus-verifier.js';
import type { TraceStore } from './trace-stores.js';
import { traceId } from '../../generators/ids.js';

export interface CanaryReport {
  backend: string;
  sent: number;
  acknowledged: number;
  /** Queryable before the timeout. */
  found: number;
  timedOut: number;
  /** Write (acknowledgement) → queryable, ms. */
  latencyMs: Percentiles;
}

interface Probe {
  signal: Signal;
  backend: string;
  send(n: number): Promise<boolean>;
  queryable(n: number): Promise<boolean>;
}

export interface CanaryTargets {
  client: OtlpHttpClient;
  traces?: TraceStore;
  lokiUrl?: string;
  prometheusUrl?: string;
}

/** Canary identity: a separate service and instance, so canaries never count in the run's verification. */
export function canaryIdentity(runId: string): RunIdentity {
  return { runId: `${runId}-canary`, serviceName: 'otel-harness-canary' };
}

function probes(runId: string, targets: CanaryTargets, intervalMs: number, startMs: number): Probe[] {
  const identity = canaryIdentity(runId);
  const list: Probe[] = [];
  if (targets.traces !== undefined) {
    const store = targets.traces;
    const builder = new TraceBatchBuilder(identity, {
      ...traceShapeDefaults(),
      spansPerTrace: 1,
      attributesPerSpan: 0,
      errorFraction: 0,
      slowFraction: 0,
    });
    const tag = runTag(identity.runId);
    list.push({
      signal: 'traces',
      backend: store.backend,
      send: async (n) =>
        (await targets.client.post('traces', builder.build(n, 1, Date.now()).body)).outcome === 'acknowledged',
      queryable: async (n) => (await store.spanIds(toHex(traceId(tag, n)))).length > 0,
    });
  }
  if (targets.lokiUrl !== undefined) {
    const url = targets.lokiUrl;
    const builder = new LogBatchBuilder(identity, { bodyBytes: 0, severityText: 'INFO', seqBlockSize: 1_000_000 });
    const selector = `{service_name="${identity.serviceName}", service_instance_id="${identity.runId}"}`;
    list.push({
      signal: 'logs',
      backend: 'loki',
      send: async (n) =>
        (await targets.client.post('logs', builder.build(n, 1, Date.now()).body)).outcome === 'acknowledged',
      queryable: async (n) => {
        const query = `sum(count_over_time(${selector} | otel_harness_seq="${n}" [10m]))`;
        const { status, body } = await getJson(
          `${url}/loki/api/v1/query?${new URLSearchParams({ query }).toString()}`,
          {},
          5_000,
        );
        return status === 200 && (parseLokiVector(body).get('') ?? 0) > 0;
      },
    });
  }
  if (targets.prometheusUrl !== undefined) {
    const url = targets.prometheusUrl;
    const shape = { series: 1, intervalMs };
    const builder = new MetricBatchBuilder(identity, shape, startMs);
    list.push({
      signal: 'metrics',
      backend: 'prometheus',
      send: async (n) => (await targets.client.post('metrics', builder.build(n, 1).body)).outcome === 'acknowledged',
      queryable: async (n) => {
        const query = `otel_harness_soak_value{run_id="${identity.runId}"}[15m]`;
        const { status, body } = await getJson(
          `${url}/api/v1/query?${new URLSearchParams({ query }).toString()}`,
          {},
          5_000,
        );
        return status === 200 && parsePromSampleTimes(body).includes(sampleTimeMs(n, startMs, shape));
      },
    });
  }
  return list;
}

/**
 * Sends one canary per signal every `intervalMs` until `signal` aborts, then waits for outstanding ones
 * (up to `timeoutMs` each). Each acknowledged canary is polled every `pollMs` until queryable.
 */
export async function runCanaries(
  runId: string,
  targets: CanaryTargets,
  options: { intervalMs: number; pollMs: number; timeoutMs: number; stop: AbortSignal },
): Promise<Partial<Record<Signal, CanaryReport>>> {
  const startMs = Date.now();
  const list = probes(runId, targets, options.intervalMs, startMs);
  const reports = new Map<Signal, CanaryReport & { hist: Histogram }>();
  for (const p of list) {
    reports.set(p.signal, {
      backend: p.backend,
      sent: 0,
      acknowledged: 0,
      found: 0,
      timedOut: 0,
      latencyMs: new Histogram().percentiles(),
      hist: new Histogram(),
    });
  }
  const pending: Promise<void>[] = [];
  const one = async (p: Probe, n: number) => {
    const r = reports.get(p.signal)!;
    r.sent++;
    let acked = false;
    try {
      acked = await p.send(n);
    } catch {
      acked = false;
    }
    if (!acked) return;
    r.acknowledged++;
    const ackedAt = Date.now();
    while (Date.now() - ackedAt < options.timeoutMs) {
      try {
        if (await p.queryable(n)) {
          r.found++;
          r.hist.record(Date.now() - ackedAt);
          return;
        }
      } catch {
        // backend busy or restarting: keep polling until the timeout
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs));
    }
    r.timedOut++;
  };
  for (let n = 0; !options.stop.aborted; n++) {
    for (const p of list) pending.push(one(p, n));
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        options.stop.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, options.intervalMs);
      options.stop.addEventListener('abort', done, { once: true });
    });
  }
  await Promise.all(pending);
  const out: Partial<Record<Signal, CanaryReport>> = {};
  for (const [signal, r] of reports) {
    const { hist, ...rest } = r;
    out[signal] = { ...rest, latencyMs: hist.percentiles() };
  }
  return out;
}
