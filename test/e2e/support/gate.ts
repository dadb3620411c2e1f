import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GateResult } from '../../../src/gate/gate.js';
import { runCli, tempReportDir } from './cli.js';

/** Runs a gate of `candidate` against the seed spec into a fresh report folder; its result.json read back. */
export async function gate(candidate: string, flags: string[]) {
  const dir = tempReportDir();
  const run = await runCli([
    'gate',
    '--baseline',
    'stacks/gates/seed.yaml',
    '--candidate',
    candidate,
    ...flags,
    '--report-dir',
    dir,
  ]);
  const [runId] = readdirSync(dir);
  const folder = join(dir, runId ?? '(no run folder)');
  const r = JSON.parse(readFileSync(join(folder, 'result.json'), 'utf8')) as GateResult;
  return { run, folder, r };
}
