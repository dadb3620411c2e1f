import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HarnessError } from '../../src/harness-error.js';
import { grpcFrame } from '../../src/load/otlp/otlp-grpc-client.js';
import { otlpClient } from '../../src/load/otlp/otlp-client.js';
import { probeOtlpTarget } from '../../src/load/otlp/otlp-probe.js';
import { clearOriginCredentials, httpGet, setOriginCredentials } from '../../src/observe/http-auth.js';
import type { OtlpClient, TlsSettings, Transport } from '../../src/load/otlp/transport.js';
import { makePki, type Pki } from './support/pki.js';

let dir = '';
let pki: Pki;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'otlp-tls-'));
  pki = makePki(dir);
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const TOKEN = 'Bearer s3cret';

/** An OTLP/HTTP receiver over TLS that wants `TOKEN` (and a client certificate when `mutual`). */
async function httpsReceiver(mutual = false): Promise<{ url: string; paths: string[] }> {
  const paths: string[] = [];
  const server: Server = createHttpsServer(
    { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requestCert: mutual, rejectUnauthorized: mutual },
    (req, res) => {
      req.resume();
      req.on('end', () => {
        paths.push(String(req.url));
        res.writeHead(req.headers.authorization === TOKEN ? 200 : 401, { 'content-type': 'application/x-protobuf' });
        res.end();
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, paths };
}

/** An OTLP/gRPC receiver over TLS: OK with `TOKEN`, UNAUTHENTICATED without. */
async function grpcsReceiver(): Promise<string> {
  const server: Http2SecureServer = createSecureServer({ cert: pki.serverCert, key: pki.serverKey });
  server.on('stream', (stream, headers) => {
    stream.resume();
    stream.on('end', () => {
      const code = headers.authorization === TOKEN ? '0' : '16';
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': code }));
      stream.end(code === '0' ? grpcFrame(new Uint8Array(), false) : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const HTTP: Transport = { protocol: 'http/protobuf', compression: 'none' };
const GRPC: Transport = { protocol: 'grpc', compression: 'gzip' };

function client(url: string, transport: Transport, tls: TlsSettings | undefined, token = TOKEN): OtlpClient {
  const c = otlpClient({ otlpHttp: url, otlpGrpc: undefined }, transport, {
    connections: 1,
    timeoutMs: 3_000,
    headers: { authorization: token },
    ...(tls === undefined ? {} : { tls }),
  });
  closers.push(() => c.close());
  return c;
}

async function probeError(c: OtlpClient, url: string, transport: Transport): Promise<HarnessError> {
  const err = await probeOtlpTarget(c, 'traces', url, transport).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HarnessError);
  return err as HarnessError;
}

describe('an OTLP target behind TLS and a bearer token', () => {
  it('OTLP/HTTP: acknowledged with the CA and the token; the probe passes', async () => {
    const r = await httpsReceiver();
    const c = client(r.url, HTTP, { ca: pki.ca });
    expect((await c.post('logs', new Uint8Array([1, 2]))).outcome).toBe('acknowledged');
    await probeOtlpTarget(c, 'traces', r.url, HTTP);
    expect(r.paths).toEqual(['/v1/logs', '/v1/traces']);
  });

  it('OTLP/gRPC with gzip: acknowledged with the CA and the token', async () => {
    const url = await grpcsReceiver();
    const c = client(url, GRPC, { ca: pki.ca });
    expect(await c.post('traces', new Uint8Array([1, 2, 3]))).toMatchObject({ outcome: 'acknowledged', answer: 'OK' });
  });

  it('a certificate the run cannot trust: one message naming the CA to give (exit 5), over HTTP and gRPC', async () => {
    const r = await httpsReceiver();
    const err = await probeError(client(r.url, HTTP, { ca: pki.otherCa }), r.url, HTTP);
    expect(err.exitCode).toBe(5);
    expect(err.message).toMatch(
      /answered \S+ to an empty traces export over OTLP\/HTTP protobuf: its TLS certificate is not trusted/,
    );
    expect(err.hint).toMatch(/OTEL_EXPORTER_OTLP_CERTIFICATE or --otlp-ca/);
    expect(r.paths).toEqual([]);
    const url = await grpcsReceiver();
    const grpcErr = await probeError(client(url, GRPC, undefined), url, GRPC);
    expect(grpcErr.message).toMatch(/over OTLP\/gRPC gzip: its TLS certificate is not trusted/);
  });

  it('--insecure-skip-verify accepts the certificate unchecked', async () => {
    const r = await httpsReceiver();
    await probeOtlpTarget(client(r.url, HTTP, { insecureSkipVerify: true }), 'traces', r.url, HTTP);
    expect(r.paths).toEqual(['/v1/traces']);
  });

  it('a wrong token: one message naming the headers to give (exit 5), never the token', async () => {
    const r = await httpsReceiver();
    const err = await probeError(client(r.url, HTTP, { ca: pki.ca }, 'Bearer wrong'), r.url, HTTP);
    expect(err.message).toMatch(/answered 401 .*: it refused the credentials sent$/);
    expect(err.hint).toMatch(/OTEL_EXPORTER_OTLP_HEADERS or --otlp-headers/);
    expect(`${err.message} ${err.hint ?? ''}`).not.toMatch(/wrong|s3cret/);
    const url = await grpcsReceiver();
    const grpcErr = await probeError(client(url, GRPC, { ca: pki.ca }, 'Bearer wrong'), url, GRPC);
    expect(grpcErr.message).toMatch(/answered UNAUTHENTICATED .*: it refused the credentials sent$/);
  });

  it('the wrong protocol for the port: one message naming --protocol (exit 5)', async () => {
    const r = await httpsReceiver();
    const err = await probeError(client(r.url, GRPC, { ca: pki.ca }), r.url, GRPC);
    expect(err.exitCode).toBe(5);
    expect(err.message).toMatch(/over OTLP\/gRPC gzip: it does not answer OTLP\/gRPC gzip there$/);
    expect(err.hint).toMatch(/--protocol \/ OTEL_EXPORTER_OTLP_PROTOCOL/);
  });

  it('mutual TLS: the client certificate is sent when given, and the receiver refuses a client without one', async () => {
    const r = await httpsReceiver(true);
    const withCert = client(r.url, HTTP, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
    expect((await withCert.post('metrics', new Uint8Array([1]))).outcome).toBe('acknowledged');
    const without = await client(r.url, HTTP, { ca: pki.ca }).post('metrics', new Uint8Array([1]));
    expect(without.outcome).toBe('failed');
    expect(r.paths).toEqual(['/v1/metrics']);
  });

  it('backend queries carry the credentials registered for their origin: its headers and its CA', async () => {
    const r = await httpsReceiver();
    clearOriginCredentials();
    // Unknown origin: no token, and the system CAs do not know this one.
    await expect(httpGet(`${r.url}/loki/api/v1/labels`)).rejects.toThrow();
    setOriginCredentials(`${r.url}/loki`, { headers: { authorization: 'Bearer wrong' }, tls: { ca: pki.ca } });
    expect((await httpGet(`${r.url}/loki/api/v1/labels`)).status).toBe(401);
    setOriginCredentials(r.url, { headers: { authorization: TOKEN } });
    expect((await httpGet(`${r.url}/metrics`)).status).toBe(200);
    // Explicit headers (a tenant) go along; the origin's token is kept.
    expect((await httpGet(`${r.url}/x`, { 'X-Scope-OrgID': 'a' })).status).toBe(200);
    clearOriginCredentials();
  });
});
