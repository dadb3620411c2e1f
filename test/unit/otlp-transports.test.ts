import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createH2Server, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { firstGrpcMessage, grpcFrame, OtlpGrpcClient } from '../../src/load/otlp/otlp-grpc-client.js';
import { OtlpHttpClient, retryAfterOf } from '../../src/load/otlp/otlp-http-client.js';
import { grpcTarget, otlpClient } from '../../src/load/otlp/otlp-client.js';
import { resolveSoakOptions } from '../../src/soak/soak-options.js';
import { planLoad } from '../../src/soak/soak-plan.js';
import { nativeDriver } from '../../src/load/drivers/native/index.js';
import type { DriveInput } from '../../src/load/drivers/driver.js';
import { Ledger } from '../../src/load/ledger.js';
import { LiveCounters } from '../../src/load/live-counters.js';
import { usage } from './support/usage.js';

/** An Export*ServiceResponse whose partial_success rejects `n` items because of `why`. */
function partialSuccess(n: number, why: string): Uint8Array {
  const text = new TextEncoder().encode(why);
  const inner = [0x08, n, 0x12, text.length, ...text];
  return new Uint8Array([0x0a, inner.length, ...inner]);
}

const BODY = new Uint8Array(Array.from({ length: 3_000 }, (_, i) => i % 7)); // compressible, like OTLP

interface Call {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  message: Uint8Array | undefined;
}

type Reply = (stream: ServerHttp2Stream) => void;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  // Clients before the servers they hold sessions with.
  for (const close of closers.splice(0).reverse()) await close();
});

