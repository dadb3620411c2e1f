import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/parse-args.js';
import { HarnessError } from '../../src/harness-error.js';
import { trialStartError, type GateResult, type GateTrial } from '../../src/gate/gate.js';
import { trialMetrics } from '../../src/gate/gate-metrics.js';
import { judgeTrials, matchesPattern, outrightLoss } from '../../src/gate/gate-verdict.js';
import { benchmarkJson, gateJunit, renderGateSummary, renderGateTable } from '../../src/gate/gate-report.js';
import { compareMetrics } from '../../src/gate/gate-stats.js';
import { emptyStep } from '../../src/step/step-types.js';

const exitOf = (args: string[]) => {
  try {
    parseArgs(args, {});
    return 0;
  } catch (err) {
    return err instanceof HarnessError ? err.exitCode : -1;
  }
};

describe('gate', () => {
  it('parses both specs before anything is built; bad input is exit 2', () => {
    const c = parseArgs(
      [
        'gate',
        '--baseline',
        'stacks/gates/seed.yaml',
        '--candidate',
        'stacks/gates/otelcol-0.155.0.yaml',
        '--rate',
        '900',
        '--duration',
        '30s',
      ],
      {},
    );
    expect(c.name).toBe('gate');
    if (c.name !== 'gate') return;
    // Two phase 1 specs run side by side: paired by default, 10 pairs.
    expect(c.plan.options).toMatchObject({
      trials: 10,
      auto: false,
      warmupMs: 10_000,
      tolerance: 0.05,
      detect: 0.1,
      design: 'paired',
      trialsPerBoot: 1,
    });
    expect(c.plan.options.designWhy).toMatch(/^both specs run side by side/);
    expect(c.plan.candidate.choice.images).toEqual({ otelcol: '0.155.0' });
    expect(c.plan.baseline.topology.name).toBe('phase1');
    const base = ['gate', '--baseline', 'stacks/gates/seed.yaml', '--candidate', 'stacks/gates/seed.yaml'];
    expect(exitOf(['gate', '--candidate', 'stacks/gates/seed.yaml'])).toBe(2);
    expect(exitOf([...base, '--trials', '3'])).toBe(2);
    // Paired, 4 pairs cannot reach p < 0.05 (1/16); unpaired 4 + 4 can (1/70).
    expect(exitOf([...base, '--trials', '4'])).toBe(2);
    const four = parseArgs([...base, '--trials', '4', '--design', 'unpaired'], {});
    expect(four.name === 'gate' && four.plan.options).toMatchObject({ trials: 4, design: 'unpaired' });
    const auto = parseArgs([...base, '--trials', 'auto'], {});
    expect(auto.name === 'gate' && auto.plan.options).toMatchObject({ trials: 5, auto: true, design: 'paired' });
    expect(exitOf([...base, '--design', 'sideways'])).toBe(2);
    expect(exitOf([...base, '--trials-per-boot', '0'])).toBe(2);
    expect(exitOf([...base, '--trials', 'auto', '--max-trials', '3'])).toBe(2);
    expect(exitOf([...base, '--detect', '4%'])).toBe(2);
    expect(exitOf([...base, '--warmup', '2m'])).toBe(2);
    expect(exitOf([...base, '--chaos', 'kill:otelcol@10s'])).toBe(2);
    expect(exitOf(['gate', '--baseline', 'stacks/gates/seed.yaml', '--candidate', 'no-such-spec.yaml'])).toBe(2);
    expect(c.plan.knee).toBeUndefined();
    // --at-knee-fraction: the knee is searched first (to 10 %); never together with --rate.
    const k = parseArgs([...base, '--at-knee-fraction', '50%'], {});
    expect(k.name === 'gate' && k.plan.options.atKneeFraction).toBe(0.5);
    expect(k.name === 'gate' && k.plan.knee?.precision).toBe(0.1);
    expect(exitOf([...base, '--at-knee-fraction', '0.5', '--rate', '900'])).toBe(2);
    expect(exitOf([...base, '--at-knee-fraction', '1.5'])).toBe(2);
    expect(exitOf([...base, '--at-knee-fraction', '0'])).toBe(2);
  });

  it('CPU-seconds per 1k items and peak memory after the warm-up, p99 per signal', () => {
    const step = emptyStep();
    step.load.elapsedMs = 30_000;
    step.load.signals = {
      traces: { counts: { acknowledged: 30_000, refused: 0, failed: 0 } },
    } as unknown as typeof step.load.signals;
    step.resources = {
      containers: {},
      host: { cores: 2, cpuMeanPct: 50, cpuMaxPct: 60, samples: 3 },
      generator: { cpuMeanPct: 10, cpuMaxPct: 12, cpuSeconds: 3, memoryMaxMiB: 90, processes: ['node'], cores: 1 },
      timeline: [
        { tMs: 2_000, hostCpuPct: 90, generatorCpuPct: 10, components: { otelcol: [200, 900] } }, // warm-up: left out
        { tMs: 12_000, hostCpuPct: 50, generatorCpuPct: 10, components: { otelcol: [40, 100] } },
        { tMs: 20_000, hostCpuPct: 50, generatorCpuPct: 10, components: { otelcol: [60, 120] } },
        { tMs: 40_000, hostCpuPct: 5, generatorCpuPct: 1, components: { otelcol: [1, 130] } }, // drain: left out
      ],
    };
    step.latency = {
      traces: {
        backend: 'jaeger',
        sent: 3,
        acknowledged: 3,
        found: 3,
        timedOut: 0,
        latencyMs: { count: 3, min: 1, p50: 2, p90: 3, p99: 4200, p999: 5, max: 5, mean: 3 },
      },
    };
    const { metrics, notes } = trialMetrics(step, 10_000, 30_000);
    // 50 % of a core at 1,000 items/s → 0.5 CPU-s per 1,000 items.
    expect(metrics['otelcol CPU-s per 1k items']).toBeCloseTo(0.5, 9);
    expect(metrics['otelcol peak RSS']).toBe(120);
    expect(metrics['traces canary p99']).toBe(4200);
    expect(notes).toEqual([
      'otelcol: CPU from 2 sampled readings (no cumulative CPU counter across the load)',
      'otelcol: memory is the working set (page cache included): the engine gave no RSS',
    ]);

    // With the container's cumulative counter, CPU is the exact time between the first reading after the
    // warm-up and the last within the load: 4.8 CPU-s in 8 s = 0.6 of a core at 1,000 items/s.
    const timeline = step.resources.timeline;
    timeline[1]!.counters = { otelcol: { cpuSeconds: 100, atMs: 12_100, rssMiB: 70 } };
    timeline[2]!.counters = { otelcol: { cpuSeconds: 104.8, atMs: 20_100, rssMiB: 80 } };
    timeline[3]!.counters = { otelcol: { cpuSeconds: 200, atMs: 40_100, rssMiB: 90 } }; // after the load: left out
    const counted = trialMetrics(step, 10_000, 30_000);
    expect(counted.metrics['otelcol CPU-s per 1k items']).toBeCloseTo(0.6, 9);
    expect(counted.metrics['otelcol peak RSS']).toBe(80);
    expect(counted.notes).toEqual([]);

    // A counter that went back (the container restarted) is not a CPU time: the samples are used, and said.
    timeline[2]!.counters = { otelcol: { cpuSeconds: 3, atMs: 20_100, rssMiB: 80 } };
    const restarted = trialMetrics(step, 10_000, 30_000);
    expect(restarted.metrics['otelcol CPU-s per 1k items']).toBeCloseTo(0.5, 9);
    expect(restarted.notes).toHaveLength(1);
  });

  const trial = (n: number, arm: 'baseline' | 'candidate', lost: number, cpu: number): GateTrial => ({
    n,
    arm,
    runId: `oh-20261203-000000-00000000000000${String(n).padStart(2, '0')}`,
    elapsedMs: 60_000,
    loss: {
      traces: {
        expected: 1000,
        lost,
        status: lost > 0 ? 'fail' : 'pass',
        examples: lost > 0 ? ['trace 0a…01 span 3'] : [],
      },
    },
    refused: 0,
    metrics: { 'otelcol CPU-s per 1k items': cpu },
    notes: [],
    stack: {
      topology: 'phase1',
      title: 'Phase 1',
      images: {},
      versions: {},
      configHashes: {},
      manifestHash: undefined,
      bootSeconds: 20,
    },
  });

  /** A finished gate of costly-filter.yaml vs seed.yaml over these trials, not yet judged. */
  const gateResult = (trials: GateTrial[], gateOn: string[] = ['*']): GateResult => ({
    schemaVersion: 2,
    tool: { name: 'otel-harness', version: '0.1.0' },
    command: 'gate',
    runId: 'oh-20261203-000000-aaaaaaaaaaaaaaaa',
    partial: false,
    startedAt: '2026-12-03T12:00:00.000Z',
    endedAt: '2026-12-03T12:20:00.000Z',
    plan: {
      baseline: { spec: 'stacks/gates/seed.yaml', topology: 'phase1', title: 'Phase 1' },
      candidate: { spec: 'stacks/gates/costly-filter.yaml', topology: 'phase1', title: 'Phase 1' },
      rateRps: 900,
      durationMs: 30_000,
      signals: 'traces,metrics,logs',
      options: {
        trials: 5,
        auto: false,
        maxTrials: 10,
        warmupMs: 10_000,
        tolerance: 0.05,
        detect: 0.1,
        alpha: 0.05,
        atKneeFraction: undefined,
        gateOn,
      },
      looks: [{ trialsPerArm: 5, alpha: 0.05, confidence: 0.95 }],
    },
    headline: '',
    trials,
    metrics: [],
    comparison: [],
    verdict: { status: 'error', exitCode: 1, reasons: [] },
  });

  it('loss in the candidate where the baseline had none fails outright, naming the items', () => {
    expect(outrightLoss([trial(1, 'baseline', 0, 1), trial(2, 'candidate', 0, 1)])).toBeUndefined();
    expect(outrightLoss([trial(1, 'baseline', 0, 1), trial(2, 'candidate', 10, 1)])).toBe(
      'the candidate lost 10 of 1000 traces items in trial 2 where no baseline trial lost any (e.g. trace 0a…01 span 3)',
    );
    // The baseline loses too: not an outright candidate failure (the verdict says the load is too high).
    expect(outrightLoss([trial(1, 'baseline', 5, 1), trial(2, 'candidate', 10, 1)])).toBeUndefined();
  });

  it('renders the table, summary, junit.xml and github-action-benchmark JSON', () => {
    const trials = [0.41, 0.4, 0.42, 0.39, 0.4].flatMap((cpu, i) => [
      trial(2 * i + 1, 'baseline', 0, cpu),
      trial(2 * i + 2, 'candidate', 0, cpu * 1.3),
    ]);
    const metrics = [{ name: 'otelcol CPU-s per 1k items', unit: 'CPU-s', better: 'smaller' as const }];
    const comparison = compareMetrics(
      metrics,
      [trials.filter((t) => t.arm === 'baseline').map((t) => t.metrics['otelcol CPU-s per 1k items']!)],
      [trials.filter((t) => t.arm === 'candidate').map((t) => t.metrics['otelcol CPU-s per 1k items']!)],
    );
    const result: GateResult = {
      ...gateResult(trials),
      headline:
        'REGRESSION: costly-filter.yaml vs seed.yaml, 5+5 trials at 900 items/s — otelcol CPU-s per 1k items +30.0 %',
      trials,
      metrics,
      comparison,
      verdict: { status: 'regression', exitCode: 3, reasons: [`otelcol CPU-s per 1k items: ${comparison[0]!.why}`] },
    };
    expect(comparison[0]).toMatchObject({ verdict: 'regression' });
    expect(comparison[0]!.p).toBeCloseTo(1 / 252, 12);
    const table = renderGateTable(result);
    expect(table.split('\n')[0]).toBe(result.headline);
    expect(table).toMatch(
      /otelcol CPU-s per 1k items \(CPU-s\)\s+0\.4000 ± 3 %\s+0\.5200 ± 3 %\s+\+30\.0 % \[\+2\d\.\d %, \+3\d\.\d %\]\s+p=0\.004\s+n=5\+5\s+regression/,
    );
    const md = renderGateSummary(result);
    expect(md).toContain(
      '| 2 | candidate | - | 1 | oh-20261203-000000-0000000000000002 | traces 0 / 1000 | 0 | 1.0 |  |',
    );
    expect(md).toContain('- design: unpaired — one trial at a time, arms interleaved (A B, B A, …)');
    const xml = gateJunit(result);
    expect(xml).toContain('tests="2" failures="1" errors="0"');
    expect(xml).toContain('<testcase name="candidate loses no traces" classname="otel-harness.gate.loss"');
    const bench = benchmarkJson(result);
    expect(bench).toHaveLength(1);
    expect(bench[0]).toMatchObject({
      name: 'costly-filter @ 900/s traces,metrics,logs: otelcol CPU-s per 1k items',
      unit: 'CPU-s',
      value: 0.52,
    });
    expect(bench[0]!.range).toMatch(/^± \d\.\d%$/);
    expect(bench[0]!.extra).toContain('change +30.0 %; p 0.004; n 5+5; regression');
  });

  it('a stack that did not start twice stops the gate with exit 5, keeping what the engine said', () => {
    const cause = new HarnessError('jaeger not ready after 60 s', {
      code: 'NOT_READY',
      exitCode: 5,
      details: 'last log lines',
    });
    const e = trialStartError('candidate 3', cause);
    expect(e.exitCode).toBe(5);
    expect(e.message).toBe("gate: the candidate 3 trial's stack did not start twice: jaeger not ready after 60 s");
    expect(e.details).toBe('last log lines');
    // A plain failure (the engine's own error) is exit 5 too, not 1.
    expect(trialStartError('baseline 1', new Error('socket hang up')).exitCode).toBe(5);
  });

  it('--gate-on: only matching metrics decide; the others are reported, and a pattern matching nothing says so', () => {
    expect(matchesPattern('otelcol CPU-s per 1k items', 'otelcol *')).toBe(true);
    expect(matchesPattern('traces canary p99', '* canary p99')).toBe(true);
    expect(matchesPattern('jaeger peak RSS', 'otelcol *')).toBe(false);
    expect(matchesPattern('otelcol (x) peak RSS', 'OTELCOL (x)*')).toBe(true); // regex characters are literal
    const withMetrics = (n: number, arm: 'baseline' | 'candidate', m: Record<string, number>): GateTrial => ({
      ...trial(n, arm, 0, 0),
      metrics: m,
    });
    // otelcol is steady; jaeger's memory doubles in the candidate.
    const trials = [0, 1, 2, 3, 4].flatMap((i) => [
      withMetrics(2 * i + 1, 'baseline', { 'otelcol CPU-s per 1k items': 0.4 + i * 0.001, 'jaeger peak RSS': 100 + i }),
      withMetrics(2 * i + 2, 'candidate', {
        'otelcol CPU-s per 1k items': 0.4 + i * 0.001,
        'jaeger peak RSS': 200 + i,
      }),
    ]);
    const result = (gateOn: string[]) => gateResult(trials, gateOn);
    const all = result(['*']);
    judgeTrials(all);
    expect(all.verdict.status).toBe('regression');
    expect(all.headline).toMatch(/^REGRESSION: .* jaeger peak RSS \+98\.0 %$/);

    const collectorOnly = result(['otelcol *']);
    judgeTrials(collectorOnly);
    expect(collectorOnly.verdict.status).toBe('pass');
    const jaeger = collectorOnly.comparison.find((c) => c.name === 'jaeger peak RSS')!;
    expect(jaeger).toMatchObject({ verdict: 'regression', gated: false });
    expect(renderGateTable(collectorOnly)).toMatch(/jaeger peak RSS .* regression \(not gated\)/);
    expect(gateJunit(collectorOnly)).not.toContain('<failure');

    const typo = result(['otelcol *', 'tempo *']);
    judgeTrials(typo);
    expect(typo.verdict).toMatchObject({ status: 'inconclusive', exitCode: 6 });
    expect(typo.verdict.reasons[0]).toMatch(/^--gate-on 'tempo \*' matched no metric measured/);
  });
});
