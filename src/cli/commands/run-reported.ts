import { newRunId } from '../../docker/labels.js';
import type { StepIo } from '../../step/step-types.js';
import { reportError, type Reporter } from '../output.js';
import { abortOnInterrupt, type SignalSource } from './signals.js';

/** What soak, capacity and gate do differently around one run: the rest is `runReported`. */
export interface ReportedRun<R extends { verdict: { exitCode: number } }> {
  /** The first progress line: what runs, on what, how long. */
  opening(runId: string): string;
  /** What Ctrl-C does, said when it is pressed. */
  onInterrupt(signal: string, runId: string): string;
  run(runId: string, io: StepIo, abort: AbortSignal): Promise<{ result: R; error: unknown }>;
  /** Writes the report folder; returns the progress line that points at it. */
  write(result: R): string;
  /** stdout: the table, or result.json with --json. */
  print(result: R): string;
}

/**
 * A run with a run id, a report and a verdict: Ctrl-C aborts it (the run writes what it did and tears down),
 * the report is written whatever happened, an error is printed after it, and the verdict's code is the exit.
 */
export async function runReported<R extends { verdict: { exitCode: number } }>(
  reporter: Reporter,
  signals: SignalSource,
  r: ReportedRun<R>,
): Promise<number> {
  const runId = newRunId();
  const { controller, stop: stopListening } = abortOnInterrupt(
    signals,
    (m) => reporter.progress(m),
    (signal) => r.onInterrupt(signal, runId),
  );
  try {
    reporter.progress(r.opening(runId));
    const { result, error } = await r.run(
      runId,
      { progress: (m) => reporter.progress(m), images: reporter.images() },
      controller.signal,
    );
    reporter.progress(r.write(result));
    reporter.out(r.print(result));
    if (error !== undefined && !controller.signal.aborted) reportError(error, reporter.io);
    return result.verdict.exitCode;
  } finally {
    stopListening();
  }
}
