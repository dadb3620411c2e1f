import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectorDrainCondition } from '../../src/drain/collector-condition.js';
import { drain, drainOf } from '../../src/drain/drain.js';
import { CounterSegments } from '../../src/observe/counter-segments.js';
import { parsePrometheusText } from '../../src/observe/prometheus-text.js';
import { attachedDrainConditions } from '../../src/stack/attach/index.js';
import { collectorPipelineOf } from '../../src/stack/collector-pipeline.js';

const here = new URL('.', import.meta.url).pathname;
const fixtureLines = readFileSync(join(here, 'fixtures', 'collector-0.158.0-loki-message-too-large.log'), 'utf8').split(
  '\n',
);

function fakeClock() {
  let now = 0;
  return { now: () => now, sleep: (ms: number) => ((now += ms), Promise.resolve()) };
}

/** Exporter metrics of one collector: logs queued in otlp_http/loki, traces idle. */
function metrics(logsQueue: number, logsSent: number, tracesSent: number) {
  return parsePrometheusText(
    [
      `otelcol_exporter_queue_size{data_type="logs",exporter="otlp_http/loki"} ${logsQueue}`,
      `otelcol_exporter_sent_log_records{exporter="otlp_http/loki"} ${logsSent}`,
      `otelcol_exporter_queue_size{data_type="traces",exporter="otlp_grpc/jaeger"} 0`,
      `otelcol_exporter_sent_spans{exporter="otlp_grpc/jaeger"} ${tracesSent}`,
    ].join('\n'),
  );
}

describe('the drain, signal by signal', () => {
  it("never lets one signal's unreadable backend count hold back another's", async () => {
    const clock = fakeClock();
    const report = await drain({
      conditions: [
        collectorDrainCondition({
          name: 'otelcol',
          metricsUrl: 'unused',
          read: () => Promise.resolve(metrics(0, 100, 200)),
          signals: ['traces', 'logs'],
          pollMs: 5_000,
        }),
      ],
      signals: ['traces', 'logs'],
      backendCount: (s) =>
        s === 'traces'
          ? Promise.reject(new Error('no Jaeger metrics endpoint to count stored spans'))
          : Promise.resolve(100),
      timeoutMs: 300_000,
      backendPollMs: 3_000,
      settleMs: 30_000,
      clock,
    });
    expect(report.drained).toBe(true);
    const logs = drainOf(report, 'logs');
    const traces = drainOf(report, 'traces');
    expect(logs.elapsedMs).toBeLessThan(15_000);
    expect(traces.countUnobservable).toBe('no Jaeger metrics endpoint to count stored spans');
    // Given the settle time after its pipeline went idle, not the 5-minute timeout.
    expect(traces.elapsedMs).toBeGreaterThanOrEqual(30_000);
    expect(traces.elapsedMs).toBeLessThan(60_000);
  });

  it('ends a signal queued behind an error no retry fixes, while the others drain', async () => {
    const clock = fakeClock();
    const logsAt = Date.parse('2026-11-21T21:20:00.000Z');
    const report = await drain({
      conditions: [
        collectorDrainCondition({
          name: 'otelcol',
          metricsUrl: 'unused',
          read: () => Promise.resolve(metrics(88, 0, 500)),
          signals: ['traces', 'logs'],
          pollMs: 5_000,
          pipeline: collectorPipelineOf(
            'exporters: { otlp_http/loki: {} }\nprocessors: { batch: { send_batch_max_size: 15000 } }\nservice: { pipelines: { logs: { processors: [batch], exporters: [otlp_http/loki] } } }',
          ),
          logs: () => Promise.resolve(fixtureLines),
          now: () => logsAt,
        }),
      ],
      signals: ['traces', 'logs'],
      backendCount: (s) => Promise.resolve(s === 'traces' ? 500 : 0),
      timeoutMs: 300_000,
      backendPollMs: 3_000,
      stuckAfterMs: 20_000,
      clock,
    });
    const logs = drainOf(report, 'logs');
    expect(logs).toMatchObject({
      drained: false,
      blocked: expect.stringMatching(
        /^otlp_http\/loki: requests of 5\.\d\d MB exceed a 4 MiB gRPC message limit$/,
      ) as unknown,
      stillQueued: [{ queue: 'otlp_http/loki', size: 88, unit: 'requests', maxItems: 88 * 15_000 }],
    });
    expect(logs.elapsedMs).toBeLessThan(40_000);
    expect(drainOf(report, 'traces')).toMatchObject({ drained: true });
    expect(report.reason).toMatch(
      /^logs: 88 requests in otelcol \(otlp_http\/loki\) queued behind an error no retry fixes/,
    );
  });

  it('with a stall bound (capacity trials), says blocked rather than stalled when the evidence knows why', async () => {
    const report = await drain({
      conditions: [
        collectorDrainCondition({
          name: 'otelcol',
          metricsUrl: 'unused',
          read: () => Promise.resolve(metrics(4, 0, 0)),
          signals: ['logs'],
          pollMs: 5_000,
          logs: () => Promise.resolve(fixtureLines),
          now: () => Date.parse('2026-11-21T21:20:00.000Z'),
        }),
      ],
      signals: ['logs'],
      backendCount: () => Promise.resolve(0),
      timeoutMs: 120_000,
      stallMs: 20_000,
      stuckAfterMs: 60_000,
      backendPollMs: 3_000,
      clock: fakeClock(),
    });
    expect(report.signals?.logs).toMatchObject({ blocked: expect.stringMatching(/gRPC message limit/) as unknown });
    expect(report.stalled).toBeUndefined();
  });

  it('keeps waiting for a queue behind failures a retry can fix (a rate limit)', async () => {
    const clock = fakeClock();
    const rateLimited = JSON.stringify({
      level: 'info',
      ts: '2026-11-21T21:19:50.000Z',
      msg: 'Exporting failed. Will retry the request after interval.',
      'otelcol.component.id': 'otlp_http/loki',
      'otelcol.signal': 'logs',
      error: 'HTTP Status Code 429, Message=Ingestion rate limit exceeded',
    });
    const report = await drain({
      conditions: [
        collectorDrainCondition({
          name: 'otelcol',
          metricsUrl: 'unused',
          read: () => Promise.resolve(metrics(3, 0, 0)),
          signals: ['logs'],
          pollMs: 5_000,
          logs: () => Promise.resolve([rateLimited]),
          now: () => Date.parse('2026-11-21T21:20:00.000Z'),
        }),
      ],
      signals: ['logs'],
      backendCount: () => Promise.resolve(0),
      timeoutMs: 60_000,
      backendPollMs: 3_000,
      clock,
    });
    expect(report.signals?.logs?.blocked).toBeUndefined();
    expect(report.reason).toMatch(/did not become idle before the drain timeout/);
  });
});

