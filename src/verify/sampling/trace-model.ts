import type { TraceShape } from '../../../generators/index.js';
import { collectorVersionOf, type CollectorVersion } from './collector-version.js';

/**
 * What the oracle knows of the generated traces and of the collectors deciding on them: the traces'
 * shape, their run identity (resource attributes, when known) and the collector version whose rules apply.
 */
export interface TraceModel {
  shape: TraceShape;
  /** service.instance.id and otel_harness.run_id of the traces' resource; undefined when unknown. */
  runId: string | undefined;
  /** service.name of the traces' resource; undefined when unknown. */
  serviceName: string | undefined;
  /** The collector version whose rules apply (resolved on first use: the catalog is read only if needed). */
  version(): CollectorVersion;
  /** Whether a rule of version() was used, so that descriptions name the version. */
  versionUsed(): boolean;
}

export function traceModel(
  shape: TraceShape,
  runId: string | undefined,
  serviceName: string | undefined,
  collectorVersion: string | undefined,
): TraceModel {
  let version: CollectorVersion | undefined;
  return {
    shape,
    runId,
    serviceName,
    version: () => (version ??= collectorVersionOf(collectorVersion)),
    versionUsed: () => version !== undefined,
  };
}

/** A stage's decision for trace `seq` whose id is `traceId`. */
export type Decide = (seq: number, traceId: Uint8Array) => boolean;

/** A processor of the traces pipeline that drops whole traces, predicted. */
export interface Stage {
  describe: string;
  /** How long it holds a trace before deciding (tail_sampling's decision_wait), 0 for the others. */
  decisionWaitMs: number;
  keep: Decide;
}

/** A stage, `undefined` when the processor drops none of the generated traces, or why it cannot be predicted. */
export type StageOutcome = Stage | undefined | { unsupported: string };

export function isUnsupported(o: StageOutcome): o is { unsupported: string } {
  return o !== undefined && 'unsupported' in o;
}
