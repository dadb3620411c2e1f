import { createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { driveSdk } from '../../src/load/drivers/sdk/sdk-driver.js';
import { Ledger } from '../../src/load/ledger.js';
import { LiveCounters } from '../../src/load/live-counters.js';
import { grpcFrame } from '../../src/load/otlp/otlp-grpc-client.js';

const AMBIENT = {
  OTEL_TRACES_SAMPLER: 'always_off',
  OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
  OTEL_EXPORTER_OTLP_HEADERS: 'x-ambient=1',
};

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
      {
        traceShape: {
          spansPerTrace: 2,
          attributesPerSpan: 1,
          attributeValueBytes: 8,
          errorFraction: 0,
          slowFraction: 0,
          spanDurationMs: 1,
          slowDurationMs: 1,
        },
        rateRps: 200,
        unitRate: 100,
        batchUnits: 10,
        batchItems: 20,
        profile: { kind: 'constant' },
        durationMs: 1_000,
        requestTimeoutMs: 2_000,
      },
      'sdk-unit',
      ledger,
      new LiveCounters(),
      `127.0.0.1:${(server.address() as AddressInfo).port}`,
      new AbortController().signal,
      { 'X-Scope-OrgID': 'team-a' },
    );
    // 100 traces of 2 spans each, all sampled and acknowledged: OTEL_TRACES_SAMPLER=always_off changed nothing.
    expect(ledger.counts('traces')).toMatchObject({ acknowledged: 200, failed: 0, dropped: 0 });
    expect(calls.length).toBeGreaterThan(0);
    for (const c of calls) expect(c).toEqual({ encoding: undefined, tenant: 'team-a', ambient: undefined });
  }, 20_000);
});
