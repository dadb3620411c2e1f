import { runCapacity } from '../../capacity/capacity.js';
import { renderCapacityTable, writeCapacityReport } from '../../capacity/capacity-report.js';
import { newRunId } from '../../docker/labels.js';
import { reportError, type Reporter } from '../output.js';
import type { Command } from '../parse-args.js';
import { abortOnInterrupt, type SignalSource } from './signals.js';

/**
 * `capacity`: boot once, search the zero-loss knee with trials verified exactly, write result.json,
 * summary.md, junit.xml and report.html, print the knee first. Ctrl-C stops the trial, writes what ran
 * and tears down (exit 130).
 */
export async function runCapacityCommand(
  command: Extract<Command, { name: 'capacity' }>,
  reporter: Reporter,
  signals: SignalSource,
  version: string,
): Promise<number> {
  const { plan } = command;
  const runId = newRunId();
  const { controller, stop: stopListening } = abortOnInterrupt(
    signals,
    (m) => reporter.progress(m),
    (signal) => `${signal} received: stopping the trial, writing the trials so far, removing run ${runId}`,
  );
  try {
    const o = plan.options;
    reporter.progress(
      `run ${runId}: capacity on ${plan.stack.topology.describe(plan.stack.options, plan.stack.choice)}, ${o.fromRps}–${o.toRps} items/s (${plan.soak.signals}), trials ${o.trialMs / 1000} s, confirmation ${o.confirmMs / 1000} s, precision ${(o.precision * 100).toFixed(1)} %`,
    );
    const { result, error } = await runCapacity(
      plan,
      runId,
      { progress: (m) => reporter.progress(m), images: reporter.images() },
      controller.signal,
      version,
    );
    const dir = writeCapacityReport(result, command.reportDir);
    reporter.progress(`report: ${dir}/report.html (and summary.md, result.json, junit.xml)`);
    reporter.out(command.json ? JSON.stringify(result, null, 2) : renderCapacityTable(result));
    if (error !== undefined && !controller.signal.aborted) reportError(error, reporter.io);
    return result.verdict.exitCode;
  } finally {
    stopListening();
  }
}
