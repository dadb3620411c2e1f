import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Signal } from '../../load/ledger.js';
import { RESULT_SCHEMA_VERSION, type SoakResult } from '../../report/result.js';
import { renderSummary } from '../../report/render-summary.js';
import { renderTable } from '../../report/render-table.js';
import { verdict, thresholds } from '../../soak/assess.js';
import { emptyStep, reportedFields } from '../../soak/load-step.js';
import { readReplay } from '../../soak/replay.js';
import { verifyStep } from '../../soak/verify-step.js';
import { backendOf } from '../../verify/backends/registry.js';
import type { SignalBackend } from '../../verify/backends/backend.js';
import type { Reporter } from '../output.js';
import type { Command } from '../parse-args.js';

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
  const { replay, ledger } = readReplay(o.reportDir, o.runId);
  const earlier = readEarlier(o.reportDir, o.runId);
  const signals = ledger.signals();
  const backends = new Map<Signal, SignalBackend>();
  for (const s of signals) {
    const b = replay.backends[s];
    if (b !== undefined) backends.set(s, backendOf(b.backend, b.endpoint));
  }
  reporter.progress(`run ${o.runId}: verifying ${signals.join(', ')} again from its ledger`);
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
    sentBy: () => undefined,
    receivedBy: () => undefined,
    progress: (m) => reporter.progress(m),
  });
  const stepFields = reportedFields(step);
  const result: SoakResult = {
    ...(earlier ?? ({} as SoakResult)),
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

function readEarlier(reportDir: string, runId: string): SoakResult | undefined {
  try {
    return JSON.parse(readFileSync(join(reportDir, runId, 'result.json'), 'utf8')) as SoakResult;
  } catch {
    return undefined;
  }
}
