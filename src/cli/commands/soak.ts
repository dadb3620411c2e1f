import { newRunId } from '../../docker/labels.js';
import { renderTable } from '../../report/render-table.js';
import { writeReport } from '../../report/write-report.js';
import { runSoak } from '../../soak/soak.js';
import { reportError, type Reporter } from '../output.js';
import type { Command } from '../parse-args.js';
import { abortOnInterrupt, type SignalSource } from './signals.js';

/**
 * `soak`: plan (every option checked first), run, write reports/<runId>/, print the table (or result.json
 * with --json). Ctrl-C stops the load, writes a partial result, tears down and exits 130.
 */
export async function runSoakCommand(
  command: Extract<Command, { name: 'soak' | 'chaos' }>,
  reporter: Reporter,
  signals: SignalSource,
  version: string,
): Promise<number> {
  const { plan } = command;
  const runId = newRunId();
  const { controller, stop: stopListening } = abortOnInterrupt(
    signals,
    (m) => reporter.progress(m),
    (signal) => `${signal} received: stopping the load, writing a partial result, removing run ${runId}`,
  );
  try {
    reporter.progress(
      `run ${runId}: ${command.name} on ${plan.stack.topology.describe(plan.stack.options, plan.stack.choice)} at ${plan.load.signals.map((s) => `${s.signal} ${s.rateRps.toFixed(0)}/s`).join(', ')} for ${plan.options.durationMs / 1000} s (${plan.options.driver} driver)`,
    );
    const { result, error, replay } = await runSoak(
      plan,
      runId,
      { progress: (m) => reporter.progress(m), images: reporter.images() },
      controller.signal,
      version,
      command.name,
    );
    const dir = writeReport(result, plan.options.reportDir, replay);
    reporter.progress(`report: ${dir}/summary.md`);
    if (plan.options.json) reporter.out(JSON.stringify(result, null, 2));
    else reporter.out(renderTable(result));
    if (error !== undefined && !controller.signal.aborted) reportError(error, reporter.io);
    return result.verdict.exitCode;
  } finally {
    stopListening();
  }
}
