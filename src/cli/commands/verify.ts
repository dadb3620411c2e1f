import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { configurationError } from '../../harness-error.js';
import { Ledger, type Signal } from '../../load/ledger.js';
import { resolveSoakOptions } from '../../soak/soak-options.js';
import { planLoad } from '../../soak/soak-plan.js';
import { attachOptionsOf, endpointsOf, registerBackendCredentials } from '../../stack/attach/index.js';
import { readTargetFile } from '../../stack/attach/target-file.js';
import { RESULT_SCHEMA_VERSION, type SoakResult } from '../../report/result.js';
import { renderSummary } from '../../report/render-summary.js';
import { renderTable } from '../../report/render-table.js';
import { verdict, thresholds } from '../../soak/assess.js';
import { emptyStep, reportedFields } from '../../step/step-types.js';
import { notStarted } from '../../soak/soak.js';
import { LEDGER_FILE, readReplay, samplingOf, type Replay } from '../../step/replay.js';
import { SOAK_SERVICE_NAME } from '../../load/run-identity.js';
import { verifyStep } from '../../step/verify-step.js';
import { backendOf } from '../../verify/backends/registry.js';
import type { SignalBackend } from '../../verify/backends/backend.js';
import type { Reporter } from '../output.js';
import type { Command, VerifyOptions } from '../parse-args.js';

/**
 * `verify --run-id ID`: verifies a finished run again, from the ledger its drivers wrote
 * (reports/<run id>/ledger.json) against the backends it ran with, and writes reports/<run id>/verify/.
 */
export async function runVerifyCommand(
  command: Extract<Command, { name: 'verify' }>,
  reporter: Reporter,
  version: string,
): Promise<number> {
  const o = command.options;
  const { replay, ledger } =
    existsSync(join(o.reportDir, o.runId, LEDGER_FILE)) || Object.keys(o.expected).length === 0
      ? readReplay(o.reportDir, o.runId)
      : expectedRun(o);
  const earlier = readEarlier(o.reportDir, o.runId);
  const signals = ledger.signals();
  const backends = new Map<Signal, SignalBackend>();
  for (const s of signals) {
    const b = replay.backends[s];
    if (b !== undefined) backends.set(s, backendOf(b.backend, b.endpoint));
  }
  reporter.progress(
    `run ${o.runId}: verifying ${signals.join(', ')} ${Object.keys(o.expected).length > 0 ? 'against the expected counts' : 'again from its ledger'}`,
  );
  const maxLoss = earlier?.plan.maxLoss ?? '0 items';
  const startedAt = new Date().toISOString();
  const step = emptyStep();
  step.verification.signals = await verifyStep({
    runId: o.runId,
    ledger,
    signals,
    backends,
    plan: {
      load: replay.spec,
      faults: [],
      drainTimeoutMs: 0,
      verifySample: o.verifySample,
      canaryIntervalMs: 0,
      canaryTimeoutMs: 0,
      collectorLabel: '',
    },
    loadStartMs: replay.loadStartMs,
    drain: earlier?.drain,
    // The sampling and filtering the run's traces went through, from the collectors it recorded.
    ...(replay.path === undefined
      ? {}
      : {
          sampling: samplingOf(replay.path, replay.spec.traceShape, { runId: o.runId, serviceName: SOAK_SERVICE_NAME }),
        }),
    sentBy: () => undefined,
    sentMissing: () => 'verified again after the run: the counters of its window are not read again',
    receivedBy: () => undefined,
    evidence: {
      pipeline: () => undefined,
      failures: () => [],
      exporters: [],
      backendCounters: () => undefined,
      earlier: (s) => earlier?.verification.signals[s]?.evidence,
    },
    progress: (m) => reporter.progress(m),
  });
  const stepFields = reportedFields(step);
  const result: SoakResult = {
    ...(earlier ?? headerOf(replay, o.verifySample)),
    ...stepFields,
    load: earlier?.load ?? stepFields.load,
    schemaVersion: RESULT_SCHEMA_VERSION,
    tool: { name: 'otel-harness', version },
    command: 'verify',
    runId: o.runId,
    partial: false,
    startedAt,
    endedAt: new Date().toISOString(),
    limits: earlier?.limits ?? { limitedBy: 'nothing', reasons: [] },
    thresholds: [],
    verdict: { status: 'error', exitCode: 1, reasons: [] },
  };
  const budget = /^(\d+(?:\.\d+)?)%$/.exec(maxLoss);
  result.thresholds = thresholds({
    verification: result.verification.signals,
    load: {},
    latency: {},
    maxLoss:
      budget !== null
        ? { kind: 'percent', value: Number(budget[1]) }
        : { kind: 'items', value: parseInt(maxLoss, 10) || 0 },
    minAchievedRatio: 0,
    maxLatencyP99Ms: undefined,
  });
  result.verdict = verdict(result, false);
  const dir = resolve(o.reportDir, o.runId, 'verify');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'result.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(dir, 'summary.md'), renderSummary(result));
  reporter.progress(`report: ${dir}/summary.md`);
  reporter.out(o.json ? JSON.stringify(result, null, 2) : renderTable(result));
  return result.verdict.exitCode;
}

