import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalog } from '../../../images/catalog.js';
import { cacheDir, packageRoot } from '../../../paths.js';
import type { LoadSpec } from '../../load-spec.js';
import { grpcTarget, otlpAddress } from '../../otlp/otlp-client.js';
import { ensureK6 } from './k6-binary.js';
import { inspectScenario } from './k6-driver.js';
import { k6Env, k6Scenario, scenarioPath, type K6RunInput } from './k6-scenarios.js';

/** k6 built, the scenario's script found and loaded, a work folder for the run. */
export interface PreparedK6 {
  binary: string;
  script: string;
  workDir: string;
}

export function k6Input(
  spec: LoadSpec,
  runId: string,
  serviceName: string,
  ingest: { otlpHttp: string; otlpGrpc: string | undefined },
  metricStartMs: number,
  summaryFile: string,
): K6RunInput {
  const { otlpHttp } = ingest;
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
    ...(spec.transport.compression === 'gzip' ? { compression: 'gzip' as const } : {}),
    ...(spec.transport.protocol === 'grpc'
      ? { grpcTarget: grpcTarget(otlpAddress(ingest, spec.transport)).target }
      : {}),
    summaryFile,
  };
}

/**
 * What both k6 drivers do before anything starts: build k6 (xk6, cached) or take `--k6`, and load the
 * scenario with `k6 inspect` (a script error is exit 2 with k6's own message).
 */
export async function prepareK6(
  spec: LoadSpec,
  runId: string,
  serviceName: string,
  progress: (message: string) => void,
  label: string,
  summaryFile: (workDir: string) => string,
): Promise<PreparedK6> {
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
  await inspectScenario(
    binary,
    script,
    k6Env(
      k6Input(
        spec,
        runId,
        serviceName,
        { otlpHttp: 'http://127.0.0.1:4318', otlpGrpc: '127.0.0.1:4317' },
        Date.now(),
        summaryFile(workDir),
      ),
    ),
  );
  progress(`${label}: scenario ${scenario.name} loaded (${script})`);
  return { binary, script, workDir };
}
