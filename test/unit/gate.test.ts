import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/parse-args.js';
import { HarnessError } from '../../src/harness-error.js';
import { outrightLoss, trialMetrics, type GateResult, type GateTrial } from '../../src/gate/gate.js';
import { benchmarkJson, gateJunit, renderGateSummary, renderGateTable } from '../../src/gate/gate-report.js';
import { compareMetrics } from '../../src/gate/gate-stats.js';
import { emptyStep } from '../../src/soak/load-step.js';

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
    expect(c.plan.options).toMatchObject({ trials: 5, auto: false, warmupMs: 10_000, tolerance: 0.05, detect: 0.1 });
    expect(c.plan.candidate.choice.images).toEqual({ otelcol: '0.155.0' });
    expect(c.plan.baseline.topology.name).toBe('phase1');
    const base = ['gate', '--baseline', 'stacks/gates/seed.yaml', '--candidate', 'stacks/gates/seed.yaml'];
    expect(exitOf(['gate', '--candidate', 'stacks/gates/seed.yaml'])).toBe(2);
    expect(exitOf([...base, '--trials', '3'])).toBe(2);
    expect(exitOf([...base, '--trials', 'auto', '--max-trials', '3'])).toBe(2);
    expect(exitOf([...base, '--detect', '4%'])).toBe(2);
    expect(exitOf([...base, '--warmup', '2m'])).toBe(2);
    expect(exitOf([...base, '--chaos', 'kill:otelcol@10s'])).toBe(2);
    expect(exitOf(['gate', '--baseline', 'stacks/gates/seed.yaml', '--candidate', 'no-such-spec.yaml'])).toBe(2);
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
    const { metrics, notes } = trialMetrics(step, 10_000);
    // 50 % of a core at 1,000 items/s → 0.5 CPU-s per 1,000 items.
    expect(metrics['otelcol CPU-s per 1k items']).toBeCloseTo(0.5, 9);
    expect(metrics['otelcol peak memory']).toBe(120);
    expect(metrics['traces canary p99']).toBe(4200);
    expect(notes).toEqual([]);
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
      schemaVersion: 1,
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
        options: { trials: 5, auto: false, maxTrials: 10, warmupMs: 10_000, tolerance: 0.05, detect: 0.1, alpha: 0.05 },
      },
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
    expect(md).toContain('| 2 | candidate | oh-20261203-000000-0000000000000002 | traces 0 / 1000 | 0 | 1.0 |  |');
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
});
