import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempReportDir } from './support/cli.js';
import { gate } from './support/gate.js';
import { harnessLeftovers, NOTHING_LEFT } from './support/leftovers.js';

/** 600 items/s for 10 s: 2,000 of each signal per trial (spans 0–1,999, log records 0–1,999). */
const PER_SIGNAL = 2_000;
/** The planted-loss filter drops span seq and log record seq 100, 200, …: 19 of each in 0–1,999. */
const DROPPED = 19;

/**
 * The gate's refusals and its loss verdict: low rates and no cost compared, so these run beside other light
 * files. The gates that compare costs (CPU per item) are in gate.test.ts and run alone.
 */
describe('gate on Phase 1: refusals and loss', () => {
  it('a spec naming a collector version the module proxy does not serve is exit 2 before any stack starts', async () => {
    const dir = tempReportDir();
    const spec = join(dir, 'candidate.yaml');
    writeFileSync(spec, 'apiVersion: otel-harness/v1\ntopology: phase1\nimages:\n  otelcol: 0.99.0\n');
    const run = await runCli([
      'gate',
      '--baseline',
      'stacks/gates/seed.yaml',
      '--candidate',
      spec,
      '--report-dir',
      dir,
    ]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(
      /--image otelcol is invalid, expected a version the Go module proxy serves .*\(actual: '0\.99\.0'\)/,
    );
    expect(run.stderr).not.toMatch(/booting/);
    expect(readdirSync(dir)).toEqual(['candidate.yaml']); // no run folder: nothing ran
  });

  it('a candidate that loses data fails on loss at its first trial, naming what it lost (exit 4)', async () => {
    const { run, folder, r } = await gate('stacks/gates/planted-loss.yaml', [
      '--trials-per-boot',
      '8',
      '--rate',
      '600',
      '--duration',
      '10s',
      '--warmup',
      '5s',
    ]);
    expect(run.code, run.stderr).toBe(4);
    // Paired (two phase 1 specs): the first pair ran both arms at once; the gate stops at the first pair
    // whose candidate loses what no baseline lost.
    expect(r.plan.options.design).toBe('paired');
    expect(r.trials.map((t) => [t.pair, t.arm])).toEqual([
      [1, 'baseline'],
      [1, 'candidate'],
    ]);
    const [baseline, candidate] = r.trials;
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      expect(baseline!.loss[signal], signal).toMatchObject({ expected: PER_SIGNAL, lost: 0, status: 'pass' });
    }
    expect(candidate!.loss.traces).toMatchObject({ expected: PER_SIGNAL, lost: DROPPED, status: 'fail' });
    expect(candidate!.loss.logs).toMatchObject({ expected: PER_SIGNAL, lost: DROPPED, status: 'fail' });
    expect(candidate!.loss.metrics).toMatchObject({ lost: 0 });
    expect(candidate!.loss.logs!.examples.slice(0, 2)).toEqual(['log record seq 100', 'log record seq 200']);
    expect(r.verdict.status).toBe('loss');
    expect(r.verdict.exitCode).toBe(4);
    expect(r.verdict.reasons[0]).toMatch(
      new RegExp(
        `^the candidate lost ${DROPPED} of ${PER_SIGNAL} traces items in trial 2 where no baseline trial lost any \\(e\\.g\\. trace [0-9a-f]{32}`,
      ),
    );
    // Both trials measured their costs: each component's CPU per 1k items and peak memory.
    for (const t of r.trials) {
      expect(Object.keys(t.metrics).sort(), t.arm).toEqual(
        expect.arrayContaining(['otelcol CPU-s per 1k items', 'otelcol peak RSS', 'traces canary p99']),
      );
      expect(t.metrics['otelcol CPU-s per 1k items']).toBeGreaterThan(0);
    }
    expect(run.stdout.split('\n')[0]).toBe(r.headline);
    expect(r.headline).toMatch(/^FAIL \(loss\): planted-loss\.yaml vs seed\.yaml, 1\+1 trials at 600 items\/s/);
    for (const file of ['summary.md', 'trials.json', 'junit.xml', 'benchmark.json', 'report.html'])
      expect(existsSync(join(folder, file)), file).toBe(true);
    const junit = readFileSync(join(folder, 'junit.xml'), 'utf8');
    expect(junit).toMatch(
      /<testcase name="candidate loses no traces" classname="otel-harness.gate.loss"[^>]*>\s*<failure/,
    );
    // Every trial's stack is gone (the gate stopped before their eighth round).
    for (const t of r.trials) expect(await harnessLeftovers(t.stackRunId)).toEqual(NOTHING_LEFT);
  });
});
