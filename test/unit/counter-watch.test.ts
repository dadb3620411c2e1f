import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CounterWatch } from '../../src/step/counter-watch.js';
import type { StackEndpoints } from '../../src/stack/stack.js';
import { backendOf } from '../../src/verify/backends/registry.js';

/** A /metrics endpoint answering the next text of `pages` on each scrape (the last one for ever). */
async function metricsServer(pages: string[]): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    const page = pages.length > 1 ? pages.shift()! : pages[0]!;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`, server };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const CONFIG = `
exporters:
  debug: {}
  otlp_http/loki: { endpoint: http://loki:3100/otlp }
service:
  pipelines:
    logs: { receivers: [otlp], exporters: [debug, otlp_http/loki] }
`;

function collectorPage(o: { accepted: number; sent: number; failed: number; debug: number; uptime: number }): string {
  return [
    `otelcol_receiver_accepted_log_records{receiver="otlp"} ${o.accepted}`,
    `otelcol_exporter_sent_log_records{exporter="otlp_http/loki"} ${o.sent}`,
    `otelcol_exporter_send_failed_log_records{exporter="otlp_http/loki"} ${o.failed}`,
    `otelcol_exporter_sent_log_records{exporter="debug"} ${o.debug}`,
    `otelcol_process_uptime ${o.uptime}`,
  ].join('\n');
}

async function watch(collectorPages: string[], lokiPages: string[]) {
  const collector = await metricsServer(collectorPages);
  const loki = await metricsServer(lokiPages);
  servers.push(collector.server, loki.server);
  const endpoints: StackEndpoints = {
    otlpHttp: 'http://unused',
    otlpGrpc: undefined,
    otlpHeaders: {},
    collectors: [
      { name: 'otelcol', role: 'collector', metricsUrl: collector.url, config: CONFIG, exportsToBackends: true },
    ],
    backends: {},
  };
  const backend = backendOf('loki', { query: 'http://loki:3100', metrics: loki.url });
  return { watch: new CounterWatch(endpoints, [backend]), backend };
}

describe("the collectors' counters over a step", () => {
  it('bounds what is still in the pipeline and counts only the exporter that feeds the backend', async () => {
    const { watch: w, backend } = await watch(
      [
        collectorPage({ accepted: 0, sent: 0, failed: 0, debug: 0, uptime: 100 }),
        collectorPage({ accepted: 1_000, sent: 600, failed: 100, debug: 1_000, uptime: 160 }),
      ],
      ['loki_distributor_lines_received_total 0', 'loki_distributor_lines_received_total 620'],
    );
    await w.before();
    await w.deltas();
    expect(w.pipeline('logs', backend)).toMatchObject({
      givenUp: 100,
      pendingAtMost: 300,
      exporters: [{ collector: 'otelcol', exporter: 'otlp_http/loki', sent: 600, givenUp: 100 }],
    });
    // The debug exporter's 1,000 are not "sent to Loki": 620 received against 600 sent.
    expect(w.sentTo('logs', backend)).toMatchObject({ value: 600, restarts: 0 });
    expect(w.receivedBy('logs')).toMatchObject({ value: 620 });
  });

  it("joins a restarted collector's counters and then leaves the pending bound unknown", async () => {
    const { watch: w, backend } = await watch(
      [
        collectorPage({ accepted: 0, sent: 0, failed: 0, debug: 0, uptime: 100 }),
        collectorPage({ accepted: 500, sent: 400, failed: 0, debug: 500, uptime: 130 }),
        collectorPage({ accepted: 200, sent: 300, failed: 0, debug: 200, uptime: 3 }),
      ],
      ['loki_distributor_lines_received_total 0'],
    );
    await w.before();
    await w.sample();
    await w.deltas();
    expect(w.restarts()).toEqual([expect.objectContaining({ component: 'otelcol', restarts: 1 })]);
    expect(w.sentTo('logs', backend)).toMatchObject({ value: 700, restarts: 1 });
    expect(w.pipeline('logs', backend)).toMatchObject({
      pendingAtMost: undefined,
      pendingUnknown: expect.stringMatching(/otelcol restarted during the run/) as unknown,
    });
  });

  it("says Loki's received lines are no count of what it stored when pushes to its ingester failed", async () => {
    const { watch: w } = await watch(
      [collectorPage({ accepted: 0, sent: 0, failed: 0, debug: 0, uptime: 1 })],
      [
        'loki_distributor_lines_received_total 0\nloki_discarded_samples_total{reason="rate_limited"} 0',
        'loki_distributor_lines_received_total 59725\nloki_discarded_samples_total{reason="rate_limited"} 29725\nloki_distributor_ingester_append_failures_total{ingester="x"} 3',
      ],
    );
    await w.before();
    await w.deltas();
    expect(w.receivedBy('logs')).toMatchObject({
      value: 30_000,
      unreliable: expect.stringMatching(/counted failed pushes from its distributor to an ingester.*: 3 — /) as unknown,
    });
  });
});

describe('records read again from Kafka', () => {
  it("are what the processors accepted beyond what the gateways wrote, the killed processor's counters joined", async () => {
    const gateway = await metricsServer([
      'otelcol_exporter_sent_log_records{exporter="kafka/logs"} 0',
      'otelcol_exporter_sent_log_records{exporter="kafka/logs"} 1000',
    ]);
    const processor = await metricsServer([
      'otelcol_receiver_accepted_log_records{receiver="kafka/logs"} 0\notelcol_process_uptime 50',
      'otelcol_receiver_accepted_log_records{receiver="kafka/logs"} 600\notelcol_process_uptime 60',
      'otelcol_receiver_accepted_log_records{receiver="kafka/logs"} 500\notelcol_process_uptime 4',
    ]);
    servers.push(gateway.server, processor.server);
    const w = new CounterWatch(
      {
        otlpHttp: 'http://unused',
        otlpGrpc: undefined,
        otlpHeaders: {},
        collectors: [
          { name: 'gateway-1', role: 'gateway', metricsUrl: gateway.url, config: undefined, exportsToBackends: false },
          {
            name: 'processor-1',
            role: 'processor',
            metricsUrl: processor.url,
            config: undefined,
            exportsToBackends: true,
          },
        ],
        backends: {},
      },
      [],
    );
    await w.before();
    await w.sample(); // just before the processor's kill
    await w.deltas();
    expect(w.redeliveredBy('logs')).toMatchObject({ value: 100 });
    expect(w.redeliveredBy('logs')!.note).toMatch(
      /accepted 1100, the ones writing it sent 1000; counters joined across 1 restart/,
    );
    expect(w.redeliveredBy('traces')).toBeUndefined();
  });
});
