import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { connectDockerEngine } from '../../src/docker/docker-engine.js';
import { newRunId } from '../../src/docker/labels.js';
import { resolveStackImages } from '../../src/images/stack-images.js';
import { stacksDir } from '../../src/paths.js';
import { bootStack } from '../../src/stack/docker/boot.js';
import type { DockerStack } from '../../src/stack/docker/docker-stack.js';
import { phase1Definition } from '../../src/stack/phase1/definition.js';
import { runReported, tempReportDir } from './support/cli.js';
import { harnessLeftovers, NOTHING_LEFT } from './support/leftovers.js';

interface CollectorYaml {
  exporters: Record<string, Record<string, unknown>>;
}

/** The seed collector configuration as a user would write it for Phase 1 with Jaeger. */
function seedConfig(): CollectorYaml {
  const text = readFileSync(join(stacksDir(), 'phase1', 'otelcol.yaml'), 'utf8')
    .replaceAll('{{traces.backend}}', 'jaeger')
    .replaceAll('{{traces.otlpGrpcEndpoint}}', 'jaeger:4317');
  return parse(text) as CollectorYaml;
}

describe('decisive verdicts (real stacks)', () => {
  it("the seed's log batches over Loki's 4 MiB message limit: FAIL at once, the cause and the fix named (exit 4)", async () => {
    // 3,000 log records/s fill the seed's 10,000-record batches in 3.3 s: 5.3 MB each, over the limit of
    // Loki's distributor → ingester gRPC hop. The collector retries them for 300 s; the run does not wait.
    const run = await runReported(['soak', '--signals', 'logs', '--rate', '3000', '--duration', '20s']);
    expect(run.code, run.stderr).toBe(4);
    const r = run.result();
    const logs = r.verification.signals.logs!;
    expect(r.drain?.signals?.logs).toMatchObject({
      drained: false,
      blocked: expect.stringMatching(
        /otlp_http\/loki: requests of [\d.]+ MB exceed a 4 MiB gRPC message limit/,
      ) as unknown,
    });
    expect(r.drain!.elapsedMs).toBeLessThan(90_000);
    expect(logs.outcome.status).toBe('fail');
    const e = logs.evidence!;
    // Every acknowledged record is absent: given up (none yet, retries last 300 s) or queued behind the error.
    expect(e.absent).toBe(logs.expected - logs.found);
    expect((e.lostAtLeast ?? 0) + e.doomed).toBe(e.absent);
    expect(e.doomed).toBeGreaterThan(0);
    expect(e.causes[0]).toMatchObject({ hop: 'otelcol → loki', retryable: false });
    expect(e.causes[0]!.reason).toMatch(
      /queued behind the same error: requests of [\d.]+ MB exceed a 4 MiB gRPC message limit/,
    );
    // The retry lines name no item count: the advised size assumes a full batch and says it is at most that.
    expect(e.causes[0]!.fix).toMatch(
      /send_batch_max_size \(now 15,000\) — at most about [\d,]+ items \(if the [\d.]+ MB request held a full batch of 10,000; fewer items make each larger\)/,
    );
    expect(r.verdict.reasons.join('\n')).toMatch(/logs lost in loki: .*queued behind an error no retry fixes .*fix: /);
    expect(r.limits.limitedBy).not.toBe('nothing');
    expect(await harnessLeftovers(r.runId)).toEqual(NOTHING_LEFT);
  });

  it('a Tempo run with a planted loss is FAIL with the exact count, named (exit 4)', async () => {
    const run = await runReported([
      'soak',
      '--traces',
      'tempo',
      '--variant',
      'planted-loss',
      '--signals',
      'traces',
      '--rate',
      '1000',
      '--duration',
      '20s',
    ]);
    expect(run.code, run.stderr).toBe(4);
    const r = run.result();
    const traces = r.verification.signals.traces!;
    const spans = r.load.signals.traces!.counts.acknowledged;
    // The filter drops span seq 100, 200, …: one span in a hundred, every one of them named.
    const planted = Math.floor((spans - 1) / 100);
    expect(traces).toMatchObject({ backend: 'tempo', expected: spans, lost: planted, outcome: { status: 'fail' } });
    expect(traces.found).toBe(spans - planted);
    expect(traces.crossCheck?.agrees).not.toBe(false);
    expect(await harnessLeftovers(r.runId)).toEqual(NOTHING_LEFT);
  });
});

