import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/parse-args.js';
import { withSignalOtlpEnv } from '../../src/load/otlp/otlp-env.js';
import { SECRET_SHOWN } from '../../src/options/option-table.js';
import { emptyResult } from '../../src/soak/soak.js';
import type { SoakPlan } from '../../src/soak/soak-plan.js';
import { refused, usage, usageError } from './support/usage.js';
import { scratchDir } from '../support/scratch.js';

const soakPlan = (argv: string[], env: NodeJS.ProcessEnv): SoakPlan => {
  const c = parseArgs(['soak', ...argv], withSignalOtlpEnv(env));
  if (c.name !== 'soak') throw new Error(c.name);
  return c.plan;
};

describe('the OpenTelemetry exporter variables (OTEL_EXPORTER_OTLP_*)', () => {
  it("a signal's own variable wins over the generic one; the signals must agree on the target", () => {
    const env = withSignalOtlpEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector:4318/v1/traces',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://collector:4318/v1/metrics/',
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'https://collector:4318/v1/logs',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
    });
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('https://collector:4318');
    expect(env.OTEL_EXPORTER_OTLP_PROTOCOL).toBe('grpc');
    // Only the traces' own endpoint: it is the one target.
    expect(
      withSignalOtlpEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }).OTEL_EXPORTER_OTLP_ENDPOINT,
    ).toBe('http://c:4318');
    // Nothing per signal: the environment as it is.
    const plain = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', PATH: '/bin' };
    expect(withSignalOtlpEnv(plain)).toEqual(plain);
  });

  it('signals that disagree are one configuration error naming both variables; a header value is never shown', () => {
    const two = usageError(() =>
      withSignalOtlpEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318',
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://b:4318/v1/logs',
      }),
    );
    expect(two.message).toMatch(
      /OTEL_EXPORTER_OTLP_LOGS_ENDPOINT is invalid, expected the same endpoint for every signal .*actual: 'http:\/\/b:4318'/,
    );
    expect(two.hint).toMatch(/^OTEL_EXPORTER_OTLP_ENDPOINT gives http:\/\/a:4318; set one value for all signals/);
    const headers = usage(() =>
      withSignalOtlpEnv({
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20one',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'authorization=Bearer%20two',
      }),
    );
    expect(headers).toMatch(/OTEL_EXPORTER_OTLP_TRACES_HEADERS is invalid, expected the same headers/);
    expect(headers).not.toMatch(/Bearer|%20/);
    expect(usage(() => withSignalOtlpEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/api/spans' }))).toMatch(
      /OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is invalid, expected a URL ending in \/v1\/traces/,
    );
  });

  it('OTEL_EXPORTER_OTLP_ENDPOINT alone selects attach mode and the first line says so; headers are never shown', () => {
    const plan = soakPlan([], {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://127.0.0.1:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20s3cret,x-team=obs',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
    });
    expect(plan.stack.topology.name).toBe('attach');
    expect(plan.load.transport).toEqual({ protocol: 'grpc', compression: 'gzip' });
    expect(plan.load.requestTimeoutMs).toBe(2_500);
    const line = plan.stack.topology.describe(plan.stack.options, plan.stack.choice);
    expect(line).toBe(
      'target https://127.0.0.1:4318 (from OTEL_EXPORTER_OTLP_ENDPOINT; headers authorization, x-team (values not shown))',
    );
    const result = JSON.stringify(emptyResult(plan, 'r', '0', 'soak'));
    expect(result).not.toMatch(/s3cret/);
    expect(result).toContain(SECRET_SHOWN);
    // A booting command leaves an application's OTEL_EXPORTER_OTLP_ENDPOINT alone.
    const up = parseArgs(['up'], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' });
    expect(up).toMatchObject({ stack: { topology: { name: 'phase1' } } });
    const chaos = parseArgs(['chaos', '--scenario', 'collector-restart'], {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
    });
    expect(chaos).toMatchObject({ plan: { stack: { topology: { name: 'phase1' } } } });
    expect(refused(['soak', '--phase', '2'], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).message).toMatch(
      /--phase is invalid, expected no phase with --target, --otlp-endpoint or OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
  });

  it('TLS files: a CA and a client certificate with its key, checked before anything starts; TLS only with the native driver', () => {
    const dir = scratchDir('otlp-env-');
    const pem = (name: string) => {
      const f = join(dir, name);
      writeFileSync(f, `-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n`);
      return f;
    };
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://127.0.0.1:4318',
      OTEL_EXPORTER_OTLP_CERTIFICATE: pem('ca.pem'),
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: pem('client.pem'),
      OTEL_EXPORTER_OTLP_CLIENT_KEY: pem('client.key'),
    };
    const plan = soakPlan([], env);
    expect(plan.stack.topology.describe(plan.stack.options, plan.stack.choice)).toBe(
      'target https://127.0.0.1:4318 (from OTEL_EXPORTER_OTLP_ENDPOINT; TLS with the CA given and a client certificate)',
    );
    expect(refused(['soak', '--driver', 'k6'], env).message).toMatch(
      /--driver is invalid, expected native for an OTLP target with TLS settings/,
    );
    expect(refused(['soak'], { ...env, OTEL_EXPORTER_OTLP_CLIENT_KEY: '' }).message).toMatch(
      /--otlp-client-key is invalid, expected a client certificate and its key together/,
    );
    expect(refused(['soak'], { ...env, OTEL_EXPORTER_OTLP_CERTIFICATE: join(dir, 'nope.pem') }).message).toMatch(
      /OTEL_EXPORTER_OTLP_CERTIFICATE is invalid, expected a readable PEM file/,
    );
    const skip = soakPlan(['--insecure-skip-verify'], { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://127.0.0.1:4318' });
    expect(skip.stack.topology.describe(skip.stack.options, skip.stack.choice)).toMatch(
      /TLS, certificate NOT verified \(--insecure-skip-verify\)/,
    );
  });
});
