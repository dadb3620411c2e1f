import { describe, expect, it } from 'vitest';
import { collectorDrainCondition } from '../../src/drain/collector-condition.js';
import { drain, drainOf } from '../../src/drain/drain.js';
import { parsePrometheusText } from '../../src/observe/prometheus-text.js';
import { collectorPipelineOf } from '../../src/stack/collector-pipeline.js';
import { quietOf } from '../../src/stack/collector-drain.js';
import { settleMsOf, UNSEEN_PIPELINE_SETTLE_MS } from '../../src/step/settle.js';

function fakeClock() {
  let now = 0;
  return { now: () => now, sleep: (ms: number) => ((now += ms), Promise.resolve()) };
}

const SEED_LIKE = `
processors:
  memory_limiter: { check_interval: 1s, limit_mib: 1000 }
  batch: { timeout: 5s, send_batch_size: 10000 }
  tail_sampling: { decision_wait: 10s, policies: [] }
exporters:
  otlp_grpc/jaeger: { endpoint: jaeger:4317 }
  otlp_http/loki:
    endpoint: http://loki:3100/otlp
    sending_queue: { batch: { flush_timeout: 2s } }
  debug: {}
service:
  pipelines:
    traces: { receivers: [otlp], processors: [memory_limiter, tail_sampling, batch], exporters: [otlp_grpc/jaeger] }
    traces/debug: { receivers: [otlp], processors: [batch], exporters: [debug] }
    logs: { receivers: [otlp], processors: [memory_limiter], exporters: [otlp_http/loki] }
    metrics: { receivers: [otlp], processors: [], exporters: [debug] }
`;

/** One collector's sent counter for logs, its queue empty. */
function sent(n: number) {
  return parsePrometheusText(
    [
      `otelcol_exporter_queue_size{data_type="logs",exporter="otlp_http/loki"} 0`,
      `otelcol_exporter_sent_log_records{exporter="otlp_http/loki"} ${n}`,
    ].join('\n'),
  );
}

describe('how long the drain waits for stillness', () => {
  it("reads each signal's longest hold from the configuration: batch timeouts, decision_wait and its tick, an exporter's own batching", () => {
    const p = collectorPipelineOf(SEED_LIKE)!;
    // traces: tail_sampling 10 s + 1 s tick, then batch 5 s; the longest of its two pipelines.
    expect(p.holdMs).toEqual({ traces: 16_000, logs: 2_000, metrics: 0 });
    expect(collectorPipelineOf('service: { pipelines: { logs: { processors: [batch] } } }')!.holdMs).toEqual({
      logs: 200, // the batch processor's default timeout
    });
    // Fed by OTLP only: every item of the load was in before the drain's first look.
    expect(quietOf(p, 1_000)('traces')).toEqual({ ms: 17_000, from: 'first-look' });
    // A Kafka consumer takes items in after the load ended: from its last movement.
    const consumer = collectorPipelineOf(
      'processors: { batch: { timeout: 5s } }\nservice: { pipelines: { logs: { receivers: [kafka/logs], processors: [batch] } } }',
    );
    expect(quietOf(consumer, 1_000)('logs')).toEqual({ ms: 6_000, from: 'last-movement' });
    // Unknown configuration: a 5 s batch assumed, from the last movement.
    expect(quietOf(undefined, 1_000)('logs')).toEqual({ ms: 6_000, from: 'last-movement' });
  });

  async function looks(from: 'first-look' | 'last-movement', readings: number[]): Promise<boolean[]> {
    const clock = fakeClock();
    let i = 0;
    const condition = collectorDrainCondition({
      name: 'otelcol',
      metricsUrl: 'unused',
      read: () => Promise.resolve(sent(readings[Math.min(i++, readings.length - 1)]!)),
      signals: ['logs'],
      pollMs: 1_000,
      quiet: () => ({ ms: 3_000, from }),
      now: clock.now,
    });
    const idle: boolean[] = [];
    for (let look = 0; look < readings.length; look++) {
      idle.push((await condition.check()).idle);
      await clock.sleep(1_000);
    }
    return idle;
  }

  it('from the last movement: idle once the counters stood still for the quiet time, a movement starting it over', async () => {
    // Still from t = 1 s: idle would come at t = 4 s, but t = 4 s moved; still again from t = 4 s.
    expect(await looks('last-movement', [100, 200, 200, 200, 250, 250, 250, 250, 250, 250])).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      true,
      true,
      true,
    ]);
  });

  it('from the first look: idle once the hold has passed since the drain began and one look-to-look stood still', async () => {
    // The batch flushes at t = 2 s; the hold (3 s) has passed at t = 3 s, still since t = 2 s.
    expect(await looks('first-look', [100, 100, 250, 250, 250, 250])).toEqual([false, false, false, true, true, true]);
    // Moving until t = 4 s: idle at the next still look.
    expect(await looks('first-look', [1, 2, 3, 4, 5, 5, 5])).toEqual([false, false, false, false, false, true, true]);
  });

  it("takes a short count as final after the backend's own lag, and after 30 s when a collector on the way is unseen", async () => {
    const seen = { config: SEED_LIKE, metricsUrl: 'http://otelcol:8888/metrics' };
    expect(settleMsOf({ countLagMs: 10_000 }, [seen])).toBe(10_000);
    expect(settleMsOf({ countLagMs: 30_000 }, [seen])).toBe(30_000);
    expect(settleMsOf({ countLagMs: 10_000 }, [])).toBe(10_000); // load straight to the backend
    expect(settleMsOf({ countLagMs: 10_000 }, [seen, { config: undefined, metricsUrl: 'x' }])).toBe(
      UNSEEN_PIPELINE_SETTLE_MS,
    );
    expect(settleMsOf({ countLagMs: 10_000 }, [{ ...seen, metricsUrl: undefined }])).toBe(UNSEEN_PIPELINE_SETTLE_MS);

    // In the drain: logs short of the expected (a planted drop) settle in 10 s, traces on a slower backend in 30 s.
    const clock = fakeClock();
    const report = await drain({
      conditions: [],
      signals: ['traces', 'logs'],
      backendCount: (s) => Promise.resolve(s === 'traces' ? 990 : 995),
      expected: () => 1_000,
      settleMs: (s) => (s === 'traces' ? 30_000 : 10_000),
      timeoutMs: 300_000,
      backendPollMs: 3_000,
      clock,
    });
    expect(report.drained).toBe(true);
    expect(drainOf(report, 'logs').elapsedMs).toBeGreaterThanOrEqual(10_000);
    expect(drainOf(report, 'logs').elapsedMs).toBeLessThan(15_000);
    expect(drainOf(report, 'traces').elapsedMs).toBeGreaterThanOrEqual(30_000);
    expect(drainOf(report, 'traces').elapsedMs).toBeLessThan(35_000);
  });
});
