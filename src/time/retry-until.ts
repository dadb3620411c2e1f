import { systemClock, type Clock } from './clock.js';

export interface RetryOptions {
  timeoutMs: number;
  intervalMs: number;
  clock?: Clock;
  signal?: AbortSignal;
}

export type RetryOutcome<T> =
  | { status: 'done'; value: T; elapsedMs: number; attempts: number }
  | { status: 'timeout'; last: T | undefined; lastError: unknown; elapsedMs: number; attempts: number };

/**
 * Calls `attempt` until `done(value)` holds or `timeoutMs` passes, pausing `intervalMs` between attempts.
 * A thrown attempt counts as not done (its error is kept). A `stop(value)` that holds ends early as timeout.
 */
export async function retryUntil<T>(
  attempt: () => Promise<T>,
  done: (value: T) => boolean,
  options: RetryOptions & { stop?: (value: T) => boolean },
): Promise<RetryOutcome<T>> {
  const clock = options.clock ?? systemClock;
  const start = clock.now();
  let last: T | undefined;
  let lastError: unknown;
  let attempts = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    attempts++;
    try {
      last = await attempt();
      lastError = undefined;
      if (done(last)) return { status: 'done', value: last, elapsedMs: clock.now() - start, attempts };
      if (options.stop?.(last) === true) break;
    } catch (err) {
      lastError = err;
    }
    if (clock.now() - start + options.intervalMs > options.timeoutMs) break;
    await clock.sleep(options.intervalMs, options.signal);
  }
  return { status: 'timeout', last, lastError, elapsedMs: clock.now() - start, attempts };
}
