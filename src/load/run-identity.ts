/** `service.name` of the telemetry a soak generates (a Loki index label, the Prometheus `job`). */
export const SOAK_SERVICE_NAME = 'otel-harness-soak';
