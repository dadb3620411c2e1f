/**
 * Benchmark: how long exact verification takes, and how much memory the verifier holds, per million
 * acknowledged items, per backend — measured after the drain, on real backends of the Phase 1 stack.
 *
 *   npm run bench:verify -- [jaeger-spans=1000000] [tempo-spans=300000] [logs-and-metrics=200000]
 *
 * For each trace backend a Phase 1 stack is booted, a traces-only load step offers the spans (5,000/s with
 * Jaeger, 2,500/s with Tempo), then the run is verified again from its ledger while the process's memory is
 * sampled every 50 ms. On the Jaeger stack a second step offers log records and data points (1,500/s each)
 * for Loki and Prometheus. Prints a table and writes reports/bench/verify-cost-<date>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newRunId } from '../src/docker/labels.js';
import { Ledger, SIGNALS, type Signal } from '../src/load/ledger.js';
import { packageRoot } from '../src/paths.js';
import { runLoadStep } from '../src/step/load-step.js';
import { emptyStep, type StepPlan } from '../src/step/step-types.js';
import type { Replay } from '../src/step/replay.js';
import { resolveSoakOptions } from '../src/soak/soak-options.js';
import { planLoad } from '../src/soak/soak-plan.js';
import { verifyStep } from '../src/step/verify-step.js';
import { phase1 } from '../src/stack/phase1/index.js';
import type { StartedStack } from '../src/stack/stack.js';
import { backendOf } from '../src/verify/backends/registry.js';
import type { SignalBackend } from '../src/verify/backends/backend.js';

interface Measurement {
  backend: string;
  signal: Signal;
  items: number;
  seconds: number;
  secondsPerMillion: number;
  /** Largest heap + external memory above the baseline while verifying, MiB. */
  peakMiB: number;
  lost: number;
  outcome: string;
  /** Why, when not a pass. */
  reason: string | undefined;
  method: string;
}

// A figure of 0 skips that part (e.g. `-- 0 300000 0` measures Tempo alone).
const args = process.argv.slice(2).map(Number);
const figure = (i: number, fallback: number) => (args[i] === undefined || Number.isNaN(args[i]) ? fallback : args[i]);
const JAEGER_SPANS = figure(0, 1_000_000);
const TEMPO_SPANS = figure(1, 300_000);
const OTHER_ITEMS = figure(2, 200_000);

const io = {
  progress: (m: string) => process.stderr.write(`  ${m}\n`),
  images: { step: () => undefined, line: () => undefined },
};

function stepPlan(flags: Record<string, string>): StepPlan {
  const options = resolveSoakOptions(flags, {});
  return {
    load: planLoad(options),
    faults: [],
    drainTimeoutMs: 600_000,
    verifySample: undefined,
    canaryIntervalMs: 5_000,
    canaryTimeoutMs: 60_000,
    collectorLabel: 'seed',
  };
}

