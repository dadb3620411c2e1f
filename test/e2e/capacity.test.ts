import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CapacityResult } from '../../src/capacity/capacity.js';
import { ARTIFACTS, checkInBrowser } from './support/browser.js';
import { runCli, tempReportDir } from './support/cli.js';
import { harnessLeftovers, NOTHING_LEFT } from './support/leftovers.js';

describe('capacity on Phase 1', () => {
  it('finds the knee of a collector held to 0.1 CPUs, names it as the limit, and writes reports a browser draws', async () => {
    const dir = tempReportDir();
    // Short log bodies keep the seed's largest log batch (15,000 records) under Loki's 4 MiB gRPC limit,
    // so the collector's CPU sets the knee. About 5 minutes on this machine.
    const run = await runCli([
      'capacity',
      '--collector-cpus',
      '0.1',
      '--log-body-bytes',
      '40',
      '--from',
      '4000',
      '--to',
      '32000',
      '--trial',
      '10s',
      '--confirm',
      '20s',
      '--precision',
      '20%',
      '--settle',
      '2s',
      '--trial-drain',
      '30s',
      '--settle-timeout',
      '90s',
      '--for-rate',
      '25000',
      '--report-dir',
      dir,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const [runId] = readdirSync(dir);
    const r = JSON.parse(readFileSync(join(dir, runId!, 'result.json'), 'utf8')) as CapacityResult;
    expect(r.stack.title).toMatch(/collector CPUs: 0.1/);

    // The interval: its lower end passed a full-length trial with nothing lost, its upper end failed.
    const ndr = r.ndr!;
    expect(ndr.kind).toBe('interval');
    const lower = r.trials.find((t) => t.n === ndr.lowerTrial)!;
    const upper = r.trials.find((t) => t.n === ndr.upperTrial)!;
    expect(lower).toMatchObject({ durationMs: 20_000, conclusive: true, lost: 0, sloMisses: [] });
    expect(lower.rateRps).toBe(ndr.lowerRps);
    expect(upper.rateRps).toBe(ndr.upperRps);
    expect(upper.lost > 0 || upper.sloMisses.length > 0 || !upper.conclusive).toBe(true);
    expect(ndr.upperRps! - ndr.lowerRps!).toBeLessThanOrEqual(0.2 * ndr.upperRps! + 10);
    // A tenth of a core holds about twelve thousand items/s here, below what the generator and machine can do.
    expect(ndr.upperRps!).toBeLessThan(32_000);
    // Every trial was verified exactly with its own run id: expected counts are the acknowledged ones.
    for (const t of r.trials) {
      expect(t.runId).not.toBe(r.runId);
      for (const s of Object.values(t.signals)) expect(s.status).not.toBe('not verified');
    }
    // Who limited it: the collector at its CPU limit, not the generator or the machine.
    expect(r.limitedBy.who).toBe('stack');
    expect(r.limitedBy.reasons.join('\n')).toMatch(/otelcol at \d+% of its CPU limit of 0.1 cores/);
    expect(r.headline).toMatch(/^NDR ∈ \[\d+, \d+\] items\/s \(width [\d.]+ %\), limited by the stack: /);
    expect(run.stdout.split('\n')[0]).toBe(r.headline);

    // Cost fitted over the passing trials, sizing beside the published figures.
    const collector = r.cost.find((c) => c.component === 'otelcol')!;
    expect(collector.points).toBeGreaterThanOrEqual(2);
    expect(collector.cpuMillicoresPer1k).toBeGreaterThan(0);
    expect(r.sizing!.stackCopies).toBe(Math.ceil((25_000 * 1.5) / ndr.lowerRps!));
    expect(r.sizing!.published.length).toBeGreaterThanOrEqual(4);
    // Loki counts the bytes it receives: its ingest per 1k items/s, and its MiB/s at the target.
    const loki = r.ingest.find((b) => b.backend === 'loki')!;
    expect(loki).toMatchObject({ signal: 'logs' });
    expect(loki.bytesPerSecPer1k).toBeGreaterThan(0);
    expect(lower.ingest.loki!.bytesPerSec).toBeGreaterThan(0);
    expect(r.sizing!.ingest.find((b) => b.backend === 'loki')!.mibPerSec).toBeGreaterThan(0);
    // Trials that ran on a re-created stack say why.
    for (const t of r.trials.filter((x) => x.stackRecreated !== undefined))
      expect(t.stackRecreated).toMatch(/^the stack was re-created before this trial: the previous trial's backlog/);

    // The four files, junit.xml with the search's own case.
    const files = readdirSync(join(dir, runId!)).sort();
    expect(files).toEqual(['junit.xml', 'report.html', 'result.json', 'summary.md']);
    const junit = readFileSync(join(dir, runId!, 'junit.xml'), 'utf8');
    expect(junit).toContain(
      '<testcase name="NDR found within the searched range" classname="otel-harness.capacity" time="0.000"/>',
    );
    expect(readFileSync(join(dir, runId!, 'summary.md'), 'utf8')).toContain(
      `# otel-harness capacity ${r.runId}: ${r.headline}`,
    );

    const screenshot = join(ARTIFACTS, `capacity-${r.runId}.png`);
    const drawn = await checkInBrowser(join(dir, runId!, 'report.html'), screenshot);
    expect(drawn).toEqual({ charts: 4, drawn: 4 });
    expect(existsSync(screenshot)).toBe(true);
    expect(await harnessLeftovers(r.runId)).toEqual(NOTHING_LEFT);
  });
});
