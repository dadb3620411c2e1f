import type { CollectorRole } from '../stack/stack.js';
import type { SignalBackend } from '../verify/backends/backend.js';

/**
 * How long a backend's count below the expected must hold still before the drain takes it as final. Without
 * an unseen holder on the way (a collector whose configuration or metrics the harness lacks could hold a
 * trace for a tail sampler's 30 s default decision_wait, unseen by its drain condition), the backend's own
 * count lag is enough: every collector's condition already waited out its pipeline's holds.
 */
export const UNSEEN_PIPELINE_SETTLE_MS = 30_000;

export function settleMsOf(
  backend: Pick<SignalBackend, 'countLagMs'> | undefined,
  collectors: readonly Pick<CollectorRole, 'config' | 'metricsUrl'>[],
): number {
  const lag = backend?.countLagMs ?? UNSEEN_PIPELINE_SETTLE_MS;
  const unseen = collectors.some((c) => c.config === undefined || c.metricsUrl === undefined);
  return unseen ? Math.max(lag, UNSEEN_PIPELINE_SETTLE_MS) : lag;
}
