import { CounterSegments } from './counter-segments.js';
import { scrape, type Sample } from './prometheus-text.js';

/** Where a watch reads a process's /metrics, how often, and (tests) how it reads them and tells the time. */
export interface WatchSource {
  metricsUrl: string;
  pollMs: number;
  read?: () => Promise<Sample[]>;
  now?: () => number;
}

/**
 * A process's counters read every `pollMs` from its /metrics while the stack runs, joined across its restarts
 * (CounterSegments), so that what it counted before a kill still counts. A subclass reads its own counters
 * from each scrape in `take`.
 */
export abstract class PolledCounters {
  protected readonly segments = new CounterSegments();
  private timer: NodeJS.Timeout | undefined;

  constructor(protected readonly source: WatchSource) {}

  start(): this {
    this.timer ??= setInterval(() => void this.poll().catch(() => undefined), this.source.pollMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One reading; false when the process exposes none of the counters watched. */
  async poll(): Promise<boolean> {
    const samples = await (this.source.read ?? (() => scrape(this.source.metricsUrl)))();
    return this.take(samples, (this.source.now ?? Date.now)());
  }

  protected abstract take(samples: readonly Sample[], nowMs: number): boolean;
}
