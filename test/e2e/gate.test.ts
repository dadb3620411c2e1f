import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { phase1Definition } from '../../src/stack/phase1/definition.js';
import { tempReportDir } from './support/cli.js';
import { gate } from './support/gate.js';
import { harnessLeftovers, NOTHING_LEFT } from './support/leftovers.js';

describe('gate on Phase 1: what the machine measures', () => {
  // Paired (the default for two phase 1 specs): each pair runs both arms' stacks at the same moment, each
  // at 2,400 items/s, the first 5 s of each load left out of the costs. Measured here (BENCHMARKS.md), the
  // collector's CPU per item varies 10–12 % from trial to trial in each arm and its pair-to-pair ratio
  // about 10 % over 20 s windows (with 15 s windows it reached 28 % in one CI run: the A/A gate keeps 25 s loads). The A/A gate runs 7 pairs: with four gated metrics Holm tests the first at 0.05 / 4, which
  // the signed-rank test's smallest p reaches from 7 pairs (1/128; 1/64 with 6 would not), so its "no
  // regression" is a finding: a 30 % regression would be seen with power near 1 at that noise, and its
  // interval runs from the 3rd smallest to the 3rd largest of 28 Walsh averages. The regression gate (6
  // pairs, one gated metric: every pair worse is p = 1/64) looks at a change of about +140 %.
  const LOAD = ['--rate', '2400', '--warmup', '5s'];

  it('an A/A gate (the seed spec twice) passes: nothing lost, no gated metric worse (exit 0)', async () => {
    const { run, folder, r } = await gate('stacks/gates/seed.yaml', [
      '--trials',
      '7',
      ...LOAD,
      '--duration',
      '25s',
      '--gate-on',
      'otelcol CPU-s*,* canary p99',
      '--tolerance',
      '10%',
      '--detect',
      '30%',
    ]);
    expect(run.code, `${r.headline}\n${run.stdout}`).toBe(0);
    expect(r.verdict.status).toBe('pass');
    // Paired: seven pairs, both arms of each at the same moment, each trial a fresh stack; every item found.
    expect(r.plan.options).toMatchObject({ design: 'paired', trialsPerBoot: 1 });
    expect(r.trials.map((t) => `${t.pair} ${t.arm}`)).toEqual(
      [1, 2, 3, 4, 5, 6, 7].flatMap((p) => [`${p} baseline`, `${p} candidate`]),
    );
    expect(new Set(r.trials.map((t) => t.stackRunId)).size).toBe(14);
    for (const t of r.trials)
      for (const signal of ['traces', 'metrics', 'logs'] as const)
        expect(t.loss[signal], `trial ${t.n} ${signal}`).toMatchObject({ expected: 20_000, lost: 0 });
    // Gated: the collector's CPU per item and each signal's canary p99; the rest reported only.
    const gated = r.comparison.filter((c) => c.gated !== false).map((c) => c.name);
    expect(gated).toEqual(['logs canary p99', 'metrics canary p99', 'otelcol CPU-s per 1k items', 'traces canary p99']);
    for (const c of r.comparison.filter((x) => x.gated !== false)) {
      expect(c.verdict, `${c.name}: ${c.why}`).toBe('pass');
      expect(c.changeHigh!, c.name).toBeLessThan(0.3);
    }
    // The pass is a finding, not the only outcome 7 pairs allow: a 30 % regression of the collector's CPU per
    // item would have been seen (power at the pair-to-pair noise measured; 0 with 6 pairs and four metrics).
    const cpu = r.comparison.find((c) => c.name === 'otelcol CPU-s per 1k items')!;
    expect(cpu.power, cpu.why).toBeGreaterThan(0.5);
    expect(cpu.pairNoise, cpu.why).toBeGreaterThan(0);
    expect(r.comparison.filter((c) => c.gated === false).map((c) => c.name)).toEqual(
      expect.arrayContaining(['jaeger CPU-s per 1k items', 'otelcol peak RSS', 'loki peak RSS']),
    );
    expect(r.headline).toMatch(/^PASS: seed\.yaml vs seed\.yaml, 7\+7 trials at 2400 items\/s/);
    const summary = readFileSync(join(folder, 'summary.md'), 'utf8');
    expect(summary).toContain('Holm across the 4 gated metrics');
    expect(summary).toContain('- design: paired — both specs run side by side');
    expect(summary).toContain("one-sided Wilcoxon signed-rank (exact) on the pairs' log ratios");
    for (const t of r.trials) expect(await harnessLeftovers(t.stackRunId)).toEqual(NOTHING_LEFT);
  });

  it('a candidate costing more CPU per item (a filter hashing every item 16 times) is a CPU regression (exit 3); its log canaries, never delivered, never pass', async () => {
    const { run, folder, r } = await gate(costlyAndCanaryBlind(), [
      '--trials',
      '6',
      // A change this large needs neither fresh stacks nor long loads: each arm's stack serves all six
      // rounds, each load 12 s (7 s measured after the warm-up).
      '--trials-per-boot',
      '6',
      ...LOAD,
      '--duration',
      '12s',
      // The candidate's log canaries never arrive: a shorter wait for each keeps its trials short.
      '--canary-timeout',
      '8s',
      '--gate-on',
      'otelcol CPU-s*',
    ]);
    expect(run.code, `${r.headline}\n${run.stdout}`).toBe(3);
    expect(r.verdict.status).toBe('regression');
    expect(r.trials).toHaveLength(12);
    // One stack per arm, kept for the six rounds.
    expect(r.plan.options).toMatchObject({ design: 'paired', trialsPerBoot: 6 });
    expect(new Set(r.trials.map((t) => t.stackRunId)).size).toBe(2);
    // The filter drops nothing: every trial of both arms lost nothing.
    for (const t of r.trials)
      expect(
        Object.values(t.loss).map((l) => l.lost),
        `trial ${t.n}`,
      ).toEqual([0, 0, 0]);
    const cpu = r.comparison.find((c) => c.name === 'otelcol CPU-s per 1k items')!;
    expect(cpu).toMatchObject({ verdict: 'regression' });
    expect(cpu.gated).not.toBe(false);
    // Every pair's candidate above its baseline: the signed-rank test's exact one-sided p with 6 pairs, 1 / 2^6
    // (6, not 5: the fewest pairs with a 95 % interval of the change).
    expect(cpu.p).toBeCloseTo(1 / 64, 12);
    expect(cpu.change!).toBeGreaterThan(0.5);
    expect(cpu.changeLow!).toBeGreaterThan(0.1);
    expect(r.headline).toMatch(
      /^REGRESSION: costly-filter\.yaml vs seed\.yaml, 6\+6 trials at 2400 items\/s — otelcol CPU-s per 1k items \+\d+\.\d %$/,
    );
    expect(run.stdout).toMatch(/otelcol CPU-s per 1k items \(CPU-s\)\s+\S+ ± \d+ %\s+\S+ ± \d+ %\s+\+\d+\.\d % \[/);
    // Only the gated metric can fail the build; the others are reported.
    const junit = readFileSync(join(folder, 'junit.xml'), 'utf8');
    expect(junit.match(/<failure/g)).toHaveLength(1);
    expect(junit).toMatch(/<testcase name="otelcol CPU-s per 1k items not worse than 5 %"[^>]*>\s*<failure/);
    const bench = JSON.parse(readFileSync(join(folder, 'benchmark.json'), 'utf8')) as { name: string }[];
    expect(bench.map((b) => b.name)).toContain(
      'costly-filter @ 2400/s traces,metrics,logs: otelcol CPU-s per 1k items',
    );
    // The candidate drops its log canaries: every one times out, so its p99 is censored at the canary
    // timeout in every trial — reported, never a pass.
    const logCanaries = r.comparison.find((c) => c.name === 'logs canary p99')!;
    expect(logCanaries.verdict).not.toBe('pass');
    expect(logCanaries.censored).toMatchObject({ candidate: 6 });
    for (const t of r.trials) expect(await harnessLeftovers(t.stackRunId)).toEqual(NOTHING_LEFT);
  });
});

/**
 * The costly-filter variant's collector configuration plus a filter dropping the log canaries (service.name
 * otel-harness-canary), as a stack spec named costly-filter.yaml.
 */
function costlyAndCanaryBlind(): string {
  const dir = tempReportDir();
  const definition = phase1Definition({ traces: 'jaeger', variant: 'costly-filter' });
  const config = parse(definition.services.find((s) => s.name === 'otelcol')!.files[0]!.content) as {
    processors: Record<string, unknown>;
    service: { pipelines: { logs: { processors: string[] } } };
  };
  config.processors['filter/no-log-canaries'] = {
    error_mode: 'propagate',
    logs: { log_record: ['resource.attributes["service.name"] == "otel-harness-canary"'] },
  };
  config.service.pipelines.logs.processors.splice(1, 0, 'filter/no-log-canaries');
  writeFileSync(join(dir, 'collector.yaml'), stringify(config));
  const spec = join(dir, 'costly-filter.yaml');
  writeFileSync(
    spec,
    `apiVersion: otel-harness/v1\ntopology: phase1\nsource: local\noptions:\n  traces: jaeger\n  variant: seed\ncollectorConfigs:\n  collector: ${join(dir, 'collector.yaml')}\n`,
  );
  return spec;
}
