import { newRunId } from '../../docker/labels.js';
import { InterruptedError } from '../../harness-error.js';
import { renderTable } from '../../report/render-table.js';
import { writeReport } from '../../report/write-report.js';
import { planSoak } from '../../run/soak-plan.js';
import { runSoak } from '../../run/soak-run.js';
import { reportError, type Reporter } from '../output.js';
import type { Command } from '../parse-args.js';
import type { SignalSource } from './signals.js';

/**
 * `soak`: plan (every option checked first), run, write reports/<runId>/, print the table (or result.json
 * with --json). Ctrl-C stops the load, writes a partial result, tears down and exits 130.
 */
export async function runSoakCommand(
  command: Extract<Command, { name: 'soak' }>,
  reporter: Reporter,
  signals: SignalSource,
  version: string,
): Promise<number> {
  const plan = planSoak(command.options);
  const runId = newRunId();
  const controller = new AbortController();
  const stopListening = signals.onInterrupt((signal) => {
    if (controller.signal.aborted) return;
    reporter.progress(`${signal} received: stopping the load, writing a partial result, removing run ${runId}`);
    controller.abort(new InterruptedError(signal));
  });
  try {
    reporter.progress(
      `run ${runId}: soak at ${plan.signals.map((s) => `${s.signal} ${s.rateRps.toFixed(0)}/s`).join(', ')} for ${command.options.durationMs / 1000} s (${command.options.driver} driver)`,
    );
    const { result, error } = await runSoak(
      plan,
      runId,
      { progress: (m) => reporter.progress(m), images: reporter.images() },
      controller.signal,
      version,
    );
    const dir = writeReport(result, command.options.reportDir);
    reporter.progress(`report: ${dir}/summary.md`);
    if (command.options.json) reporter.out(JSON.stringify(result, null, 2));
    else reporter.out(renderTable(result));
    if (error !== undefined && !controller.signal.aborted) reportError(error, reporter.io);
    return result.verdict.exitCode;
  } finally {
    stopListening();
  }
}
