import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { KINDS, manifestComponents, normalizedType } from '../../src/images/collector-components.js';
import { phase1Definition } from '../../src/stack/phase1/definition.js';
import { runCommand } from '../../src/images/run-command.js';
import { runReported, tempReportDir } from './support/cli.js';
import { harnessLeftovers, NOTHING_LEFT } from './support/leftovers.js';

/** The seed's collector configuration for Jaeger, as a user would start from it. */
function seedConfig(): Record<string, unknown> {
  const def = phase1Definition({ traces: 'jaeger' });
  return parse(def.services.find((s) => s.name === 'otelcol')!.files[0]!.content) as Record<string, unknown>;
}

const SHORT = ['--rate', '1500', '--duration', '15s'];

describe("the user's own stack", () => {
  it('runs their collector configuration with the processors teams add (the platform distribution chosen for them, validated first), and records its hash; its node agent scrapes the metrics (--scraper agent)', async () => {
    const config = seedConfig() as {
      processors: Record<string, unknown>;
      service: { pipelines: Record<'traces' | 'metrics' | 'logs', { processors: string[] }> };
    };
    config.processors.batch = { timeout: '2s', send_batch_size: 2000, send_batch_max_size: 3000 };
    // What platform teams' configurations use to enrich, redact and sample (stacks/otelcol/manifest-platform.yaml).
    config.processors['transform/enrich'] = {
      error_mode: 'propagate',
      trace_statements: ['set(span.attributes["deployment.environment"], "ci")'],
      log_statements: ['set(log.attributes["deployment.environment"], "ci")'],
    };
    config.processors['attributes/team'] = { actions: [{ key: 'team', value: 'observability', action: 'upsert' }] };
    // Outside Kubernetes: passthrough only records the sender's address, without asking an API server.
    config.processors.k8sattributes = { passthrough: true };
    config.processors['groupbyattrs/host'] = { keys: ['host.name'] };
    config.processors.probabilistic_sampler = { sampling_percentage: 100 };
    const { pipelines } = config.service;
    pipelines.traces.processors.splice(
      1,
      0,
      'k8sattributes',
      'transform/enrich',
      'attributes/team',
      'probabilistic_sampler',
    );
    pipelines.logs.processors.splice(1, 0, 'k8sattributes', 'transform/enrich', 'attributes/team');
    pipelines.metrics.processors.splice(1, 0, 'groupbyattrs/host');
    const file = join(tempReportDir(), 'my-otelcol.yaml');
    writeFileSync(file, stringify(config));
    // No --otelcol-manifest: the components beyond the default collector choose the platform distribution.
    // The same stack takes seed 003's metrics path: the node agent's prometheus receiver (in that distribution)
    // scrapes the harness's targets and forwards to the collector, which remote-writes to Prometheus.
    const run = await runReported([
      'soak',
      '--collector-config',
      file,
      '--metric-source',
      'scrape',
      '--scraper',
      'agent',
      '--scrape-targets',
      '2',
      ...SHORT,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const r = run.result();
    expect(run.stderr.split('\n')[0]).toMatch(
      /; collector built from stacks\/otelcol\/manifest-platform\.yaml for processor transform, processor attributes, processor k8sattributes, processor groupbyattrs, processor probabilistic_sampler\)? at /,
    );
    // The distribution carries every component its manifest names, under the names the choice reads.
    const built = parse(
      await runCommand('docker', ['run', '--rm', r.stack.images.otelcol!, 'components'], { captureStdout: true }),
    ) as Record<string, { name: string }[] | undefined>;
    const manifest = manifestComponents(readFileSync('stacks/otelcol/manifest-platform.yaml', 'utf8'));
    for (const kind of KINDS)
      expect(new Set((built[kind] ?? []).map((c) => normalizedType(c.name))), kind).toEqual(manifest[kind]);
    expect(run.stderr).toContain(`validating ${file} (collector) with the collector's own validate command`);
    expect(r.stack.title).toMatch(
      /^Phase 1 \(traces: jaeger, your collector configuration, metrics scraped by the node agent/,
    );
    expect(run.stderr).toMatch(/scrape targets: \d+ samples served in \d+ scrapes with a new tick/);
    expect(r.stack.manifestHash).toBe(
      createHash('sha256').update(readFileSync('stacks/otelcol/manifest-platform.yaml')).digest('hex'),
    );
    expect(r.stack.configHashes.otelcol).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
    for (const s of ['traces', 'metrics', 'logs'] as const)
      expect(r.verification.signals[s], s).toMatchObject({ lost: 0, found: r.load.signals[s]!.counts.acknowledged });
    // The sampler at 100 % is predicted to keep every trace: an absent one would have counted as lost.
    expect(run.stderr).toMatch(/traces: predicting the sampler's decisions/);
    expect(await harnessLeftovers(r.runId)).toEqual(NOTHING_LEFT);
  });

  it("refuses a configuration the collector rejects, with the collector's message (exit 2), before anything starts", async () => {
    const config = seedConfig() as { processors: Record<string, unknown> };
    config.processors.batch = { timeout: 'soon' };
    const file = join(tempReportDir(), 'broken.yaml');
    writeFileSync(file, stringify(config));
    const run = await runReported(['soak', '--collector-config', file, ...SHORT]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error: Configuration: --collector-config ${file} is invalid`);
    expect(run.stderr).toMatch(/'timeout' time: invalid duration/);
    expect(run.result().verdict).toMatchObject({ status: 'error', exitCode: 2 });
    expect(await harnessLeftovers(run.result().runId)).toEqual(NOTHING_LEFT);
  });

  it('builds and runs an older collector release the module proxy serves (--image otelcol=0.155.0)', async () => {
    const run = await runReported(['soak', '--image', 'otelcol=0.155.0', ...SHORT]);
    expect(run.code, run.stderr).toBe(0);
    const r = run.result();
    expect(r.stack.versions.otelcol).toBe('0.155.0');
    expect(r.stack.images.otelcol).toBe('otel-harness/otelcol:0.155.0');
    for (const s of ['traces', 'metrics', 'logs'] as const) expect(r.verification.signals[s]!.lost, s).toBe(0);
  });

  it('names the versions the proxy serves when asked for one it does not (exit 2)', async () => {
    const run = await runReported(['soak', '--image', 'loki=3.6.2', ...SHORT]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /--image loki is invalid, expected a version the Go module proxy serves for github.com\/grafana\/loki\/v3 \(served: .*v3\.7\.8\) \(actual: '3\.6\.2'\)/,
    );
  });
});
