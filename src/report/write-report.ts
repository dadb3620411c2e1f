import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeReplay, type Replay } from '../step/replay.js';
import { junitOfRun } from './junit.js';
import { htmlOfRun, renderHtml } from './render-html.js';
import { renderSummary } from './render-summary.js';
import type { SoakResult } from './result.js';

/** Writes reports/<runId>/result.json, summary.md, junit.xml, report.html and the ledger (for `verify --run-id`); returns the directory. */
export function writeReport(result: SoakResult, reportDir: string, replay?: Replay): string {
  const dir = resolve(reportDir, result.runId);
  mkdirSync(dir, { recursive: true });
  if (replay !== undefined) writeReplay(dir, replay);
  writeFileSync(join(dir, 'result.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(dir, 'summary.md'), renderSummary(result));
  writeFileSync(join(dir, 'junit.xml'), junitOfRun(result));
  writeFileSync(join(dir, 'report.html'), renderHtml(htmlOfRun(result)));
  return dir;
}
