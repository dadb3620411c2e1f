import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerStack } from '../../src/stack/docker/docker-stack.js';
import { phase1 } from '../../src/stack/phase1/index.js';
import { runCli, runReported, tempReportDir } from './support/cli.js';
import { harnessLeftovers, NOTHING_LEFT } from './support/leftovers.js';

describe('soak --target (a stack booted elsewhere, as `otel-harness up --json` describes it)', () => {
  let stack: DockerStack;
  let targetFile: string;

  beforeAll(async () => {
    stack = await phase1({ traces: 'jaeger' }).start();
    targetFile = join(tempReportDir(), 'stack.json');
    writeFileSync(
      targetFile,
      JSON.stringify({ runId: stack.runId, title: stack.title, endpoints: stack.endpointList() }),
    );
  });

  afterAll(async () => {
    await stack.stop();
    expect(await harnessLeftovers(stack.runId)).toEqual(NOTHING_LEFT);
  });

  it('drives and verifies the existing stack with the native driver and the web payload, and leaves it running', async () => {
    const run = await runReported([
      'soak',
      '--target',
      targetFile,
      '--payload',
      'web',
      '--rate',
      '900',
      '--duration',
      '15s',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const r = run.result();
    expect(r.load.signals.traces!.shape).toMatchObject({ payload: 'web', payloadPods: 20, payloadNodes: 5 });
    expect(r.stack.title).toBe('Phase 1 (traces: jaeger)');
    expect(r.plan.target).toBe(targetFile);
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      expect(r.verification.signals[signal]!.lost, signal).toBe(0);
      expect(r.verification.signals[signal]!.found, signal).toBe(r.load.signals[signal]!.counts.acknowledged);
    }
    expect((await stack.containerState('otelcol')).running).toBe(true);
  });

  it('the SDK driver (the OpenTelemetry JS SDK and its OTLP gRPC exporters, gzip) is verified the same way', async () => {
    const run = await runReported([
      'soak',
      '--target',
      targetFile,
      '--driver',
      'sdk',
      '--compression',
      'gzip',
      '--rate',
      '1500',
      '--duration',
      '15s',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const r = run.result();
    expect(r.plan.transport).toBe('OTLP/gRPC gzip');
    for (const [signal, backend] of [
      ['traces', 'jaeger'],
      ['metrics', 'prometheus'],
      ['logs', 'loki'],
    ] as const) {
      expect(r.load.signals[signal]!.answers, signal).toEqual({ OK: 7_500 });
      expect(r.verification.signals[signal], signal).toMatchObject({ backend, expected: 7_500, found: 7_500, lost: 0 });
    }
  });

  it('the native driver over OTLP/gRPC with gzip: every signal counted exactly', async () => {
    const run = await runReported([
      'soak',
      '--target',
      targetFile,
      '--protocol',
      'grpc',
      '--compression',
      'gzip',
      '--rate',
      '1500',
      '--duration',
      '15s',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const r = run.result();
    expect(r.plan.transport).toBe('OTLP/gRPC gzip');
    expect(run.stderr).toMatch(/\(native driver, OTLP\/gRPC gzip\)/);
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      const load = r.load.signals[signal]!;
      expect(load.counts.acknowledged, signal).toBe(7_500);
      // Every answer a gRPC status: the collector's OTLP gRPC receiver took them all.
      expect(load.answers, signal).toEqual({ OK: 7_500 });
      expect(r.verification.signals[signal], signal).toMatchObject({ expected: 7_500, found: 7_500, lost: 0 });
    }
  });

  it('takes the endpoints as flags, sends OTLP/HTTP JSON, and verify --run-id verifies the finished run again from its ledger', async () => {
    const url = (service: string, port: number) => stack.url(service, port);
    const flags = [
      '--otlp-endpoint',
      url('otelcol', 4318),
      '--jaeger',
      url('jaeger', 16686),
      '--jaeger-metrics',
      `${url('jaeger', 8888)}/metrics`,
      '--loki',
      url('loki', 3100),
      '--prometheus',
      url('prometheus', 9090),
      '--collector-metrics',
      `${url('otelcol', 8888)}/metrics`,
    ];
    const run = await runReported(['soak', ...flags, '--protocol', 'http/json', '--rate', '900', '--duration', '10s']);
    expect(run.code, run.stderr).toBe(0);
    const r = run.result();
    expect(r.plan.topology).toBe('attach');
    expect(r.plan.transport).toBe('OTLP/HTTP JSON');
    expect(r.stack.title).toBe(`attached stack (${url('otelcol', 4318)})`);
    expect(r.drain?.drained).toBe(true);
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      // The collector's OTLP/HTTP receiver decoded every JSON request: every item acknowledged, every one found.
      expect(r.load.signals[signal]!.answers, signal).toEqual({ '200': 3_000 });
      expect(r.verification.signals[signal], signal).toMatchObject({ expected: 3_000, found: 3_000, lost: 0 });
    }

    const again = await runCli(['verify', '--run-id', r.runId, '--report-dir', run.dir, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const v = JSON.parse(again.stdout) as typeof r;
    expect(v.command).toBe('verify');
    for (const signal of ['traces', 'metrics', 'logs'] as const)
      expect(v.verification.signals[signal]!.found, signal).toBe(r.verification.signals[signal]!.found);
    expect(existsSync(join(run.dir, r.runId, 'verify', 'summary.md'))).toBe(true);
  });

  it('an unreachable target is named in one message (exit 5), with nothing started', async () => {
    // A port that was just free: nothing listens on it.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const dead = join(tempReportDir(), 'dead.json');
    writeFileSync(
      dead,
      JSON.stringify({
        title: 'gone',
        endpoints: [{ service: 'otelcol', label: 'OTLP HTTP', address: `http://127.0.0.1:${port}` }],
      }),
    );
    const run = await runReported(['soak', '--target', dead, '--duration', '5s']);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain(
      `error: The OTLP target http://127.0.0.1:${port} answered ECONNREFUSED to an empty traces export over OTLP/HTTP protobuf: nothing answers there`,
    );
    expect(run.result().verdict).toMatchObject({ status: 'error', exitCode: 5 });
  });
});
