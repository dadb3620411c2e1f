import type { FaultTarget } from '../stack/stack.js';
import { retryUntil } from '../time/retry-until.js';
import type { ChaosFault } from './chaos-plan.js';
import { FAULTS } from './faults/registry.js';

/** What happened when a fault was applied; times are ms into the load. */
export interface ChaosEvent {
  spec: string;
  action: ChaosFault['action'];
  target: string;
  plannedAtMs: number;
  startedAtMs: number | undefined;
  /** When the fault was lifted (container started, unpaused, reconnected, unthrottled). */
  endedAtMs: number | undefined;
  /** When the target answered its readiness check again (after kill, restart, outage). */
  readyAtMs: number | undefined;
  error: string | undefined;
  /** scale: containers started and removed, and when the stack routed to / rebalanced onto the new set. */
  scaled?: { started: string[]; removed: string[]; settledAtMs: number };
}

const READY_TIMEOUT_MS = 120_000;

/**
 * Applies a schedule of faults to a running stack through its fault capability, relative to `loadStartMs`.
 * `undo()` lifts every active fault (unpause, reconnect, restore CPU) — called when the run is interrupted.
 */
export class ChaosRunner {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running: Promise<void>[] = [];
  /** How to lift each fault that holds now (paused, disconnected, throttled), should the run be interrupted. */
  private readonly holds = new Set<() => Promise<unknown>>();
  readonly events: ChaosEvent[];

  constructor(
    private readonly target: FaultTarget,
    private readonly faults: readonly ChaosFault[],
    private readonly progress: (message: string) => void,
    /** Called just before a fault stops a process (a last reading of its counters). */
    private readonly beforeStop: () => Promise<void> = () => Promise.resolve(),
  ) {
    this.events = faults.map((f) => ({
      spec: f.spec,
      action: f.action,
      target: f.target,
      plannedAtMs: f.atMs,
      startedAtMs: undefined,
      endedAtMs: undefined,
      readyAtMs: undefined,
      error: undefined,
    }));
  }

  start(loadStartMs: number, abort: AbortSignal): this {
    const now = () => Date.now() - loadStartMs;
    this.faults.forEach((fault, i) => {
      const timer = setTimeout(
        () => {
          if (abort.aborted) return;
          this.running.push(this.apply(fault, this.events[i]!, now, abort));
        },
        Math.max(0, loadStartMs + fault.atMs - Date.now()),
      );
      this.timers.push(timer);
    });
    return this;
  }

  /** Waits for every started fault to finish (its container back). */
  async settled(): Promise<void> {
    await Promise.all(this.running);
  }

  /** Applies one fault through its module (src/chaos/faults/), recording its course in `event`. */
  private async apply(fault: ChaosFault, event: ChaosEvent, now: () => number, abort: AbortSignal): Promise<void> {
    const started = now();
    event.startedAtMs = started;
    this.progress(`chaos: ${fault.spec}`);
    try {
      const kind = FAULTS[fault.action];
      if (kind === undefined) throw new Error(`no fault module for ${fault.action}`);
      await kind.apply({
        target: this.target,
        id: fault.target,
        durationMs: fault.durationMs,
        value: fault.value,
        now,
        sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
        beforeStop: this.beforeStop,
        waitReady: () => this.waitReady(fault.target, now, abort),
        holding: (lift) => {
          this.holds.add(lift);
          return () => this.holds.delete(lift);
        },
        lifted: () => (event.endedAtMs = now()),
        ready: (atMs) => (event.readyAtMs = atMs),
        scaled: (r) => {
          event.scaled = { started: r.started, removed: r.removed, settledAtMs: started + r.settledMs };
          event.readyAtMs = event.scaled.settledAtMs;
        },
      });
      this.progress(
        `chaos: ${fault.spec} done${event.readyAtMs === undefined ? '' : `, ${fault.target} ready again at ${(event.readyAtMs / 1000).toFixed(1)} s`}`,
      );
    } catch (err) {
      event.error = err instanceof Error ? err.message : String(err);
      this.progress(`chaos: ${fault.spec} failed: ${event.error}`);
    }
  }

  /** Polls the target's readiness check. */
  private async waitReady(target: string, now: () => number, abort: AbortSignal): Promise<number | undefined> {
    const outcome = await retryUntil(
      () => this.target.ready(target),
      (ready) => ready,
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 250, signal: abort },
    ).catch(() => undefined);
    return outcome?.status === 'done' ? now() : undefined;
  }

  /** Lifts every fault that holds: cancels the rest of the schedule, unpauses, reconnects, restores CPU. */
  async undo(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    await Promise.all([...this.holds].map((lift) => lift().catch(() => undefined)));
    this.holds.clear();
  }
}
