import { renderTable } from '../../report/render-table.js';
import { writeReport } from '../../report/write-report.js';
import { runSoak } from '../../soak/soak.js';
import type { Replay } from '../../step/replay.js';
import type { Command } from '../parse-args.js';
import type { ReportedRun } from './run-reported.js';
import type { SoakResult } from '../../report/result.js';
import { describeTransport } from '../../load/otlp/transport.js';

/**
 * `soak`: plan (every option checked first), run, write reports/<runId>/, print the table (or result.json
 * with --json). Ctrl-C stops the load, writes a partial result, tears down and exits 130.
 */
export function soakRun(
  command: Extract<Command, { name: 'soak' | 'chaos' }>,
  version: string,
): ReportedRun<SoakResult> {
  const { plan } = command;
  let replay: Replay | undefined;
  return {
    opening: (runId) =>
      `run ${runId}: ${command.name} on ${plan.stack.topology.describe(plan.stack.options, plan.stack.choice)} at ${plan.load.signals.map((s) => `${s.signal} ${s.rateRps.toFixed(0)}/s`).join(', ')} for ${plan.options.durationMs / 1000} s (${plan.options.driver} driver, ${describeTransport(plan.load.transport)})`,
    onInterrupt: (signal, runId) =>
      `${signal} received: stopping the load, writing a partial result, removing run ${runId}`,
    run: async (runId, io, abort) => {
      const ran = await runSoak(plan, runId, io, abort, version, command.name);
      replay = ran.replay;
      return ran;
    },
    write: (result) => `report: ${writeReport(result, plan.options.reportDir, replay)}/summary.md`,
    print: (result) => (plan.options.json ? JSON.stringify(result, null, 2) : renderTable(result)),
  };
}
