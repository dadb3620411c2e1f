import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../src/paths.js';
import type { SoakResult } from '../../../src/report/result.js';
import { scratchDir } from '../../support/scratch.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the otel-harness CLI as a user would, with `env` added to the environment; optionally sends
 * `signal` once stderr matches `when`.
 */
export function runCli(
  args: string[],
  interrupt?: { when: RegExp; signal: NodeJS.Signals },
  env: NodeJS.ProcessEnv = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(packageRoot(), 'bin', 'otel-harness.js'), ...args], {
      env: { ...process.env, TESTCONTAINERS_RYUK_DISABLED: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (interrupt !== undefined && !sent && interrupt.when.test(stderr)) {
        sent = true;
        child.kill(interrupt.signal);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface ReportedRun extends CliRun {
  /** The run's report directory (a fresh temporary one). */
  dir: string;
  /** Its result.json (throws if the run wrote none). */
  result: () => SoakResult;
}

/** Runs `otel-harness <args> --report-dir <fresh dir>`; the result is read from that directory. */
export async function runReported(
  args: string[],
  interrupt?: { when: RegExp; signal: NodeJS.Signals },
  env: NodeJS.ProcessEnv = {},
): Promise<ReportedRun> {
  const dir = tempReportDir();
  const run = await runCli([...args, '--report-dir', dir], interrupt, env);
  return { ...run, dir, result: () => readResult(dir) };
}

/** A fresh report directory, removed when the test that made it passes. */
export function tempReportDir(): string {
  return scratchDir('otel-harness-e2e-');
}

/** The result.json of the single run written under `reportDir`. */
export function readResult(reportDir: string): SoakResult {
  const runs = readdirSync(reportDir);
  if (runs.length !== 1) throw new Error(`expected one run in ${reportDir}, found ${runs.join(', ')}`);
  return JSON.parse(readFileSync(join(reportDir, runs[0]!, 'result.json'), 'utf8')) as SoakResult;
}

export function seqs(ranges: { first: number; count: number }[]): number[] {
  return ranges.flatMap((r) => Array.from({ length: r.count }, (_, i) => r.first + i));
}
