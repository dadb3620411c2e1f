/** Minimal OTLP/HTTP JSON payloads for the e2e probes (one span, one log record, one gauge point). */

type KeyValue = { key: string; value: { stringValue: string } };
const attr = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });

export interface Probe {
  service: string;
  traceId: string;
  spanId: string;
  spanName: string;
  logBody: string;
  metricName: string;
  probeId: string;
  timeUnixNano: bigint;
}

export function traceRequest(p: Probe): unknown {
  return {
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', p.service)] },
        scopeSpans: [
          {
            scope: { name: 'otel-harness-e2e' },
            spans: [
              {
                traceId: p.traceId,
                spanId: p.spanId,
                name: p.spanName,
                kind: 2,
                startTimeUnixNano: String(p.timeUnixNano),
                endTimeUnixNano: String(p.timeUnixNano + 1_000_000n),
                attributes: [attr('probe.id', p.probeId)],
              },
            ],
          },
        ],
      },
    ],
  };
}

export function logRequest(p: Probe): unknown {
  return {
    resourceLogs: [
      {
        resource: { attributes: [attr('service.name', p.service)] },
        scopeLogs: [
          {
            scope: { name: 'otel-harness-e2e' },
            logRecords: [
              {
                timeUnixNano: String(p.timeUnixNano),
                severityNumber: 9,
                severityText: 'INFO',
                body: { stringValue: p.logBody },
                attributes: [attr('probe.id', p.probeId)],
              },
            ],
          },
        ],
      },
    ],
  };
}

export function metricRequest(p: Probe): unknown {
  return {
    resourceMetrics: [
      {
        resource: { attributes: [attr('service.name', p.service)] },
        scopeMetrics: [
          {
            scope: { name: 'otel-harness-e2e' },
            metrics: [
              {
                name: p.metricName,
                gauge: {
                  dataPoints: [
                    { timeUnixNano: String(p.timeUnixNano), asDouble: 42, attributes: [attr('probe_id', p.probeId)] },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  };
}

export async function postOtlp(baseUrl: string, signal: 'traces' | 'logs' | 'metrics', body: unknown): Promise<void> {
  const response = await fetch(`${baseUrl}/v1/${signal}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST /v1/${signal}: HTTP ${response.status} ${text}`);
}
