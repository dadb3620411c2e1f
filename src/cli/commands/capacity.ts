import { runCapacity } from '../../capacity/capacity.js';
import { renderCapacityTable, writeCapacityReport } from '../../capacity/capacity-report.js';
import type { Command } from '../parse-args.js';
import type { ReportedRun } from './run-reported.js';
import type { CapacityResult } from '../../capacity/capacity.js';

/**
 * `capacity`: boot once, search the zero-loss knee with trials verified exactly, write result.json,
 * summary.md, junit.xml and report.html, print the knee first. Ctrl-C stops the trial, writes what ran
 * and tears down (exit 130).
 */
export function capacityRun(
  command: Extract<Command, { name: 'capacity' }>,
  version: string,
): ReportedRun<CapacityResult> {
  const { plan } = command;
  const o = plan.options;
  return {
    opening: (runId) =>
      `run ${runId}: capacity on ${plan.stack.topology.describe(plan.stack.options, plan.stack.choice)}, ${o.fromRps}–${o.toRps} items/s (${plan.soak.signals}), trials ${o.trialMs / 1000} s, confirmation ${o.confirmMs / 1000} s, precision ${(o.precision * 100).toFixed(1)} %`,
    onInterrupt: (signal, runId) =>
      `${signal} received: stopping the trial, writing the trials so far, removing run ${runId}`,
    run: (runId, io, abort) => runCapacity(plan, runId, io, abort, version),
    write: (result) =>
      `report: ${writeCapacityReport(result, command.reportDir)}/report.html (and summary.md, result.json, junit.xml)`,
    print: (result) => (command.json ? JSON.stringify(result, null, 2) : renderCapacityTable(result)),
  };
}
