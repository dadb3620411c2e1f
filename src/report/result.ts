import type { Signal } from '../load/ledger.js';

import type { StepResult } from '../step/step-types.js';

export type { SignalLoadResult, StepTimeline } from '../step/step-types.js';
import type { StackDescription, Endpoint } from '../stack/stack.js';

/**
 * reports/<runId>/result.json. Every field is documented in docs/result.md; bump RESULT_SCHEMA_VERSION on
 * any incompatible change.
 */
export const RESULT_SCHEMA_VERSION = 2;

export interface ThresholdResult {
  name: string;
  limit: string;
  actual: string;
  pass: boolean;
  /** Exit code when it fails: 3 (thresholds) or 4 (verification). */
  exitCode: 3 | 4;
  /** True when the threshold could not be decided (a verifier was inconclusive). */
  inconclusive?: boolean;
}

export interface LimitAssessment {
  /** What limited the run: nothing, the stack, the load generator, or the machine. */
  limitedBy: 'nothing' | 'stack' | 'generator' | 'machine';
  reasons: string[];
}

/** The fields every result.json starts with (soak, chaos, verify, capacity). */
export interface RunHeader<Command extends string, Schema extends number> {
  schemaVersion: Schema;
  tool: { name: 'otel-harness'; version: string };
  command: Command;
  runId: string;
  /** True when the run was interrupted or failed before it finished: figures cover what happened. */
  partial: boolean;
  startedAt: string;
  endedAt: string;
}

/** The header of a run that starts now: partial until it finishes. */
export function runHeader<Command extends string, Schema extends number>(
  command: Command,
  schemaVersion: Schema,
  runId: string,
  version: string,
): RunHeader<Command, Schema> {
  const startedAt = new Date().toISOString();
  return {
    schemaVersion,
    tool: { name: 'otel-harness', version },
    command,
    runId,
    partial: true,
    startedAt,
    endedAt: startedAt,
  };
}

export interface SoakResult
  extends
    Omit<StepResult, 'complete' | 'replay'>,
    RunHeader<'soak' | 'chaos' | 'verify', typeof RESULT_SCHEMA_VERSION> {
  plan: {
    /** The topology that ran: phase1, attach, … */
    topology: string;
    /** Its options (e.g. traces, variant for phase1; target for attach). */
    stackOptions: Record<string, unknown>;
    source: string;
    /** The --target file (attach mode). */
    target: string | undefined;
    /** --stack spec file. */
    stackSpec: string | undefined;
    driver: string;
    /** e.g. "OTLP/gRPC gzip" (absent in results written before it was recorded). */
    transport?: string;
    /** The payload profile when not synthetic, e.g. 'web (20 pods, 5 nodes)' (--payload). */
    payload?: string;
    profile: string;
    durationMs: number;
    rateRps: number;
    signals: Partial<Record<Signal, number>>;
    maxLoss: string;
    minAchievedRatio: number;
    maxLatencyP99Ms: number | undefined;
    verifySample: number | undefined;
  };
  stack: StackDescription & { endpoints: Endpoint[] };
  limits: LimitAssessment;
  thresholds: ThresholdResult[];
  verdict: {
    status: 'pass' | 'fail' | 'inconclusive' | 'interrupted' | 'error';
    exitCode: number;
    reasons: string[];
  };
}
