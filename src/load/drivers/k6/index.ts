import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

import type { DriveInput, DriveOutcome, LoadDriver } from '../driver.js';

import { driveK6 } from './k6-driver.js';
import { k6Env } from './k6-scenarios.js';
import { k6Input, prepareK6, type PreparedK6 } from './k6-prepare.js';

export { k6Input } from './k6-prepare.js';

/**
 * The k6 driver: k6 (built here with xk6 on first use) runs a scenario of scenarios/ as a subprocess; its
 * per-batch points become the ledger. `prepare` builds k6 and loads the scenario with `k6 inspect` (a
 * script error is exit 2 with k6's own message) before anything starts.
 */
export function k6Driver(): LoadDriver {
  let prepared: PreparedK6 | undefined;
  return {
    name: 'k6',
    async prepare(spec, runId, serviceName, progress) {
      prepared = await prepareK6(spec, runId, serviceName, progress, 'k6', (dir) => join(dir, 'summary.json'));
    },
    async drive(input: DriveInput): Promise<DriveOutcome> {
      if (prepared === undefined) throw new Error('k6 driver used before prepare()');
      const { spec } = input;
      const summaryFile = join(prepared.workDir, 'summary.json');
      const run = k6Input(
        spec,
        input.runId,
        input.serviceName,
        input.ingest,
        input.metricTimeline.startMs,
        summaryFile,
      );
      run.headers = input.ingest.headers;
      const outcome = await driveK6(
        {
          k6: prepared.binary,
          script: prepared.script,
          env: k6Env(run),
          ledgerFile: join(prepared.workDir, 'points.jsonl'),
          summaryFile,
          itemsPerIteration: Object.fromEntries(spec.signals.map((s) => [s.signal, s.batchUnits * s.itemsPerUnit])),
          signals: spec.signals.map((s) => s.signal),
          onStart: (pid) => input.onGeneratorProcess?.(pid, 'k6', availableParallelism()),
        },
        input.ledger,
        input.live,
        input.abort,
      );
      return {
        reports: outcome.reports,
        k6: {
          scenario: run.scenario,
          binary: prepared.binary,
          exitCode: outcome.exitCode,
          summary: outcome.summary,
          outputTail: outcome.outputTail,
        },
      };
    },
    dispose() {
      if (prepared !== undefined) rmSync(prepared.workDir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}
