import type { StoreHandoverMode, StoreRestart } from '../stack/object-store.js';
import type { ChaosReport } from '../chaos/chaos-analysis.js';
import type { ChaosFault } from '../chaos/chaos-plan.js';
import type { DrainReport } from '../drain/drain.js';
import type { ImageProgress } from '../images/image-builder.js';
import type { K6RunReport } from '../load/drivers/driver.js';
import type { OutcomeCounts, Rejection, SeqRange, Signal } from '../load/ledger.js';
import type { LoadSpec } from '../load/load-spec.js';
import type { digestCollectorLog } from '../observe/collector-log.js';
import type { CollectorCounters } from '../observe/collector-metrics.js';
import type { ResourceReport } from '../observe/resource-sampler.js';
import type { StackObservation } from '../stack/stack.js';
import type { Percentiles } from '../stats/histogram.js';
import type { CanaryReport } from '../verify/latency-canary.js';
import type { SignalVerification } from '../verify/verification.js';
import type { Replay } from './replay.js';

/**
 * The load step's plan and result: what soak, capacity and gate ask of one step, and what it hands back
 * (the per-signal load results and the timeline are result.json's `load` and `timeline`).
 */

/** Items per second over the step, per signal, and the collectors' queue. */
export interface StepTimeline {
  bucketMs: number;
  signals: Partial<Record<Signal, { acknowledged: number[]; notAcknowledged: number[] }>>;
  queue: { tMs: number; size: number }[];
}

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
  /** Acknowledged batches whose answer declared items rejected (OTLP partial success). */
  rejections: Rejection[];
  /** Refused batches whose answer asked for a retry delay (gRPC RetryInfo, HTTP Retry-After), when any did. */
  retryAfter?: { batches: number; minMs: number; maxMs: number };
  /** Generator parameters of this signal (spans per trace, series, interval, ...). */
  shape: Record<string, number | string>;
}

export interface StepIo {
  progress(message: string): void;
  images: ImageProgress;
}

/** One load step: what to offer, how long to wait for the drain, how to verify, which faults. */
export interface StepPlan {
  load: LoadSpec;
  faults: ChaosFault[];
  drainTimeoutMs: number;
  /** End the drain when something is queued and nothing has moved for this long (capacity trials). */
  drainStallMs?: number;
  verifySample: number | undefined;
  /** `--verify-from-store`: verify again after the backends handed over (flush or kill) and restarted from the store alone. */
  verifyFromStore?: StoreHandoverMode;
  canaryIntervalMs: number;
  canaryTimeoutMs: number;
  /** Names the collector configuration in chaos explanations (a variant, or 'your configuration'). */
  collectorLabel: string;
  /** How often containers, the host and the generator are sampled (default 5 s; short trials use less). */
  resourceIntervalMs?: number;
}

/** What one step produced; every field is filled as far as the step got (partial when interrupted). */
export interface StepResult {
  load: { elapsedMs: number; interrupted: boolean; signals: Partial<Record<Signal, SignalLoadResult>> };
  drain: DrainReport | undefined;
  verification: {
    signals: Partial<Record<Signal, SignalVerification>>;
    /** Self-metric deltas per collector and signal (canaries included). */
    collectors: Record<string, Partial<Record<Signal, CollectorCounters>>>;
    /** Largest sum of sending-queue sizes seen during the load (all collectors). */
    collectorQueuePeak: number | undefined;
    /** Silent-drop and ingest counters of each component, deltas over the step. */
    backendCounters: Record<string, Record<string, number> | undefined>;
    /** The first collector's trouble log lines, grouped. */
    collectorLog: ReturnType<typeof digestCollectorLog> | undefined;
    /** Uncompressed bytes each backend that counts them received over the step (Tempo, Loki). */
    ingestBytes: Partial<Record<Signal, { backend: string; bytes: number; describe: string }>>;
    /** `--verify-from-store`: what was done to each backend on the object store before verifying again. */
    storeRestarts?: StoreRestart[];
    /** `--verify-from-store`: the store's counters over the handover (what the flush wrote), by component. */
    storeTraffic?: Record<string, Record<string, number>>;
  };
  latency: Partial<Record<Signal, CanaryReport>>;
  k6: K6RunReport | undefined;
  chaos: ChaosReport | undefined;
  resources: ResourceReport | undefined;
  timeline: StepTimeline;
  /** What the topology's own observers saw (Phase 2: Kafka consumer lag). */
  observations: StackObservation[];
  /** Verification finished. */
  complete: boolean;
  /** The ledger and what verifying it again needs (written apart as ledger.json). */
  replay: Replay | undefined;
}

/** The step's fields that go into result.json (completion and the ledger are kept apart). */
export function reportedFields(step: StepResult): Omit<StepResult, 'complete' | 'replay'> {
  const out: Partial<StepResult> = { ...step };
  delete out.complete;
  delete out.replay;
  return out as Omit<StepResult, 'complete' | 'replay'>;
}

export function emptyStep(): StepResult {
  return {
    load: { elapsedMs: 0, interrupted: false, signals: {} },
    drain: undefined,
    verification: {
      signals: {},
      collectors: {},
      collectorQueuePeak: undefined,
      backendCounters: {},
      collectorLog: undefined,
      ingestBytes: {},
    },
    latency: {},
    k6: undefined,
    chaos: undefined,
    resources: undefined,
    timeline: { bucketMs: 1_000, signals: {}, queue: [] },
    observations: [],
    complete: false,
    replay: undefined,
  };
}
