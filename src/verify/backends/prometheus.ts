import type { CounterSpec } from '../../observe/backend-counters.js';
import type { MetricExpectation } from '../expectation.js';
import { getJson } from '../http-json.js';
import type { BackendEndpoint, SignalBackend } from './backend.js';
import {
  ALL_METRIC_TYPES,
  parsePromSampleTimes,
  parsePromVector,
  promInstant,
  promSelector,
  verifyMetricSamples,
} from './promql.js';

export const PROMETHEUS_COUNTERS: CounterSpec[] = [
  {
    key: 'prometheus_http_requests_total{handler=/api/v1/write}',
    name: /^prometheus_http_requests_total$/,
    where: { handler: '/api/v1/write' },
    by: 'code',
  },
  {
    key: 'prometheus_http_requests_total{handler=/api/v1/otlp/v1/metrics}',
    name: /^prometheus_http_requests_total$/,
    where: { handler: '/api/v1/otlp/v1/metrics' },
    by: 'code',
  },
  { key: 'prometheus_tsdb_out_of_order_samples_total', name: /^prometheus_tsdb_out_of_order_samples_total$/ },
  { key: 'prometheus_tsdb_out_of_bound_samples_total', name: /^prometheus_tsdb_out_of_bound_samples_total$/ },
  { key: 'prometheus_tsdb_head_samples_appended_total', name: /^prometheus_tsdb_head_samples_appended_total$/ },
];

/**
 * A PromQL backend's shared behaviour (Prometheus, Mimir): exact per-series counts through the Prometheus
 * HTTP API at `apiBase` (`<query>` for Prometheus, `<query>/prometheus` for Mimir).
 */
export function promqlBackend(
  name: string,
  endpoint: BackendEndpoint,
  apiBase: string,
  extra: Pick<SignalBackend, 'counters' | 'received' | 'receivedMissing'>,
): SignalBackend<MetricExpectation> {
  const headers = endpoint.headers ?? {};
  const instant = promInstant(name, apiBase, headers);
  return {
    signal: 'metrics',
    name,
    endpoint,
    ...extra,
    duplicatesInvisible: `${name} keeps one sample per series and timestamp`,
    // An accepted write is in the head block (Mimir: its ingesters), which queries read at once.
    countLagMs: 10_000,
    async count(runId, _serviceName, sinceMs) {
      const now = Date.now();
      const rangeMs = Math.max(60_000, now - sinceMs + 60_000);
      const selector = promSelector(runId, undefined, ALL_METRIC_TYPES);
      const body = await instant(`sum(count_over_time(${selector}[${rangeMs}ms]))`, now);
      return parsePromVector(body, '').get('') ?? 0;
    },
    canary: {
      async queryable(canaryRunId, _serviceName, _n, sampleTimeMs) {
        const query = `${promSelector(canaryRunId)}[15m]`;
        const { status, body } = await getJson(
          `${apiBase}/api/v1/query?${new URLSearchParams({ query }).toString()}`,
          headers,
          5_000,
        );
        return status === 200 && parsePromSampleTimes(body).includes(sampleTimeMs);
      },
    },
    verify: (exp, context) => verifyMetricSamples(name, instant, exp, context),
  };
}

/** Prometheus (remote-write or OTLP receiver). */
export function prometheusBackend(endpoint: BackendEndpoint): SignalBackend<MetricExpectation> {
  return promqlBackend('prometheus', endpoint, endpoint.query, {
    counters: PROMETHEUS_COUNTERS,
    received: undefined,
    receivedMissing: 'Prometheus counts no samples it receives by remote write or OTLP',
  });
}
