import type { StackObservation, StackObserver } from './observer.js';

/**
 * An observer that records one reading a second from the load's start until after the drain: the timer,
 * the load's start and end, and the series of readings (ms since the load's start) are here; a subclass
 * takes its base at `begin`, a reading at `sample` and writes its section at `finish`.
 */
export abstract class SampledObserver implements StackObserver {
  private timer: NodeJS.Timeout | undefined;
  protected loadStartMs = 0;
  /** When the load ended (the clock's time), once it did. */
  protected loadEndMs: number | undefined;
  protected readonly series: StackObservation['series'] = [];

  constructor(
    protected readonly now: () => number = Date.now,
    private readonly pollMs = 1_000,
  ) {}

  start(loadStartMs: number): void {
    this.loadStartMs = loadStartMs;
    this.begin();
    this.timer = setInterval(() => this.sample(), this.pollMs);
    this.timer.unref();
  }

  loadEnded(): void {
    this.loadEndMs = this.now();
  }

  stop(): Promise<StackObservation> {
    clearInterval(this.timer);
    this.timer = undefined;
    return this.finish();
  }

  /** Records one reading at the time since the load's start. */
  protected record(values: Record<string, number>): void {
    this.series.push({ atMs: this.now() - this.loadStartMs, values });
  }

  protected abstract begin(): void;
  protected abstract sample(): void;
  protected abstract finish(): Promise<StackObservation>;
}
