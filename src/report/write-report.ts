import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { renderSummary } from './render-summary.js';
import type { SoakResult } from './result.js';

/** Writes reports/<runId>/result.json and summary.md; returns the directory. */
export function writeReport(result: SoakResult, reportDir: string): string {
  const dir = resolve(reportDir, result.runId);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'result.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(dir, 'summary.md'), renderSummary(result));
  return dir;
}
