import type { Ledger, Signal } from '../load/ledger.js';
import { scrape, sumOf } from '../observe/prometheus-text.js';
import { BackendQueryError, getJson } from '../verify/http-json.js';
import { lokiCountQuery, lokiSelector, parseLokiVector, verifyLogs } from '../verify/loki-verifier.js';
import { verifyMetrics } from '../verify/prometheus-verifier.js';
import { jaegerStore, tempoSpanCount, tempoStore, type TraceStore } from '../verify/trace-stores.js';
import { verifyTraces } from '../verify/traces-verifier.js';
import type { SignalVerification } from '../verify/verification.js';
import type { StackEndpoints } from './endpoints.js';
import { SOAK_SERVICE_NAME, type SoakPlan } from './soak-plan.js';

export function traceStoreOf(endpoints: StackEndpoints): TraceStore {
  if (endpoints.traces === undefined) throw new Error('no trace backend endpoint');
  return endpoints.traces.backend === 'tempo'
    ? tempoStore(endpoints.traces.query)
    : jaegerStore(endpoints.traces.query);
}

function inconclusive(signal: Signal, backend: string, reason: string): SignalVerification {
  return {
    signal,
    backend,
    method: 'not verified',
    expected: 0,
    found: 0,
    lost: 0,
    duplicates: 0,
    unacknowledgedFound: 0,
    lostRanges: [],
    duplicateRanges: [],
    lostExamples: [],
    figures: {},
    outcome: { status: 'inconclusive', reason },
    notes: [],
  };
}

/**
 * Runs one verifier per signal against its backend. A query that fails makes that signal inconclusive
 * (exit 4) instead of aborting the others.
 */
export async function verifySignals(
  plan: SoakPlan,
  runId: string,
  ledger: Ledger,
  endpoints: StackEndpoints,
  metricStartMs: number,
  progress: (message: string) => void,
): Promise<Partial<Record<Signal, SignalVerification>>> {
  const out: Partial<Record<Signal, SignalVerification>> = {};
  const unacked = (s: Signal) =>
    [...ledger.ranges(s, 'refused'), ...ledger.ranges(s, 'failed')].sort((a, b) => a.first - b.first);
  const startMs = Date.parse(new Date(metricStartMs).toISOString());
  for (const { signal } of plan.signals) {
    const guard = async (backend: string, fn: () => Promise<SignalVerification>) => {
      progress(`verifying ${signal} in ${backend}`);
      try {
        const v = await fn();
        progress(
          `${signal}: ${v.found} of ${v.expected} found in ${backend}, ${v.lost} lost, ${v.duplicates} duplicates (${v.method})`,
        );
        return v;
      } catch (err) {
        const reason = err instanceof BackendQueryError || err instanceof Error ? err.message : String(err);
        progress(`${signal}: verification inconclusive: ${reason}`);
        return inconclusive(signal, backend, reason);
      }
    };
    if (signal === 'traces') {
      if (endpoints.traces === undefined) {
        out.traces = inconclusive('traces', 'none', 'the stack has no trace backend endpoint');
        continue;
      }
      const traces = endpoints.traces;
      out.traces = await guard(traces.backend, async () => {
        const exactSpanCount =
          traces.backend === 'tempo'
            ? await tempoSpanCount(traces.query, runId, startMs, Date.now()).catch(() => undefined)
            : undefined;
        return verifyTraces(
          traceStoreOf(endpoints),
          {
            runId,
            spansPerTrace: plan.traceShape.spansPerTrace,
            acknowledged: ledger.ranges('traces', 'acknowledged'),
            unacknowledged: unacked('traces'),
            maxTraces: plan.options.verifyTracesMax,
            ...(exactSpanCount === undefined ? {} : { exactSpanCount }),
          },
          {
            concurrency: 8,
            rechecks: 2,
            pauseMs: 3_000,
            progress: (n, total) => progress(`traces: ${n}/${total} checked by id`),
          },
        );
      });
    } else if (signal === 'logs') {
      if (endpoints.loki === undefined) {
        out.logs = inconclusive('logs', 'none', 'the stack has no Loki endpoint');
        continue;
      }
      const loki = endpoints.loki.query;
      out.logs = await guard('loki', () =>
        verifyLogs(loki, {
          runId,
          serviceName: SOAK_SERVICE_NAME,
          acknowledged: ledger.ranges('logs', 'acknowledged'),
          unacknowledged: unacked('logs'),
          seqBlockSize: plan.logShape.seqBlockSize,
          startMs,
          endMs: Date.now(),
        }),
      );
    } else {
      if (endpoints.prometheus === undefined) {
        out.metrics = inconclusive('metrics', 'none', 'the stack has no Prometheus endpoint');
        continue;
      }
      const prometheus = endpoints.prometheus.query;
      out.metrics = await guard('prometheus', () =>
        verifyMetrics(prometheus, {
          runId,
          shape: plan.metricShape,
          startMs: metricStartMs,
          acknowledged: ledger.ranges('metrics', 'acknowledged'),
          unacknowledged: unacked('metrics'),
        }),
      );
    }
  }
  return out;
}

/** A cheap, growing count of the run's items in a signal's backend (for the drain's stability check). */
export async function backendCount(signal: Signal, endpoints: StackEndpoints, runId: string): Promise<number> {
  if (signal === 'traces') {
    const t = endpoints.traces;
    if (t === undefined) return 0;
    if (t.backend === 'tempo') return tempoSpanCount(t.query, runId, Date.now() - 3 * 3_600_000, Date.now());
    // Jaeger has no count API: its own exporter's sent counter (all traces it stored).
    if (t.metrics === undefined) return 0;
    return sumOf(await scrape(t.metrics), /^otelcol_exporter_sent_spans(_total)?$/);
  }
  if (signal === 'logs') {
    if (endpoints.loki === undefined) return 0;
    const query = lokiCountQuery(lokiSelector(SOAK_SERVICE_NAME, runId), 3 * 3600);
    const { status, body } = await getJson(
      `${endpoints.loki.query}/loki/api/v1/query?${new URLSearchParams({ query }).toString()}`,
    );
    if (status !== 200) throw new BackendQueryError('loki', query, status, body);
    return parseLokiVector(body).get('') ?? 0;
  }
  if (endpoints.prometheus === undefined) return 0;
  const query = `sum(count_over_time(otel_harness_soak_value{run_id="${runId}"}[3h]))`;
  const { status, body } = await getJson(
    `${endpoints.prometheus.query}/api/v1/query?${new URLSearchParams({ query }).toString()}`,
  );
  if (status !== 200) throw new BackendQueryError('prometheus', query, status, body);
  return parseLokiVector(body).get('') ?? 0;
}
