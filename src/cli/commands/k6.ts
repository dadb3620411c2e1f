import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRunId } from '../../docker/labels.js';
import { ExitCode, HarnessError } from '../../harness-error.js';
import { loadCatalog } from '../../images/catalog.js';
import { runCommand } from '../../images/run-command.js';
import { renderTestRun, toYaml } from '../../k8s/k6-testrun.js';
import { ensureK6 } from '../../load/drivers/k6/k6-binary.js';
import { k6ArchiveArgs, k6Env, k6Scenario, scenarioPath } from '../../load/drivers/k6/k6-scenarios.js';
import { SOAK_SERVICE_NAME } from '../../load/run-identity.js';
import { planSignalRates } from '../../load/signal-plan.js';
import { cacheDir, packageRoot } from '../../paths.js';
import type { Command } from '../parse-args.js';
import type { Reporter } from '../output.js';

function k6Tool() {
  const tool = loadCatalog().tools.get('k6');
  if (tool === undefined) throw new Error('the catalog has no k6 tool');
  return tool;
}

/** `k6 build`: builds (or finds) the k6 binary and prints its path and version. */
export async function runK6Build(command: Extract<Command, { name: 'k6-build' }>, reporter: Reporter): Promise<number> {
  const bin = await ensureK6(k6Tool(), {
    cacheDir: cacheDir(),
    ...(command.k6Path === undefined ? {} : { explicit: command.k6Path }),
    progress: (m) => reporter.progress(m),
  });
  const version = (await runCommand(bin, ['version'], { captureStdout: true })).trim().split('\n')[0] ?? '';
  reporter.out(`${bin}\n${version}`);
  return ExitCode.pass;
}

/**
 * `k6 manifest`: a ConfigMap with the scenario's `k6 archive` and a k6-operator TestRun that runs it on
 * --parallelism runners against --endpoint, printed as YAML on stdout (`| kubectl apply -f -`).
 */
export async function runK6Manifest(
  command: Extract<Command, { name: 'k6-manifest' }>,
  reporter: Reporter,
): Promise<number> {
  const o = command.options;
  const tool = k6Tool();
  const bin = await ensureK6(tool, {
    cacheDir: cacheDir(),
    ...(o.k6Path === undefined ? {} : { explicit: o.k6Path }),
    progress: (m) => reporter.progress(m),
  });
  const scenario = k6Scenario(o.scenario);
  const runId = newRunId();
  const rates = planSignalRates(o.rateRps, scenario.signals.join(','));
  const env = k6Env({
    scenario: scenario.name,
    runId,
    serviceName: SOAK_SERVICE_NAME,
    otlpHttp: o.endpoint,
    durationMs: o.durationMs,
    rates,
    batchItems: 512,
    spansPerTrace: 5,
    metricSeries: Math.max(1, Math.round(((rates.metrics ?? 0) * 5_000) / 1000)),
    metricIntervalMs: 5_000,
    metricStartMs: 0,
    logBodyBytes: 200,
    logSeverity: 'INFO',
    summaryFile: 'stdout',
  });
  delete env.METRIC_START_MS; // each runner starts its own metric clock
  const dir = mkdtempSync(join(tmpdir(), 'otel-harness-k6-archive-'));
  try {
    const archive = join(dir, 'archive.tar');
    await runCommand(bin, k6ArchiveArgs(env, archive, scenarioPath(packageRoot(), scenario.name)), {
      env: { ...process.env, ...env, K6_NO_USAGE_REPORT: 'true' },
    }).catch((err: unknown) => {
      throw new HarnessError(`k6 cannot archive scenario ${scenario.name}`, {
        code: 'K6_SCENARIO_INVALID',
        exitCode: ExitCode.usage,
        details: err instanceof HarnessError ? err.details : String(err),
      });
    });
    const { configMap, testRun } = renderTestRun({
      name: o.name,
      namespace: o.namespace,
      parallelism: o.parallelism,
      archiveBase64: readFileSync(archive).toString('base64'),
      env,
      runnerImage: o.image ?? tool.upstream,
    });
    reporter.progress(`k6: TestRun ${o.namespace}/${o.name}, ${o.parallelism} runners, run id ${runId}`);
    reporter.out(toYaml([configMap, testRun]));
    return ExitCode.pass;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