/** Re-verifies each signal of a finished step from its ledger, timing it and sampling memory. */
async function measure(stack: StartedStack, replay: Replay): Promise<Measurement[]> {
  const ledger = new Ledger(replay.itemsPerSeq);
  for (const s of SIGNALS) for (const e of replay.entries[s] ?? []) ledger.record(s, e);
  const out: Measurement[] = [];
  for (const signal of ledger.signals()) {
    const binding = stack.endpoints().backends[signal]!;
    const backends = new Map<Signal, SignalBackend>([[signal, backendOf(binding.backend, binding.endpoint)]]);
    global.gc?.();
    const base = process.memoryUsage();
    const baseline = base.heapUsed + base.external;
    let peak = 0;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peak = Math.max(peak, m.heapUsed + m.external - baseline);
    }, 50);
    const started = Date.now();
    const v = (
      await verifyStep({
        runId: replay.runId,
        ledger,
        signals: [signal],
        backends,
        plan: { ...stepPlan({}), load: replay.spec }, // verified as the step loaded it
        loadStartMs: replay.loadStartMs,
        drain: undefined,
        sentBy: () => undefined,
        receivedBy: () => undefined,
        progress: () => undefined,
      })
    )[signal]!;
    const seconds = (Date.now() - started) / 1000;
    clearInterval(sampler);
    out.push({
      backend: v.backend,
      signal,
      items: v.expected,
      seconds,
      secondsPerMillion: (seconds * 1e6) / Math.max(1, v.expected),
      peakMiB: Math.max(0, peak) / (1024 * 1024),
      lost: v.lost,
      outcome: v.outcome.status,
      reason: v.outcome.status === 'pass' ? undefined : v.outcome.reason,
      method: v.method,
    });
    process.stderr.write(
      `verified ${v.expected} ${signal} in ${v.backend} in ${seconds.toFixed(1)} s, peak ${(Math.max(0, peak) / 1048576).toFixed(1)} MiB (${v.outcome.status}${v.outcome.status === 'pass' ? '' : `: ${v.outcome.reason}`})\n`,
    );
  }
  return out;
}

async function onStack(traces: 'jaeger' | 'tempo', steps: Record<string, string>[]): Promise<Measurement[]> {
  process.stderr.write(`booting Phase 1 with ${traces}\n`);
  const stack = await phase1({ traces })
    .withProgress((m) => process.stderr.write(`  ${m}\n`))
    .start();
  const out: Measurement[] = [];
  // Interrupted: remove the stack before leaving (nothing of the benchmark stays running).
  const interrupted = () => void stack.stop().finally(() => process.exit(130));
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  try {
    for (const flags of steps) {
      const runId = newRunId();
      process.stderr.write(`load step ${JSON.stringify(flags)} (run ${runId})\n`);
      const step = await runLoadStep(stack, stepPlan(flags), runId, io, new AbortController().signal, emptyStep());
      if (step.replay === undefined) throw new Error('the step left no ledger');
      out.push(...(await measure(stack, step.replay)));
    }
  } finally {
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
    await stack.stop();
  }
  return out;
}

const jaegerSteps = [
  ...(JAEGER_SPANS > 0 ? [{ signals: 'traces', rate: '5000', duration: `${Math.round(JAEGER_SPANS / 5000)}s` }] : []),
  // 1,500/s each: above that the seed's 10,000-record log batches outgrow Loki's 4 MiB gRPC limit (a
  // Phase 1 limit of its own, see stacks/phase1/README.md), which is not what this measures.
  ...(OTHER_ITEMS > 0
    ? [{ signals: 'metrics,logs', rate: '3000', duration: `${Math.round(OTHER_ITEMS / 1500)}s` }]
    : []),
];
const measurements = [
  ...(jaegerSteps.length > 0 ? await onStack('jaeger', jaegerSteps) : []),
  ...(TEMPO_SPANS > 0
    ? await onStack('tempo', [{ signals: 'traces', rate: '2500', duration: `${Math.round(TEMPO_SPANS / 2500)}s` }])
    : []),
];

const rows = [
  ['backend', 'signal', 'items', 'verify s', 's per 1M', 'peak MiB', 'lost', 'outcome'],
  ...measurements.map((m) => [
    m.backend,
    m.signal,
    String(m.items),
    m.seconds.toFixed(1),
    m.secondsPerMillion.toFixed(1),
    m.peakMiB.toFixed(1),
    String(m.lost),
    m.outcome,
  ]),
];
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
process.stdout.write(rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n') + '\n');
const dir = join(packageRoot(), 'reports', 'bench');
mkdirSync(dir, { recursive: true });
const file = join(dir, `verify-cost-${new Date().toISOString().slice(0, 10)}.json`);
writeFileSync(file, JSON.stringify({ measurements }, null, 2) + '\n');
process.stderr.write(`written ${file}\n`);
process.exit(0);
