import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalog } from '../../../images/catalog.js';
import { cacheDir, packageRoot } from '../../../paths.js';
import type { LoadSpec } from '../../load-spec.js';
import type { DriveInput, DriveOutcome, LoadDriver } from '../driver.js';
import { ensureK6 } from './k6-binary.js';
import { driveK6, inspectScenario } from './k6-driver.js';
import { k6Env, k6Scenario, scenarioPath, type K6RunInput } from './k6-scenarios.js';

export function k6Input(
  spec: LoadSpec,
  runId: string,
  serviceName: string,
  otlpHttp: string,
  metricStartMs: number,
  summaryFile: string,
): K6RunInput {
  return {
    scenario: k6Scenario(spec.scenario).name,
    runId,
    serviceName,
    otlpHttp,
    durationMs: spec.durationMs,
    rates: Object.fromEntries(spec.signals.map((s) => [s.signal, s.rateRps])),
    batchItems: spec.batchItems,
    spansPerTrace: spec.traceShape.spansPerTrace,
    metricSeries: spec.metricShape.series,
    metricIntervalMs: spec.metricShape.intervalMs,
    metricStartMs,
    logBodyBytes: spec.logShape.bodyBytes,
    logSeverity: spec.logShape.severityText,
    ...(spec.profile.kind === 'ramp' ? { rampMs: spec.profile.rampMs } : {}),
    ...(spec.profile.kind === 'steps' ? { steps: spec.profile.steps } : {}),
    summaryFile,
  };
}

/**
 * The k6 driver: k6 (built here with xk6 on first use) runs a scenario of scenarios/ as a subprocess; its
 * per-batch points become the ledger. `prepare` builds k6 and loads the scenario with `k6 inspect` (a
 * script error is exit 2 with k6's own message) before anything starts.
 */
export function k6Driver(): LoadDriver {
  let prepared: { binary: string; script: string; workDir: string } | undefined;
  return {
    name: 'k6',
    async prepare(spec, runId, serviceName, progress) {
      const tool = loadCatalog().tools.get('k6');
      if (tool === undefined) throw new Error('the catalog has no k6 tool');
      const binary = await ensureK6(tool, {
        cacheDir: cacheDir(),
        ...(spec.k6Path === undefined ? {} : { explicit: spec.k6Path }),
        progress,
      });
      const scenario = k6Scenario(spec.scenario);
      const script = scenarioPath(packageRoot(), scenario.name);
      const workDir = mkdtempSync(join(tmpdir(), `otel-harness-${runId}-`));
      prepared = { binary, script, workDir };
      await inspectScenario(
        binary,
        script,
        k6Env(k6Input(spec, runId, serviceName, 'http://127.0.0.1:4318', Date.now(), join(workDir, 'summary.json'))),
      );
      progress(`k6: scenario ${scenario.name} loaded (${script})`);
    },
    async drive(input: DriveInput): Promise<DriveOutcome> {
      if (prepared === undefined) throw new Error('k6 driver used before prepare()');
      const { spec } = input;
      const summaryFile = join(prepared.workDir, 'summary.json');
      const run = k6Input(
        spec,
        input.runId,
        input.serviceName,
        input.ingest.otlpHttp,
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
