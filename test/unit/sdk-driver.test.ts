import { createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer as createHttpServer } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { logShapeDefaults, METRIC_NAME, tickTimeMs } from '../../generators/index.js';
import { driveSdk, type SdkLoad } from '../../src/load/drivers/sdk/sdk-driver.js';
import type { Transport } from '../../src/load/otlp/transport.js';
import { Ledger } from '../../src/load/ledger.js';
import { LiveCounters } from '../../src/load/live-counters.js';
import { grpcFrame } from '../../src/load/otlp/otlp-grpc-client.js';
import { Msg } from './support/wire-decoder.js';

const AMBIENT = {
  OTEL_TRACES_SAMPLER: 'always_off',
  OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
  OTEL_EXPORTER_OTLP_HEADERS: 'x-ambient=1',
};

const START_MS = Date.parse('2026-12-07T00:00:00Z');
/** 25 gauge series, a sample of each every 250 ms: 100 data points in 1 s. */
const METRIC_SHAPE = { series: 25, intervalMs: 250 };
const TIMELINE = { startMs: START_MS, profile: { kind: 'constant' as const }, rate: 100, durationMs: 1_000 };

/** 100 traces of 2 spans (and 100 log records, 100 data points) in 1 s. */
function load(transport: Transport, logs: boolean): SdkLoad {
  return {
    traces: { rateRps: 200, unitRate: 100, batchUnits: 10 },
    ...(logs
      ? {
          logs: { rateRps: 100, unitRate: 100, batchUnits: 10 },
          metrics: { rateRps: 100, unitRate: 100, batchUnits: 10 },
        }
      : {}),
    metricShape: METRIC_SHAPE,
    metricTimeline: TIMELINE,
    traceShape: {
      spansPerTrace: 2,
      attributesPerSpan: 1,
      attributeValueBytes: 8,
      errorFraction: 0,
      slowFraction: 0,
      spanDurationMs: 1,
      slowDurationMs: 1,
    },
    logShape: logShapeDefaults(),
    batchItems: 20,
    profile: { kind: 'constant' },
    durationMs: 1_000,
    requestTimeoutMs: 2_000,
    transport,
  };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  for (const key of Object.keys(AMBIENT)) delete process.env[key];
});

describe('the SDK driver', () => {
  it("sends every trace with the run's headers, whatever an application's OTEL_* variables say", async () => {
    const calls: { encoding: unknown; tenant: unknown; ambient: unknown }[] = [];
    const server: Http2Server = createServer();
    server.on('stream', (stream, headers) => {
      calls.push({
        encoding: headers['grpc-encoding'],
        tenant: headers['x-scope-orgid'],
        ambient: headers['x-ambient'],
      });
      stream.resume();
      stream.on('end', () => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(grpcFrame(new Uint8Array(), false));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    Object.assign(process.env, AMBIENT);

    const ledger = new Ledger({ traces: 2, metrics: 1, logs: 1 });
    await driveSdk(
      load({ protocol: 'grpc', compression: 'none' }, false),
      'sdk-unit',
      ledger,
      new LiveCounters(),
      { otlpHttp: 'http://unused', otlpGrpc: `127.0.0.1:${(server.address() as AddressInfo).port}` },
      new AbortController().signal,
      { 'X-Scope-OrgID': 'team-a' },
    );
    // 100 traces of 2 spans each, all sampled and acknowledged: OTEL_TRACES_SAMPLER=always_off changed nothing.
    expect(ledger.counts('traces')).toMatchObject({ acknowledged: 200, failed: 0, dropped: 0 });
    expect(calls.length).toBeGreaterThan(0);
    for (const c of calls) expect(c).toEqual({ encoding: undefined, tenant: 'team-a', ambient: undefined });
  }, 20_000);

  it('sends traces, metrics and logs over OTLP/HTTP protobuf with gzip, each item counted by its seq', async () => {
    const seen: { path: string; encoding: unknown; tenant: unknown; bytes: number }[] = [];
    const points: string[] = [];
    const server = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.url === '/v1/metrics') {
          for (const rm of new Msg(gunzipSync(body)).msgs(1))
            for (const sm of rm.msgs(2))
              for (const m of sm.msgs(2)) {
                expect(m.string(1)).toBe(METRIC_NAME);
                for (const p of m.msg(5).msgs(1))
                  points.push(`${p.attributes(7).series}@${p.uint(3)}=${p.double(4)}:${p.attributes(7).run_id}`);
              }
        }
        seen.push({
          path: req.url ?? '',
          encoding: req.headers['content-encoding'],
          tenant: req.headers['x-scope-orgid'],
          bytes: gunzipSync(body).length,
        });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const ledger = new Ledger({ traces: 2, metrics: 1, logs: 1 });
    const reports = await driveSdk(
      load({ protocol: 'http/protobuf', compression: 'gzip' }, true),
      'sdk-http',
      ledger,
      new LiveCounters(),
      { otlpHttp: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, otlpGrpc: undefined },
      new AbortController().signal,
      { 'X-Scope-OrgID': 'team-b' },
    );
    expect([...reports.keys()].sort()).toEqual(['logs', 'metrics', 'traces']);
    expect(ledger.counts('traces')).toMatchObject({ acknowledged: 200, failed: 0, dropped: 0 });
    expect(ledger.counts('logs')).toMatchObject({ acknowledged: 100, failed: 0, dropped: 0 });
    expect(ledger.counts('metrics')).toMatchObject({ acknowledged: 100, failed: 0, dropped: 0 });
    // The gauge's 100 points, each once: series s of tick t, value t, stamped with the tick's scheduled time.
    const expected = Array.from({ length: 100 }, (_, seq) => {
      const tick = Math.floor(seq / 25);
      const nanos = BigInt(tickTimeMs(tick, METRIC_SHAPE, TIMELINE)) * 1_000_000n;
      return `${seq % 25}@${nanos}=${tick}:sdk-http`;
    });
    expect(points.sort()).toEqual(expected.sort());
    // Every record acknowledged once, by its seq: 0–99 in ranges.
    const acked = ledger
      .entriesOf('logs')
      .filter((e) => e.outcome === 'acknowledged')
      .flatMap((e) => Array.from({ length: e.count }, (_, i) => e.first + i))
      .sort((a, b) => a - b);
    expect(acked).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(new Set(seen.map((c) => c.path))).toEqual(new Set(['/v1/traces', '/v1/logs', '/v1/metrics']));
    for (const c of seen) expect(c).toMatchObject({ encoding: 'gzip', tenant: 'team-b' });
  }, 20_000);
});
