import { runGate } from '../../gate/gate.js';
import { renderGateTable, writeGateReport } from '../../gate/gate-report.js';
import type { Command } from '../parse-args.js';
import type { ReportedRun } from './run-reported.js';
import type { GateResult } from '../../gate/gate-result.js';

/**
 * `gate`: baseline and candidate trials interleaved, each on a fresh stack; loss is a hard gate, costs and
 * latency are compared statistically. Writes the report folder, prints the table, exits with the verdict's
 * code. Ctrl-C stops the trial, writes what ran and tears down (exit 130). The specs (images, collector
 * configurations) are checked before any stack starts: exit 2 on a bad one.
 */
export function gateRun(command: Extract<Command, { name: 'gate' }>, version: string): ReportedRun<GateResult> {
  const { plan } = command;
  const o = plan.options;
  return {
    opening: (runId) =>
      `gate ${runId}: ${o.candidate} vs ${o.baseline}, ${o.auto ? `4 to ${o.maxTrials}` : o.trials} trials per arm, ${plan.soak.durationMs / 1000} s each (${plan.soak.signals})`,
    onInterrupt: (signal) => `${signal} received: stopping the trial, writing the trials so far`,
    run: (runId, io, abort) => runGate(plan, runId, io, abort, version),
    write: (result) =>
      `report: ${writeGateReport(result, command.reportDir)}/report.html (and summary.md, result.json, trials.json, junit.xml, benchmark.json)`,
    print: (result) => (command.json ? JSON.stringify(result, null, 2) : renderGateTable(result)),
  };
}