describe('a rate-limited Loki, retries off, attached by flags (a stack started by hand)', () => {
  let stack: DockerStack;
  let config: string;

  beforeAll(async () => {
    // The collector's Loki exporter with retries and its queue off, as the user who asked for it runs it.
    const c = seedConfig();
    c.exporters['otlp_http/loki']!.retry_on_failure = { enabled: false };
    c.exporters['otlp_http/loki']!.sending_queue = { enabled: false };
    config = join(tempReportDir(), 'otelcol.yaml');
    writeFileSync(config, stringify(c));
    const engine = await connectDockerEngine();
    const definition = phase1Definition({ traces: 'jaeger', variant: 'seed', collectorConfig: stringify(c) });
    // Loki holding each tenant to 1 MB/s with a 1 MB burst: batches of a few MB are refused (429).
    const loki = definition.services.find((s) => s.name === 'loki')!;
    const file = loki.files[0]!;
    (file as { content: string }).content = file.content
      .replace(/ingestion_rate_mb: \d+/, 'ingestion_rate_mb: 1')
      .replace(/ingestion_burst_size_mb: \d+/, 'ingestion_burst_size_mb: 1');
    const resolved = await resolveStackImages(engine, definition, {
      source: 'local',
      overrides: {},
      manifest: undefined,
      progress: { step: () => undefined, line: () => undefined },
      say: () => undefined,
    });
    stack = await bootStack(engine, definition, {
      runId: newRunId(),
      images: resolved.images,
      ports: 'random',
      progress: () => undefined,
      versions: resolved.versions,
    });
  });

  afterAll(async () => {
    await stack.stop();
    expect(await harnessLeftovers(stack.runId)).toEqual(NOTHING_LEFT);
  });

  it("FAIL with the collector's own count, no duplicates claimed, and Jaeger's unreadable count holds nothing back", async () => {
    const url = (service: string, port: number) => stack.url(service, port);
    const started = Date.now();
    const run = await runReported([
      'soak',
      '--otlp-endpoint',
      url('otelcol', 4318),
      '--jaeger',
      url('jaeger', 16686), // no --jaeger-metrics: its stored spans cannot be counted
      '--loki',
      url('loki', 3100),
      '--collector-metrics',
      `${url('otelcol', 8888)}/metrics`,
      '--collector-config',
      config,
      '--signals',
      'traces,logs',
      '--rate',
      '2000',
      '--duration',
      '20s',
    ]);
    const elapsedS = (Date.now() - started) / 1000;
    expect(run.code, run.stderr).toBe(4);
    const r = run.result();
    const logs = r.verification.signals.logs!;
    const given = logs.evidence!.givenUp!;
    expect(logs.outcome.status).toBe('fail');
    // What the collector gave up holds every lost record (and canaries, and nothing else).
    expect(logs.lost).toBeGreaterThan(0);
    expect(given).toBeGreaterThanOrEqual(logs.lost);
    expect(given - logs.lost).toBeLessThanOrEqual(r.latency.logs?.sent ?? 0);
    expect(logs.evidence!.causes.map((c) => c.hop)).toEqual(expect.arrayContaining(['collector → loki', 'loki']));
    expect(logs.evidence!.causes.find((c) => c.hop === 'loki')!.fix).toMatch(/retry_on_failure and sending_queue on/);
    // Loki counted the refused lines as received: they are no duplicates.
    expect(logs.duplicates.delivered ?? 0).toBe(0);
    // Traces: verified by id; the backend's count could not be read and held nothing back.
    expect(r.verification.signals.traces).toMatchObject({ lost: 0, outcome: { status: 'pass' } });
    expect(r.drain?.signals?.traces?.countUnobservable).toMatch(/Jaeger/);
    expect(elapsedS).toBeLessThan(150);
  });
});