/** A real HTTP/2 server answering each call with `reply`; what it received is in `calls`. */
async function grpcServer(reply: Reply): Promise<{ target: string; calls: Call[] }> {
  const calls: Call[] = [];
  const server: Http2Server = createH2Server();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      void firstGrpcMessage(Buffer.concat(chunks), headers['grpc-encoding'] as string | undefined).then((message) => {
        calls.push({ path: String(headers[':path']), headers, message });
        reply(stream);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { target: `127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

/** An OK answer carrying `message`, with its status in the trailers. */
const ok =
  (message: Uint8Array = new Uint8Array()): Reply =>
  (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(grpcFrame(message, false));
  };

/** A trailers-only answer with gRPC status `code`. */
const status =
  (code: number, message = ''): Reply =>
  (stream) => {
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': message },
      { endStream: true },
    );
  };

function client(target: string, options: Partial<ConstructorParameters<typeof OtlpGrpcClient>[1]> = {}) {
  const c = new OtlpGrpcClient(target, { connections: 2, timeoutMs: 2_000, ...options });
  closers.push(() => c.close());
  return c;
}

describe('OTLP/gRPC, as the native driver sends it', () => {
  it("calls each signal's Export method with the request as one message, gzip-compressed when asked", async () => {
    const server = await grpcServer(ok());
    const plain = client(server.target, { headers: { 'X-Scope-OrgID': 'tenant-1' } });
    const gzipped = client(server.target, { compression: 'gzip' });
    expect(await plain.post('traces', BODY)).toEqual({
      outcome: 'acknowledged',
      answer: 'OK',
      rejected: 0,
      rejectMessage: '',
    });
    expect((await gzipped.post('logs', BODY)).outcome).toBe('acknowledged');
    expect((await gzipped.post('metrics', BODY)).outcome).toBe('acknowledged');
    expect(server.calls.map((c) => c.path)).toEqual([
      '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
      '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
    ]);
    for (const call of server.calls) expect(Buffer.from(call.message!)).toEqual(Buffer.from(BODY)); // decompressed when gzipped
    expect(server.calls[0]!.headers).toMatchObject({
      'content-type': 'application/grpc+proto',
      te: 'trailers',
      'x-scope-orgid': 'tenant-1',
    });
    expect(server.calls[0]!.headers['grpc-encoding']).toBeUndefined();
    expect(server.calls[1]!.headers['grpc-encoding']).toBe('gzip');
    expect(server.calls[1]!.headers['grpc-timeout']).toBe('2000m');
  });

  it("reads an OK answer's partial success, as over HTTP", async () => {
    const server = await grpcServer(ok(partialSuccess(3, 'too old')));
    expect(await client(server.target).post('logs', BODY)).toEqual({
      outcome: 'acknowledged',
      answer: 'OK',
      rejected: 3,
      rejectMessage: 'too old',
    });
  });

  it('calls UNAVAILABLE and RESOURCE_EXHAUSTED refusals, INVALID_ARGUMENT a failure, and names each status', async () => {
    const codes = [14, 8, 3, 16];
    let i = 0;
    const server = await grpcServer((stream) => status(codes[i++]!, 'no')(stream));
    const c = client(server.target);
    const answers = [];
    for (let n = 0; n < codes.length; n++) answers.push(await c.post('traces', BODY));
    expect(answers.map((a) => [a.outcome, a.answer])).toEqual([
      ['refused', 'UNAVAILABLE'],
      ['refused', 'RESOURCE_EXHAUSTED'],
      ['failed', 'INVALID_ARGUMENT'],
      ['failed', 'UNAUTHENTICATED'],
    ]);
  });

  it('records the retry delay a refusal asks for (RetryInfo in grpc-status-details-bin)', async () => {
    const url = new TextEncoder().encode('type.googleapis.com/google.rpc.RetryInfo');
    const retryInfo = [0x0a, 5, 0x08, 0x02, 0x10, 0x80, 0xe1, 0xeb, 0x17]; // retry_delay { seconds: 2, nanos: 50,000,000 }
    retryInfo.splice(1, 1, retryInfo.length - 2);
    const any = [0x0a, url.length, ...url, 0x12, retryInfo.length, ...retryInfo];
    const details = Buffer.from([0x08, 8, 0x1a, any.length, ...any]).toString('base64');
    const server = await grpcServer((stream) => {
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '8', 'grpc-status-details-bin': details },
        { endStream: true },
      );
    });
    expect(await client(server.target).post('logs', BODY)).toEqual({
      outcome: 'refused',
      answer: 'RESOURCE_EXHAUSTED',
      rejected: 0,
      rejectMessage: '',
      retryAfterMs: 2_050,
    });
  });

  it("judges a proxy's answer without a gRPC status by its HTTP status", async () => {
    const server = await grpcServer((stream) => stream.respond({ ':status': 503 }, { endStream: true }));
    expect(await client(server.target).post('traces', BODY)).toMatchObject({ outcome: 'refused', answer: 'HTTP 503' });
  });

  it('fails a call unanswered within the request timeout, and one nobody listens for', async () => {
    const server = await grpcServer(() => undefined); // never answers
    expect(await client(server.target, { timeoutMs: 200 }).post('traces', BODY)).toMatchObject({
      outcome: 'failed',
      answer: 'DEADLINE_EXCEEDED (local)',
    });
    const closed = await grpcServer(ok());
    const port = closed.target;
    await closers.pop()!(); // the port is free again: nothing listens
    expect(await client(port).post('traces', BODY)).toMatchObject({ outcome: 'failed', answer: 'ECONNREFUSED' });
  });

  it('opens a new session after requestsPerConnection calls, so load spreads behind an L4 balancer', async () => {
    const sessions = new Set<unknown>();
    const server = await grpcServer((stream) => {
      sessions.add(stream.session);
      ok()(stream);
    });
    const c = client(server.target, { connections: 1, requestsPerConnection: 2 });
    for (let n = 0; n < 6; n++) expect((await c.post('traces', BODY)).outcome).toBe('acknowledged');
    expect(sessions.size).toBe(3);
  });
});

describe('OTLP/HTTP with gzip', () => {
  it('sends the request gzip-compressed with Content-Encoding: gzip, and plain without', async () => {
    const received: { encoding: string | undefined; body: Buffer }[] = [];
    const server = createHttpServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const encoding = req.headers['content-encoding'];
        const raw = Buffer.concat(chunks);
        received.push({ encoding, body: encoding === 'gzip' ? gunzipSync(raw) : raw });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const compression of ['gzip', 'none'] as const) {
      const c = new OtlpHttpClient(base, { connections: 1, timeoutMs: 2_000, compression });
      closers.push(() => c.close());
      expect((await c.post('logs', BODY)).outcome).toBe('acknowledged');
    }
    expect(received.map((r) => r.encoding)).toEqual(['gzip', undefined]);
    for (const r of received) expect(r.body).toEqual(Buffer.from(BODY));
    expect(gzipSync(BODY).length).toBeLessThan(BODY.length / 10);
  });
});

describe('--connections', () => {
  it("is the native driver's connection count: a slow endpoint sees exactly that many sockets", async () => {
    const sockets = new Set<number>();
    const server = createHttpServer((req, res) => {
      sockets.add(req.socket.remotePort!);
      req.resume();
      req.on('end', () => setTimeout(() => res.writeHead(200).end(), 200));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const spec = planLoad(
      resolveSoakOptions({ connections: '2', signals: 'logs', rate: '2000', duration: '1s', batch: '50' }, {}),
    );
    expect(spec.connections).toBe(2);
    const ledger = new Ledger({ traces: 1, metrics: 1, logs: 1 });
    await nativeDriver().drive({
      spec,
      runId: 'oh-connections',
      serviceName: 'otel-harness-soak',
      ingest: {
        otlpHttp: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        otlpGrpc: undefined,
        headers: {},
      },
      ledger,
      live: new LiveCounters(),
      metricTimeline: { startMs: Date.now(), profile: { kind: 'constant' }, rate: 1, durationMs: 1_000 },
      abort: new AbortController().signal,
    } as unknown as DriveInput);
    expect(ledger.counts('logs')).toMatchObject({ acknowledged: 2_000, failed: 0, dropped: 0 });
    // 40 requests answered after 200 ms, 2 due every 50 ms: about 8 want a connection at once, and the
    // driver's default pool (4 per signal) would have opened 4.
    expect(sockets.size).toBe(2);
    expect(usage(() => resolveSoakOptions({ connections: '3', driver: 'k6' }, {}))).toMatch(
      /--connections is invalid, expected no value with --driver k6/,
    );
  });
});

describe('Retry-After', () => {
  it('reads delay seconds and dates, and nothing else', () => {
    expect(retryAfterOf('3')).toBe(3_000);
    expect(retryAfterOf(['10'])).toBe(10_000);
    expect(retryAfterOf('Sun, 06 Dec 2026 12:00:05 GMT', Date.parse('Sun, 06 Dec 2026 12:00:00 GMT'))).toBe(5_000);
    expect(retryAfterOf(undefined)).toBeUndefined();
    expect(retryAfterOf('soon')).toBeUndefined();
  });
});

describe('choosing the transport', () => {
  it('takes --protocol and --compression, or the OpenTelemetry variables, for the native driver only', () => {
    const o = (flags: Record<string, string>, env: NodeJS.ProcessEnv = {}) => resolveSoakOptions(flags, env);
    expect(o({})).toMatchObject({ protocol: 'http/protobuf', compression: 'none' });
    expect(o({ protocol: 'grpc', compression: 'gzip' })).toMatchObject({ protocol: 'grpc', compression: 'gzip' });
    expect(o({}, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' })).toMatchObject({
      protocol: 'grpc',
      compression: 'gzip',
    });
    // The flag wins over the variable.
    expect(o({ protocol: 'http/protobuf' }, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).protocol).toBe('http/protobuf');
    // The SDK driver speaks gRPC by default, HTTP protobuf when asked; k6 posts OTLP/HTTP protobuf or calls
    // OTLP/gRPC (uncompressed: k6's gRPC client has no compression); the operator's runners post HTTP only.
    expect(o({ driver: 'sdk', signals: 'traces' }).protocol).toBe('grpc');
    expect(o({ driver: 'sdk', signals: 'traces', protocol: 'http/protobuf', compression: 'gzip' })).toMatchObject({
      protocol: 'http/protobuf',
      compression: 'gzip',
    });
    expect(o({ driver: 'k6', protocol: 'grpc' })).toMatchObject({ protocol: 'grpc', compression: 'none' });
    expect(usage(() => o({ driver: 'k6', protocol: 'grpc', compression: 'gzip' }))).toMatch(
      /--compression is invalid, expected none with --driver k6 --protocol grpc \(k6's gRPC client sends uncompressed messages\)/,
    );
    expect(usage(() => o({ driver: 'k6-operator', signals: 'traces', protocol: 'grpc' }))).toMatch(
      /--protocol is invalid, expected http\/protobuf with --driver k6-operator \(the k6 scenarios run by the operator post OTLP\/HTTP protobuf\)/,
    );
    expect(usage(() => o({ driver: 'sdk', signals: 'traces', protocol: 'http/json' }))).toMatch(
      /--protocol is invalid, expected grpc or http\/protobuf with --driver sdk/,
    );
    // k6 compresses the bodies it posts.
    expect(o({ driver: 'k6', compression: 'gzip' }).compression).toBe('gzip');
    expect(o({ protocol: 'http/json', compression: 'gzip' })).toMatchObject({
      protocol: 'http/json',
      compression: 'gzip',
    });
    expect(usage(() => o({ driver: 'k6', protocol: 'http/json' }))).toMatch(
      /--protocol is invalid, expected http\/protobuf/,
    );
    expect(usage(() => o({ compression: 'zstd' }))).toMatch(/--compression is invalid, expected one of none, gzip/);
  });

  it('sends gRPC to the OTLP endpoint itself when the stack names no gRPC address (OTEL_EXPORTER_OTLP_ENDPOINT alone)', () => {
    expect(grpcTarget('127.0.0.1:4317')).toEqual({ target: '127.0.0.1:4317', secure: false });
    expect(grpcTarget('http://127.0.0.1:4317')).toEqual({ target: '127.0.0.1:4317', secure: false });
    expect(grpcTarget('https://collector.example:4317/')).toEqual({ target: 'collector.example:4317', secure: true });
    expect(grpcTarget('https://collector.example')).toEqual({ target: 'collector.example:443', secure: true });
    const c = otlpClient(
      { otlpHttp: 'https://127.0.0.1:4317', otlpGrpc: undefined },
      { protocol: 'grpc', compression: 'none' },
      { connections: 1, timeoutMs: 1_000 },
    );
    closers.push(() => c.close());
    expect(c).toBeInstanceOf(OtlpGrpcClient);
  });
});