describe('counters across a restart', () => {
  it('joins the segments when the uptime goes back, and says how wide the unseen gap was', () => {
    const c = new CounterSegments();
    c.add({ atMs: 0, values: { sent: 100 }, uptimeS: 50 });
    c.add({ atMs: 5_000, values: { sent: 600 }, uptimeS: 55 });
    c.add({ atMs: 5_040, values: { sent: 650 }, uptimeS: 55.04 }); // read just before the kill
    c.add({ atMs: 10_000, values: { sent: 300 }, uptimeS: 4 }); // a new process
    c.add({ atMs: 15_000, values: { sent: 900 }, uptimeS: 9 });
    expect(c.restarts).toBe(1);
    expect(c.gapsMs).toEqual([4_960]);
    expect(c.delta('sent')).toBe(550 + 900);
  });

  it('sees a restart from a counter that went down when no uptime is exposed', () => {
    const c = new CounterSegments();
    c.add({ atMs: 0, values: { sent: 10, failed: 0 } });
    c.add({ atMs: 5_000, values: { sent: 40, failed: 2 } });
    c.add({ atMs: 10_000, values: { sent: 5, failed: 0 } });
    expect(c.restarts).toBe(1);
    expect(c.deltas()).toEqual({ sent: 35, failed: 2 });
  });
});

describe('an attached stack without collector metrics', () => {
  it('drains with its queues declared unseen, so absence cannot be called loss on its word', async () => {
    const conditions = attachedDrainConditions(
      [{ name: 'collector', role: 'exporting', metricsUrl: undefined, config: undefined, exportsToBackends: true }],
      ['logs'],
    );
    const report = await drain({
      conditions,
      signals: ['logs'],
      backendCount: () => Promise.resolve(10),
      timeoutMs: 60_000,
      backendPollMs: 3_000,
      clock: fakeClock(),
    });
    expect(report.drained).toBe(true);
    expect(report.unobservable).toEqual([expect.stringMatching(/give --collector-metrics URL/) as unknown]);
  });
});
