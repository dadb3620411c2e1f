import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { DockerStack } from '../../src/stack/docker/docker-stack.js';
import { phase1 } from '../../src/stack/phase1/index.js';
import { phase1Definition } from '../../src/stack/phase1/definition.js';
import { runReported, tempReportDir } from './support/cli.js';
import { harnessLeftovers, NOTHING_LEFT } from './support/leftovers.js';
import { makePki } from '../unit/support/pki.js';
import { authProxy, type AuthProxy } from './support/auth-proxy.js';

const TOKEN = 'e2e-t0ken-9f3a';
/** What the gateway in front of the backends wants. */
const BACKEND_TOKEN = 'e2e-backend-7c1d';

/** Every file a run wrote, read as text: no secret may be in any of them. */
function everythingWritten(dir: string): string {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
}

/**
 * A collector as a platform team runs it: the seed's Phase 1 configuration with its OTLP receivers behind
 * TLS (a certificate for 127.0.0.1 signed by a CA made here) and a bearer token (bearertokenauth), driven
 * through the OpenTelemetry exporter variables alone; its backends queried through an https gateway that wants
 * a bearer token of its own.
 */
describe('an OTLP target behind TLS and a bearer token, driven through OTEL_EXPORTER_OTLP_* alone', () => {
  let stack: DockerStack;
  let dir: string;
  let backendFlags: string[];
  let env: NodeJS.ProcessEnv;
  const proxies: AuthProxy[] = [];

  beforeAll(async () => {
    dir = tempReportDir();
    const pki = makePki(dir);
    const config = parse(
      phase1Definition({ traces: 'jaeger', variant: 'seed' }).services.find((s) => s.name === 'otelcol')!.files[0]!
        .content,
    ) as {
      extensions: Record<string, unknown>;
      receivers: { otlp: { protocols: Record<'grpc' | 'http', Record<string, unknown>> } };
      service: { extensions: string[] };
    };
    const tls = { cert_pem: pki.serverCert, key_pem: pki.serverKey };
    config.extensions['bearertokenauth/server'] = { scheme: 'Bearer', token: TOKEN };
    config.service.extensions.push('bearertokenauth/server');
    for (const p of ['grpc', 'http'] as const)
      Object.assign(config.receivers.otlp.protocols[p], { tls, auth: { authenticator: 'bearertokenauth/server' } });
    writeFileSync(join(dir, 'collector.yaml'), stringify(config));
    stack = await phase1({ traces: 'jaeger' }).withCollectorConfig('collector', join(dir, 'collector.yaml')).start();
    const at = (label: string) => stack.endpointList().find((e) => e.label === label)!.address;
    const gateway = async (label: string) => {
      const proxy = await authProxy(at(label), { cert: pki.serverCert, key: pki.serverKey }, BACKEND_TOKEN);
      proxies.push(proxy);
      return proxy.url;
    };
    const auth = `authorization=Bearer%20${BACKEND_TOKEN}`;
    backendFlags = [
      '--jaeger',
      await gateway('Jaeger query'),
      '--jaeger-headers',
      auth,
      '--loki',
      await gateway('Loki'),
      '--loki-headers',
      auth,
      '--prometheus',
      await gateway('Prometheus'),
      '--prometheus-headers',
      auth,
      '--jaeger-metrics',
      at('Jaeger metrics'),
      '--backend-ca',
      join(dir, 'ca.pem'),
      '--collector-metrics',
      at('Collector metrics'),
      // What the collector runs: the drain reads its pipeline's holds instead of waiting out unknown ones.
      '--collector-config',
      join(dir, 'collector.yaml'),
    ];
    const grpc = at('OTLP gRPC').replace(/^grpc:\/\//, '');
    env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: `https://${grpc}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${TOKEN}`,
      OTEL_EXPORTER_OTLP_CERTIFICATE: join(dir, 'ca.pem'),
    };
  });

  afterAll(async () => {
    for (const p of proxies) await p.close();
    await stack?.stop();
    if (stack !== undefined) expect(await harnessLeftovers(stack.runId)).toEqual(NOTHING_LEFT);
  });

  it('soaks over OTLP/gRPC + gzip with TLS and the token, verifies through the gateway: every signal exact, no secret in anything written', async () => {
    const run = await runReported(['soak', ...backendFlags, '--rate', '1500', '--duration', '10s'], undefined, env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.split('\n')[0]).toMatch(
      /^\[\s*[\d.]+s\] run \S+: soak on target https:\/\/127\.0\.0\.1:\d+ \(from OTEL_EXPORTER_OTLP_ENDPOINT; TLS with the CA given; headers authorization \(values not shown\); jaeger headers authorization \(values not shown\); loki headers authorization \(values not shown\); prometheus headers authorization \(values not shown\); backends over TLS with the CA given\) .*\(native driver, OTLP\/gRPC gzip\)$/,
    );
    // Every query and /metrics read of the backends went through their gateway, with its token.
    for (const p of proxies) {
      expect(p.forwarded, p.url).toBeGreaterThan(0);
      expect(p.refused, p.url).toBe(0);
    }
    const r = run.result();
    expect(r.plan.transport).toBe('OTLP/gRPC gzip');
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      expect(Object.keys(r.load.signals[signal]!.answers), signal).toEqual(['OK']);
      expect(r.verification.signals[signal], signal).toMatchObject({ expected: 5_000, found: 5_000, lost: 0 });
    }
    const written = `${run.stdout}${run.stderr}${everythingWritten(run.dir)}`;
    expect(written).not.toContain(TOKEN);
    expect(written).not.toContain(BACKEND_TOKEN);
  });

  it('a wrong token, an untrusted certificate and the wrong protocol: each one message, exit 5, no load sent', async () => {
    const cases: [NodeJS.ProcessEnv, RegExp][] = [
      [
        { ...env, OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20wrong' },
        /answered UNAUTHENTICATED .*over OTLP\/gRPC gzip: it refused the credentials sent/,
      ],
      [{ ...env, OTEL_EXPORTER_OTLP_CERTIFICATE: '' }, /: its TLS certificate is not trusted/],
      [{ ...env, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }, /over OTLP\/HTTP protobuf gzip: it does not answer/],
    ];
    for (const [caseEnv, message] of cases) {
      const run = await runReported(['soak', ...backendFlags, '--rate', '100', '--duration', '5s'], undefined, caseEnv);
      expect(run.code, run.stderr).toBe(5);
      expect(run.stderr).toMatch(message);
      expect(run.stderr.match(/^error: /gm)).toHaveLength(1);
      const r = run.result();
      expect(r.verdict.status).toBe('error');
      expect(Object.values(r.load.signals).every((s) => s === undefined || s.counts.attempted === 0)).toBe(true);
      expect(`${run.stdout}${run.stderr}${everythingWritten(run.dir)}`).not.toContain(TOKEN);
    }
    // The gateway's token wrong: named at the start, before any load.
    const wrong = backendFlags.map((f, i) =>
      backendFlags[i - 1] === '--loki-headers' ? 'authorization=Bearer%20nope' : f,
    );
    const run = await runReported(['soak', ...wrong, '--rate', '100', '--duration', '5s'], undefined, env);
    expect(run.code, run.stderr).toBe(5);
    expect(run.stderr).toMatch(
      /^error: Target endpoint loki \(logs\) \(https:\/\/127\.0\.0\.1:\d+\) answered HTTP 401: it refused the credentials sent\nhint: give the headers its gateway expects: --loki-headers/m,
    );
    expect(`${run.stdout}${run.stderr}${everythingWritten(run.dir)}`).not.toMatch(/nope|e2e-backend/);
    expect((await stack.containerState('otelcol')).running).toBe(true);
  });
});
