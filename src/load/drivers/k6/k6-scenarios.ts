import { join } from 'node:path';
import { configurationError } from '../../../harness-error.js';
import type { Signal } from '../../ledger.js';

/** The k6 scenarios in scenarios/, and the signals each one sends. */
export const K6_SCENARIOS = {
  traces: { file: 'traces.js', signals: ['traces'] },
  'traces-ramping': { file: 'traces-ramping.js', signals: ['traces'] },
  logs: { file: 'logs.js', signals: ['logs'] },
  metrics: { file: 'metrics.js', signals: ['metrics'] },
  mixed: { file: 'mixed.js', signals: ['traces', 'metrics', 'logs'] },
  steps: { file: 'steps.js', signals: ['traces'] },
} as const satisfies Record<string, { file: string; signals: readonly Signal[] }>;

export type K6ScenarioName = keyof typeof K6_SCENARIOS;

export function k6Scenario(name: string): { name: K6ScenarioName; file: string; signals: readonly Signal[] } {
  if (!(name in K6_SCENARIOS))
    throw configurationError('--scenario', `one of ${Object.keys(K6_SCENARIOS).join(', ')}`, name);
  const s = K6_SCENARIOS[name as K6ScenarioName];
  return { name: name as K6ScenarioName, file: s.file, signals: s.signals };
}

export function scenarioPath(root: string, name: K6ScenarioName): string {
  return join(root, 'scenarios', K6_SCENARIOS[name].file);
}

export interface K6RunInput {
  scenario: K6ScenarioName;
  runId: string;
  serviceName: string;
  otlpHttp: string;
  durationMs: number;
  /** Items/s per signal. */
  rates: Partial<Record<Signal, number>>;
  batchItems: number;
  spansPerTrace: number;
  metricSeries: number;
  metricIntervalMs: number;
  metricStartMs: number;
  logBodyBytes: number;
  logSeverity: string;
  /** Extra headers on every request (a tenant). */
  headers?: Record<string, string>;
  /** Request bodies gzip-compressed. */
  compression?: 'gzip';
  /** Unary OTLP/gRPC Export calls to this host:port instead of OTLP/HTTP. */
  grpcTarget?: string;
  /** ramp duration for traces-ramping, steps for steps. */
  rampMs?: number;
  steps?: number;
  summaryFile: string;
}

/** The __ENV a scenario reads (documented in each scenario file). Pure. */
export function k6Env(input: K6RunInput): Record<string, string> {
  const seconds = (ms: number) => `${Math.max(1, Math.round(ms / 1000))}s`;
  const env: Record<string, string> = {
    OTLP_HTTP: input.otlpHttp,
    RUN_ID: input.runId,
    SERVICE_NAME: input.serviceName,
    DURATION: seconds(input.durationMs),
    DURATION_MS: String(Math.max(1, Math.round(input.durationMs / 1000)) * 1000),
    BATCH: String(input.batchItems),
    SPANS_PER_TRACE: String(input.spansPerTrace),
    SERIES: String(input.metricSeries),
    METRIC_INTERVAL_MS: String(input.metricIntervalMs),
    METRIC_START_MS: String(input.metricStartMs),
    LOG_BODY_BYTES: String(input.logBodyBytes),
    LOG_SEVERITY: input.logSeverity,
    SUMMARY_FILE: input.summaryFile,
  };
  if (input.headers !== undefined && Object.keys(input.headers).length > 0)
    env.OTLP_HEADERS = JSON.stringify(input.headers);
  if (input.compression !== undefined) env.COMPRESSION = input.compression;
  if (input.grpcTarget !== undefined) {
    env.PROTOCOL = 'grpc';
    env.OTLP_GRPC = input.grpcTarget;
  }
  const signals = K6_SCENARIOS[input.scenario].signals;
  if (input.scenario === 'mixed') {
    for (const s of ['traces', 'metrics', 'logs'] as const)
      env[`RATE_${s.toUpperCase()}`] = String(input.rates[s] ?? 0);
  } else {
    env.RATE = String(input.rates[signals[0]] ?? 0);
  }
  if (input.scenario === 'traces-ramping') {
    const ramp = input.rampMs ?? Math.round(input.durationMs / 2);
    env.RAMP = seconds(ramp);
    env.HOLD = seconds(Math.max(1_000, input.durationMs - ramp));
  }
  if (input.scenario === 'steps') {
    const steps = input.steps ?? 4;
    env.STEPS = String(steps);
    env.STEP_RAMP = '5s';
    env.STEP_SECONDS = String(Math.max(1, Math.round(input.durationMs / 1000 / steps) - 5));
  }
  return env;
}

/**
 * `k6 archive` arguments that keep the scenario's environment in the archive (`-e`): k6 archives the
 * options its init code computes, and `k6 archive` does not show the init code the process environment,
 * so without them an archive holds the defaults (RATE 1000, DURATION 1m) whatever its runners are given.
 */
export function k6ArchiveArgs(env: Record<string, string>, output: string, script: string): string[] {
  return ['archive', '--quiet', ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), '-O', output, script];
}
