import { newRunId } from '../../docker/labels.js';
import { runGate } from '../../gate/gate.js';
import { renderGateTable, writeGateReport } from '../../gate/gate-report.js';
import { reportError, type Reporter } from '../output.js';
import type { Command } from '../parse-args.js';
import { abortOnInterrupt, type SignalSource } from './signals.js';

/**
 * `gate`: baseline and candidate trials interleaved, each on a fresh stack; loss is a hard gate, costs and
 * latency are compared statistically. Writes the report folder, prints the table, exits with the verdict's
 * code. Ctrl-C stops the trial, writes what ran and tears down (exit 130).
 */
export async function runGateCommand(
  command: Extract<Command, { name: 'gate' }>,
  reporter: Reporter,
  signals: SignalSource,
  version: string,
): Promise<number> {
  const { plan } = command;
  const runId = newRunId();
  const { controller, stop: stopListening } = abortOnInterrupt(
    signals,
    (m) => reporter.progress(m),
    (signal) => `${signal} received: stopping the trial, writing the trials so far`,
  );
  try {
    const o = plan.options;
    reporter.progress(
      `gate ${runId}: ${plan.options.candidate} vs ${plan.options.baseline}, ${o.auto ? `4 to ${o.maxTrials}` : o.trials} trials per arm, ${plan.soak.durationMs / 1000} s each (${plan.soak.signals})`,
    );
    // runGate checks both specs (images, collector configurations) before any stack starts: exit 2 on a bad one.
    const { result, error } = await runGate(
      plan,
      runId,
      { progress: (m) => reporter.progress(m), images: reporter.images() },
      controller.signal,
      version,
    );
    const dir = writeGateReport(result, command.reportDir);
    reporter.progress(
      `report: ${dir}/report.html (and summary.md, result.json, trials.json, junit.xml, benchmark.json)`,
    );
    reporter.out(command.json ? JSON.stringify(result, null, 2) : renderGateTable(result));
    if (error !== undefined && !controller.signal.aborted) reportError(error, reporter.io);
    return result.verdict.exitCode;
  } finally {
    stopListening();
  }
}
