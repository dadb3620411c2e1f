import { collectorDrainCondition } from '../drain/collector-condition.js';
import type { DrainCondition } from '../drain/drain.js';
import type { Signal } from '../load/ledger.js';
import { queueUnits } from './collector-config.js';
import { collectorPipelineOf } from './collector-pipeline.js';
import type { CollectorRole } from './stack.js';

/**
 * A drain condition per collector whose metrics the harness reads, knowing from its configuration what its
 * queues count and how many items a request carries, and — with `logs` — why its exports fail.
 */
export function collectorConditions(
  collectors: readonly CollectorRole[],
  signals: readonly Signal[],
  pollMs: number,
  logs?: (collector: string) => Promise<string[]>,
): DrainCondition[] {
  return collectors.flatMap((c) =>
    c.metricsUrl === undefined
      ? []
      : [
          collectorDrainCondition({
            name: c.name,
            metricsUrl: c.metricsUrl,
            signals,
            pollMs,
            queueUnit: queueUnits(c.config),
            pipeline: collectorPipelineOf(c.config),
            ...(logs === undefined ? {} : { logs: () => logs(c.name) }),
          }),
        ],
  );
}
