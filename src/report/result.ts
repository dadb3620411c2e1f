import type { Signal, OutcomeCounts, SeqRange } from '../load/ledger.js';
import type { DrainReport } from '../drain/drain.js';
import type { CanaryReport } from '../verify/latency-canary.js';
import type { SignalVerification } from '../verify/verification.js';
import type { ResourceReport } from '../observe/resource-sampler.js';
import type { CollectorCounters } from '../observe/collector-metrics.js';
import type { Percentiles } from '../stats/histogram.js';
import type { LogDigestEntry } from '../observe/collector-log.js';
import type { K6Summary } from '../load/k6/k6-results.js';
import type { ChaosReport } from '../chaos/chaos-analysis.js';

/**
 * reports/<runId>/result.json. Every field is documented in docs/result.md; bump RESULT_SCHEMA_VERSION on
 * any incompatible change.
 */
export const RESULT_SCHEMA_VERSION = 1;

export interface SignalLoadResult {
  /** Planned offered rate, items/s. */
  offeredRps: number;
  /** Acknowledged items per second of load time. */
  achievedRps: number;
  /** achievedRps / offeredRps. */
  achievedRatio: number;
  counts: OutcomeCounts;
  /** Items per answer: HTTP status, gRPC code or transport error code. */
  answers: Record<string, number>;
  /** How late batches were issued against the schedule, ms. */
  scheduleLagMs: Percentiles;
  /** Sequence ranges by outcome (trace seqs for traces), at most `rangeLimit` each. */
  idRanges: Record<'acknowledged' | 'refused' | 'failed' | 'dropped', SeqRange[]>;
  idRangesTruncated: boolean;
  /** Generator parameters of this signal (spans per trace, series, interval, ...). */
  shape: Record<string, number | string>;
}

export interface ThresholdResult {
  name: string;
  limit: string;
  actual: string;
  pass: boolean;
  /** Exit code when it fails: 3 (thresholds) or 4 (verification). */
  exitCode: 3 | 4;
}

export interface LimitAssessment {
  /** What limited the run: nothing, the stack, the load generator, or the machine. */
  limitedBy: 'nothing' | 'stack' | 'generator' | 'machine';
  reasons: string[];
}

export interface SoakResult {
  schemaVersion: typeof RESULT_SCHEMA_VERSION;
  tool: { name: 'otel-harness'; version: string };
  command: 'soak';
  runId: string;
  /** True when the run was interrupted or failed before verification: figures cover what happened. */
  partial: boolean;
  startedAt: string;
  endedAt: string;
  plan: {
    phase: number;
    traces: string;
    variant: string;
    source: string;
    target: string | undefined;
    driver: string;
    profile: string;
    durationMs: number;
    rateRps: number;
    signals: Partial<Record<Signal, number>>;
    maxLoss: string;
    minAchievedRatio: number;
    maxLatencyP99Ms: number | undefined;
  };
  stack: {
    title: string;
    images: Record<string, string>;
    bootSeconds: number | undefined;
    endpoints: { service: string; label: string; address: string }[];
  };
  load: {
    /** Time from the first to the last scheduled batch, ms. */
    elapsedMs: number;
    interrupted: boolean;
    signals: Partial<Record<Signal, SignalLoadResult>>;
  };
  drain: DrainReport | undefined;
  verification: {
    signals: Partial<Record<Signal, SignalVerification>>;
    /** Collector self-metric deltas over the run, per signal (canaries included). */
    collector: Partial<Record<Signal, CollectorCounters>> | undefined;
    /** Largest sending-queue size seen during the run (all exporters). */
    collectorQueuePeak: number | undefined;
    /** Silent-drop and ingest counters of each component, deltas over the run. */
    backendCounters: Record<string, Record<string, number> | undefined>;
    /** The collector's trouble log lines (export failures, drops), grouped; only for a stack booted here. */
    collectorLog: LogDigestEntry[] | undefined;
  };
  /** The k6 run, with --driver k6. */
  k6:
    | {
        scenario: string;
        binary: string;
        exitCode: number;
        summary: K6Summary | undefined;
        /** End of k6's own output. */
        outputTail: string[];
      }
    | undefined;
  /** Faults injected during the load, their recovery and the loss attributed to each (--chaos). */
  chaos: ChaosReport | undefined;
  /** Write → queryable latency of the canaries, per signal. */
  latency: Partial<Record<Signal, CanaryReport>>;
  resources: ResourceReport | undefined;
  limits: LimitAssessment;
  thresholds: ThresholdResult[];
  verdict: {
    status: 'pass' | 'fail' | 'interrupted' | 'error';
    exitCode: number;
    reasons: string[];
  };
}
