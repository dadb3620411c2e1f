import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { phase1 } from '../../src/stack/phase1/index.js';
import type { TracesBackend } from '../../src/stack/phase1/definition.js';
import { retryUntil } from '../../src/time/retry-until.js';
import { instantScalar, jaegerSpanIds, lokiLines, tempoSpanIds } from './support/backends.js';
import { harnessLeftovers, NOTHING_LEFT } from './support/leftovers.js';
import { logRequest, metricRequest, postOtlp, traceRequest, type Probe } from './support/otlp-json.js';

const POLL = { timeoutMs: 90_000, intervalMs: 1_000 };

function newProbe(runId: string): Probe {
  const probeId = randomBytes(6).toString('hex');
  return {
    service: `e2e-${probeId}`,
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    spanName: `probe-span-${probeId}`,
    logBody: `probe log ${runId} ${probeId}`,
    metricName: 'otel_harness_e2e_probe',
    probeId,
    timeUnixNano: BigInt(Date.now()) * 1_000_000n,
  };
}

async function poll<T>(what: string, attempt: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const outcome = await retryUntil(attempt, done, POLL);
  if (outcome.status === 'done') return outcome.value;
  throw new Error(
    `${what}: not found within ${POLL.timeoutMs} ms (last: ${JSON.stringify(outcome.last)}, error: ${String(outcome.lastError)})`,
  );
}

describe.each<TracesBackend>(['jaeger', 'tempo'])('Phase 1 with %s', (traces) => {
  it('carries one trace, one log record and one metric to the backends, then leaves nothing behind', async () => {
    const stack = await phase1({ traces }).start();
    const runId = stack.runId;
    try {
      expect([...stack.services.keys()].sort()).toEqual([traces, 'loki', 'otelcol', 'prometheus'].sort());
      for (const endpoint of stack.endpointList()) expect(endpoint.address).toMatch(/^(http:\/\/)?127\.0\.0\.1:\d+/);

      const probe = newProbe(runId);
      const otlp = stack.url('otelcol', 4318);
      await postOtlp(otlp, 'traces', traceRequest(probe));
      await postOtlp(otlp, 'logs', logRequest(probe));
      await postOtlp(otlp, 'metrics', metricRequest(probe));

      // Trace by id: exactly the one span that was sent.
      const spans =
        traces === 'jaeger'
          ? await poll(
              'trace in Jaeger',
              () => jaegerSpanIds(stack.url('jaeger', 16686), probe.traceId),
              (s) => s.length > 0,
            )
          : await poll(
              'trace in Tempo',
              () => tempoSpanIds(stack.url('tempo', 3200), probe.traceId),
              (s) => s.length > 0,
            );
      expect(spans).toEqual([probe.spanId]);

      // LogQL: exactly one line in the probe's stream, with the sent body.
      const loki = stack.url('loki', 3100);
      const selector = `{service_name="${probe.service}"}`;
      const lines = await poll(
        'log line in Loki',
        () => lokiLines(loki, selector),
        (l) => l.length > 0,
      );
      expect(lines).toEqual([probe.logBody]);
      expect(await instantScalar(loki, '/loki/api/v1/query', `sum(count_over_time(${selector}[1h]))`)).toBe(1);

      // PromQL: exactly one sample of the probe's series, with the sent value.
      const prometheus = stack.url('prometheus', 9090);
      const series = `${probe.metricName}{probe_id="${probe.probeId}"}`;
      const value = await poll(
        'sample in Prometheus',
        () => instantScalar(prometheus, '/api/v1/query', series),
        (v) => v !== undefined,
      );
      expect(value).toBe(42);
      expect(await instantScalar(prometheus, '/api/v1/query', `count_over_time(${series}[1h])`)).toBe(1);
    } finally {
      await stack.stop();
    }
    expect(await harnessLeftovers(runId)).toEqual(NOTHING_LEFT);
  });
});
