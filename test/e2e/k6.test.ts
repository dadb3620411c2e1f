import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runCommand } from '../../src/images/run-command.js';
import { HarnessError } from '../../src/harness-error.js';
import { loadCatalog } from '../../src/images/catalog.js';
import { ensureK6 } from '../../src/load/drivers/k6/k6-binary.js';
import { inspectScenario } from '../../src/load/drivers/k6/k6-driver.js';
import { cacheDir } from '../../src/paths.js';
import { runCli, runReported, seqs } from './support/cli.js';
import { harnessLeftovers, NOTHING_LEFT } from './support/leftovers.js';
import { scratchDir } from '../support/scratch.js';

describe('soak --driver k6 (k6 built here, scenarios on the shared generators)', () => {
  it('the traces scenario over OTLP/gRPC at 1,000 spans/s for 30 s: exact zero-loss verdict', async () => {
    const run = await runReported([
      'soak',
      '--driver',
      'k6',
      '--scenario',
      'traces',
      '--protocol',
      'grpc',
      '--rate',
      '1000',
      '--duration',
      '30s',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const r = run.result();
    const t = r.load.signals.traces!;
    expect(t.counts.acknowledged).toBeGreaterThan(25_000);
    expect(t.counts.acknowledged).toBe(t.counts.offered);
    expect(r.verification.signals.traces).toMatchObject({
      expected: t.counts.acknowledged,
      found: t.counts.acknowledged,
      lost: 0,
    });
    expect(r.k6).toMatchObject({ scenario: 'traces', exitCode: 0 });
    expect(r.k6!.summary!.iterations).toBe(seqs(t.idRanges.acknowledged).length / Math.round(512 / 5));
    expect(r.k6!.summary!.thresholds.every((x) => x.ok)).toBe(true);
    // Every batch answered by the collector's gRPC receiver (k6/net/grpc): status OK, not an HTTP status.
    expect(t.answers).toEqual({ OK: t.counts.acknowledged });
    expect(r.k6!.summary!.thresholds.map((x) => x.metric)).toContain('grpc_req_duration{signal:traces}');
    expect(await harnessLeftovers(r.runId)).toEqual(NOTHING_LEFT);
  });

  it('the mixed scenario, gzip-compressed: traces, metrics and logs, each verified exactly', async () => {
    const run = await runReported([
      'soak',
      '--driver',
      'k6',
      '--scenario',
      'mixed',
      '--compression',
      'gzip',
      '--rate',
      '1500',
      '--duration',
      '30s',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const r = run.result();
    expect(r.plan.transport).toBe('OTLP/HTTP protobuf gzip');
    for (const s of ['traces', 'metrics', 'logs'] as const) {
      expect(r.verification.signals[s]!.lost, s).toBe(0);
      expect(r.verification.signals[s]!.found, s).toBe(r.load.signals[s]!.counts.acknowledged);
      expect(r.load.signals[s]!.counts.acknowledged, s).toBeGreaterThan(10_000);
    }
    // Compressed on the wire, headers included: measured here 38 bytes per item with gzip, 252 without.
    const items = (['traces', 'metrics', 'logs'] as const).reduce((n, s) => n + r.load.signals[s]!.counts.attempted, 0);
    expect(r.k6!.summary!.dataSentBytes! / items).toBeLessThan(100);
  });

  it('planted loss through k6: detected exactly, exit 4', async () => {
    const run = await runReported([
      'soak',
      '--driver',
      'k6',
      '--scenario',
      'logs',
      '--variant',
      'planted-loss',
      '--rate',
      '1000',
      '--duration',
      '20s',
    ]);
    expect(run.code, run.stderr).toBe(4);
    const r = run.result();
    const dropped = seqs(r.load.signals.logs!.idRanges.acknowledged).filter((s) => s > 0 && s % 100 === 0);
    expect(r.verification.signals.logs!.lost).toBe(dropped.length);
    expect(seqs(r.verification.signals.logs!.lostRanges)).toEqual(dropped);
  });

  it('k6 manifest: the archive in its ConfigMap holds the rate and duration asked for', async () => {
    const run = await runCli([
      'k6',
      'manifest',
      '--parallelism',
      '3',
      '--scenario',
      'traces',
      '--rate',
      '2000',
      '--duration',
      '30s',
      '--k6-endpoint',
      'http://otel-collector.observability:4318',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const [configMap] = parseAllDocuments(run.stdout).map((d) => d.toJS() as { binaryData?: Record<string, string> });
    const dir = scratchDir('k6-manifest-');
    const archive = join(dir, 'archive.tar');
    writeFileSync(archive, Buffer.from(configMap!.binaryData!['archive.tar']!, 'base64'));
    // What a runner executes: the archive's options (its init code ran at `k6 archive`), not the Pod's env.
    const k6 = await ensureK6(loadCatalog().tools.get('k6')!, { cacheDir: cacheDir(), progress: () => undefined });
    const inspected = JSON.parse(await runCommand(k6, ['inspect', archive], { captureStdout: true })) as {
      scenarios: { traces: { rate: number; timeUnit: string; duration: string } };
    };
    const t = inspected.scenarios.traces;
    // 2,000 spans/s of 510-span iterations: 200 iterations per 51 s, for 30 s.
    expect([t.rate, t.timeUnit, t.duration]).toEqual([200, '51s', '30s']);
  });

  it("a scenario k6 cannot load is exit 2 with k6's own message", async () => {
    const k6 = await ensureK6(loadCatalog().tools.get('k6')!, { cacheDir: cacheDir(), progress: () => undefined });
    const script = join(scratchDir('k6-bad-'), 'bad.js');
    writeFileSync(script, 'export default function () { let x = ; }\n');
    const err = await inspectScenario(k6, script, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HarnessError);
    expect((err as HarnessError).exitCode).toBe(2);
    expect((err as HarnessError).details).toMatch(/SyntaxError|Unexpected token/);
  });
});
