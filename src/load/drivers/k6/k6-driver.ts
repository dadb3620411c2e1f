import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { ExitCode, HarnessError } from '../../../harness-error.js';

import type { Ledger, Signal } from '../../ledger.js';
import type { LiveCounters } from '../../live-counters.js';
import type { SchedulerReport } from '../../open-model-scheduler.js';
import { K6_EXIT, k6Reports, parseK6Point, parseK6Summary, type K6Summary } from './k6-results.js';

export interface K6Outcome {
  exitCode: number;
  summary: K6Summary | undefined;
  /** Last lines of k6's own output (for errors and the report). */
  outputTail: string[];
  reports: Map<Signal, SchedulerReport>;
  thresholdsFailed: boolean;
}

const TAIL = 40;

/** Runs `k6 inspect` on a scenario: a syntax or option error becomes exit 2 with k6's own message. */
export async function inspectScenario(k6: string, script: string, env: Record<string, string>): Promise<void> {
  const { code, output } = await runK6(k6, ['inspect', script], env);
  if (code !== 0) {
    throw new HarnessError(`k6 cannot load scenario ${script}`, {
      code: 'K6_SCENARIO_INVALID',
      exitCode: ExitCode.usage,
      details: output.slice(-TAIL).join('\n'),
    });
  }
}

function runK6(k6: string, args: string[], env: Record<string, string>): Promise<{ code: number; output: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(k6, args, {
      env: { ...process.env, ...env, K6_NO_USAGE_REPORT: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const collect = (c: Buffer) =>
      output.push(
        ...c
          .toString()
          .split('\n')
          .filter((l) => l.trim() !== ''),
      );
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/**
 * The k6 driver: runs a scenario as a subprocess with `--out json`, follows its per-batch ledger points
 * into the ledger while it runs (live progress), stops it with SIGINT on abort (k6 still writes its
 * summary), and reads the summary. k6's dropped iterations are generator saturation: recorded as
 * dropped items without ids (those iterations never took a sequence number).
 */
export async function driveK6(
  input: {
    k6: string;
    script: string;
    env: Record<string, string>;
    ledgerFile: string;
    summaryFile: string;
    itemsPerIteration: Partial<Record<Signal, number>>;
    signals: readonly Signal[];
    /** Called with k6's pid once it runs (the resource sampler counts it as the generator). */
    onStart?: (pid: number) => void;
  },
  ledger: Ledger,
  live: LiveCounters,
  abort: AbortSignal,
): Promise<K6Outcome> {
  const start = Date.now();
  const child = spawn(
    input.k6,
    ['run', '--quiet', '--no-usage-report', '--out', `json=${input.ledgerFile}`, input.script],
    {
      env: { ...process.env, ...input.env, K6_NO_USAGE_REPORT: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  if (child.pid !== undefined) input.onStart?.(child.pid);
  const tail: string[] = [];
  const collect = (c: Buffer) => {
    for (const line of c.toString().split('\n')) {
      if (line.trim() === '') continue;
      tail.push(line);
      if (tail.length > TAIL) tail.shift();
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const onAbort = () => child.kill('SIGINT');
  abort.addEventListener('abort', onAbort, { once: true });

  // Follow the JSON output as k6 writes it.
  let offset = 0;
  let pending = '';
  let lastAtMs = 0;
  const follow = async () => {
    if (!existsSync(input.ledgerFile)) return;
    const handle = await open(input.ledgerFile, 'r');
    try {
      for (;;) {
        const buf = Buffer.alloc(1 << 20);
        const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        pending += buf.subarray(0, bytesRead).toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          const point = parseK6Point(line, start);
          if (point === undefined) continue;
          ledger.record(point.signal, point.entry);
          live.add(point.signal, point.entry.outcome, point.items);
          lastAtMs = Math.max(lastAtMs, point.entry.atMs);
        }
      }
    } finally {
      await handle.close();
    }
  };
  let following = Promise.resolve();
  const timer = setInterval(() => {
    following = following.then(follow).catch(() => undefined);
  }, 1_000);

  const exitCode = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  clearInterval(timer);
  abort.removeEventListener('abort', onAbort);
  await following;
  await follow();

  let summary: K6Summary | undefined;
  if (existsSync(input.summaryFile)) {
    try {
      summary = parseK6Summary(readFileSync(input.summaryFile, 'utf8'));
    } catch {
      summary = undefined;
    }
  }
  const interrupted = abort.aborted || exitCode === K6_EXIT.externalAbort;
  if (exitCode !== 0 && exitCode !== K6_EXIT.thresholdsFailed && !interrupted) {
    throw new HarnessError(`k6 failed (exit code ${exitCode})`, {
      code: 'K6_FAILED',
      exitCode: ExitCode.internal,
      hint: "the lines below are the end of k6's output",
      details: tail.join('\n'),
    });
  }
  // Iterations k6 dropped never started: no sequence number, counted as dropped at the generator.
  for (const signal of input.signals) {
    const dropped =
      summary?.droppedByScenario[signal] ?? (input.signals.length === 1 ? (summary?.droppedIterations ?? 0) : 0);
    if (dropped === 0) continue;
    const items = dropped * (input.itemsPerIteration[signal] ?? 0);
    ledger.recordUnnumbered(signal, 'dropped', items / ledger.itemsPer(signal));
    live.add(signal, 'dropped', items);
  }
  const reports = k6Reports(ledger, input.signals, lastAtMs, interrupted);
  return { exitCode, summary, outputTail: tail, reports, thresholdsFailed: exitCode === K6_EXIT.thresholdsFailed };
}
