import { collectorDrainCondition, type Quiet } from '../drain/collector-condition.js';
import type { DrainCondition } from '../drain/drain.js';
import type { Signal } from '../load/ledger.js';
import { queueUnits } from './collector-config.js';
import { collectorPipelineOf, type CollectorPipeline } from './collector-pipeline.js';
import type { CollectorRole } from './stack.js';

/** Looks at each collector's metrics once a second. */
const POLL_MS = 1_000;
/** Without its configuration, a collector's pipeline is taken to hold items up to 5 s (a batch timeout). */
const UNKNOWN_HOLD_MS = 5_000;

/**
 * A drain condition per collector whose metrics the harness reads, knowing from its configuration what its
 * queues count, how many items a request carries and how long its pipeline may hold an item, and — with
 * `logs` — why its exports fail. A signal is idle once its counters stood still 1 s longer than that hold.
 */
export function collectorConditions(
  collectors: readonly CollectorRole[],
  signals: readonly Signal[],
  logs?: (collector: string) => Promise<string[]>,
): DrainCondition[] {
  return collectors.flatMap((c) =>
    c.metricsUrl === undefined ? [] : [conditionOf({ ...c, metricsUrl: c.metricsUrl }, signals, logs)],
  );
}

function conditionOf(
  c: CollectorRole & { metricsUrl: string },
  signals: readonly Signal[],
  logs?: (collector: string) => Promise<string[]>,
): DrainCondition {
  const pipeline = collectorPipelineOf(c.config);
  return collectorDrainCondition({
    name: c.name,
    metricsUrl: c.metricsUrl,
    signals,
    pollMs: POLL_MS,
    quiet: quietOf(pipeline, POLL_MS),
    queueUnit: queueUnits(c.config),
    pipeline,
    ...(logs === undefined ? {} : { logs: () => logs(c.name) }),
  });
}

/**
 * How long a signal's pipeline may still hold an item, plus one look. A pipeline fed only by push receivers
 * (OTLP …) got the load's items before the drain began, so its hold counts from the drain's first look; one
 * that reads on its own (Kafka, files, scrapes) may take items in later, so it counts from the last movement.
 */
export function quietOf(pipeline: CollectorPipeline | undefined, pollMs: number): (signal: Signal) => Quiet {
  return (signal) => {
    if (pipeline === undefined) return { ms: UNKNOWN_HOLD_MS + pollMs, from: 'last-movement' };
    const receivers = pipeline.receivers[signal] ?? [];
    const pushed = receivers.length > 0 && receivers.every((r) => PUSH_RECEIVERS.has(r.split('/')[0]!));
    return { ms: (pipeline.holdMs[signal] ?? 0) + pollMs, from: pushed ? 'first-look' : 'last-movement' };
  };
}

/** Receivers that only take what is sent to them. */
const PUSH_RECEIVERS = new Set(['otlp', 'jaeger', 'zipkin', 'opencensus']);
