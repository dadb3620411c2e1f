import type { CounterSpec } from '../../observe/backend-counters.js';
import type { MetricExpectation } from '../expectation.js';
import type { BackendEndpoint, SignalBackend } from './backend.js';
import { promqlBackend } from './prometheus.js';

export const MIMIR_COUNTERS: CounterSpec[] = [
  { key: 'cortex_distributor_samples_in_total', name: /^cortex_distributor_samples_in_total$/ },
  { key: 'cortex_distributor_received_samples_total', name: /^cortex_distributor_received_samples_total$/ },
  { key: 'cortex_ingester_ingested_samples_total', name: /^cortex_ingester_ingested_samples_total$/ },
  { key: 'cortex_ingester_ingested_samples_failures_total', name: /^cortex_ingester_ingested_samples_failures_total$/ },
  { key: 'cortex_discarded_samples_total', name: /^cortex_discarded_samples_total$/, by: 'reason' },
  {
    key: 'cortex_distributor_requests_in_total',
    name: /^cortex_distributor_requests_in_total$/,
  },
];

/**
 * Mimir (monolithic or not): exact per-series counts through its Prometheus-compatible API under
 * `/prometheus`, the tenant in `X-Scope-OrgID` (anonymous when multi-tenancy is off). Its silent drops are
 * `cortex_discarded_samples_total{reason}`; what its distributor received, `cortex_distributor_received_samples_total`
 * (target_info samples of the OTLP translation included, so deliveries are compared with care).
 */
export function mimirBackend(endpoint: BackendEndpoint): SignalBackend<MetricExpectation> {
  return promqlBackend('mimir', endpoint, `${endpoint.query}/prometheus`, {
    counters: MIMIR_COUNTERS,
    received: undefined,
    receivedMissing:
      "Mimir's received-samples counter also counts the target_info samples its OTLP translation adds (one per resource and request), so data delivered twice cannot be told from them",
  });
}
