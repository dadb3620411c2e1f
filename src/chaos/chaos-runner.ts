import type { FaultTarget } from '../stack/stack.js';
import { retryUntil } from '../time/retry-until.js';
import type { ChaosFault } from './chaos-plan.js';

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
  private readonly paused = new Set<string>();
  private readonly disconnected = new Set<string>();
  private readonly throttled = new Map<string, number>();
  private readonly stopped = new Set<string>();
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

  private async apply(fault: ChaosFault, event: ChaosEvent, now: () => number, abort: AbortSignal): Promise<void> {
    const t = this.target;
    const id = fault.target;
    const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
    event.startedAtMs = now();
    this.progress(`chaos: ${fault.spec}`);
    try {
      switch (fault.action) {
        case 'kill':
        case 'restart':
        case 'outage':
          await this.beforeStop().catch(() => undefined);
          if (fault.action === 'kill') {
            await t.kill(id);
            this.stopped.add(id);
          } else {
            this.stopped.add(id);
            await t.stop(id, fault.action === 'restart' ? (fault.value ?? 30) : 10);
          }
          // A kill stays down for its duration if it has one; a graceful restart comes straight back.
          if (fault.action !== 'restart' && fault.durationMs > 0) await pause(fault.durationMs);
          await t.start(id);
          this.stopped.delete(id);
          event.endedAtMs = now();
          event.readyAtMs = await this.waitReady(fault.target, now, abort);
          break;
        case 'pause':
          await t.pause(id);
          this.paused.add(id);
          await pause(fault.durationMs);
          await t.unpause(id);
          this.paused.delete(id);
          event.endedAtMs = now();
          break;
        case 'partition': {
          await t.disconnect(id);
          this.disconnected.add(id);
          await pause(fault.durationMs);
          await t.connect(id);
          this.disconnected.delete(id);
          event.endedAtMs = now();
          event.readyAtMs = await this.waitReady(fault.target, now, abort);
          break;
        }
        case 'scale': {
          if (t.scale === undefined) throw new Error(`this stack cannot scale ${id}`);
          await this.beforeStop().catch(() => undefined);
          const r = await t.scale(id, fault.value ?? 1);
          event.endedAtMs = now();
          event.scaled = { started: r.started, removed: r.removed, settledAtMs: event.startedAtMs + r.settledMs };
          event.readyAtMs = event.scaled.settledAtMs;
          break;
        }
        case 'throttle': {
          this.throttled.set(id, await t.throttle(id, fault.value ?? 1));
          await pause(fault.durationMs);
          await t.throttle(id, this.throttled.get(id) ?? 0);
          this.throttled.delete(id);
          event.endedAtMs = now();
          break;
        }
      }
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

  /** Lifts every active fault: cancels the rest of the schedule, unpauses, reconnects, restores, starts. */
  async undo(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    const ops: Promise<unknown>[] = [];
    for (const target of this.paused) ops.push(this.target.unpause(target).catch(() => undefined));
    for (const target of this.disconnected) ops.push(this.target.connect(target).catch(() => undefined));
    for (const [target, cpus] of this.throttled) ops.push(this.target.throttle(target, cpus).catch(() => undefined));
    await Promise.all(ops);
    this.paused.clear();
  }
}