/**
 * A run with no ledger (k6-operator runners keep theirs): seqs 0…n−1 of each signal taken as acknowledged,
 * sent within `--since` before now, verified in the backends the attach options name.
 */
function expectedRun(o: VerifyOptions): { replay: Replay; ledger: Ledger } {
  if (o.attach === undefined) {
    throw configurationError(
      '--expected',
      'with the backends to look in (--target, --jaeger|--tempo, --loki, --prometheus)',
      'no backends',
    );
  }
  const attach = attachOptionsOf(o.attach);
  const file = attach.target === undefined ? undefined : readTargetFile(attach.target);
  const backends = endpointsOf({ ...attach, otlpEndpoint: attach.otlpEndpoint ?? 'http://unused' }, file).backends;
  registerBackendCredentials(attach, backends);
  const now = Date.now();
  const spec = planLoad(
    resolveSoakOptions(
      {
        signals: Object.entries(o.expected)
          .map(([s, n]) => `${s}=${n}`)
          .join(','),
        'spans-per-trace': String(o.spansPerTrace),
        'request-timeout': `${o.sinceMs}ms`,
      },
      {},
    ),
  );
  const ledger = new Ledger({ traces: o.spansPerTrace, metrics: 1, logs: 1 });
  for (const [signal, items] of Object.entries(o.expected) as [Signal, number][]) {
    const units = signal === 'traces' ? Math.ceil(items / o.spansPerTrace) : items;
    ledger.record(signal, { first: 0, count: units, outcome: 'acknowledged', answer: 'expected', atMs: o.sinceMs });
  }
  return {
    ledger,
    replay: {
      runId: o.runId,
      loadStartMs: now - o.sinceMs,
      spec,
      // Metric samples of a distributed run are stamped by each runner's own clock: not verifiable tick by tick.
      backends: Object.fromEntries(Object.entries(backends).filter(([s]) => s !== 'metrics')),
      itemsPerSeq: { traces: o.spansPerTrace, metrics: 1, logs: 1 },
      entries: {},
      rejections: {},
    },
  };
}

function readEarlier(reportDir: string, runId: string): SoakResult | undefined {
  try {
    return JSON.parse(readFileSync(join(reportDir, runId, 'result.json'), 'utf8')) as SoakResult;
  } catch {
    return undefined;
  }
}

/** The plan and stack of a run whose result.json is missing (only its ledger was kept), from the ledger. */
function headerOf(replay: Replay, verifySample: number | undefined): SoakResult {
  const spec = replay.spec;
  return {
    plan: {
      topology: 'unknown',
      stackOptions: {},
      source: 'unknown',
      target: undefined,
      stackSpec: undefined,
      driver: spec.driver,
      profile: spec.profile.kind,
      durationMs: spec.durationMs,
      rateRps: spec.signals.reduce((n, s) => n + s.rateRps, 0),
      signals: Object.fromEntries(spec.signals.map((s) => [s.signal, s.rateRps])),
      maxLoss: '0 items',
      minAchievedRatio: 0,
      maxLatencyP99Ms: undefined,
      verifySample,
    },
    stack: { ...notStarted('unknown'), title: `the stack of run ${replay.runId} (its result.json is missing)` },
  } as unknown as SoakResult;
}
