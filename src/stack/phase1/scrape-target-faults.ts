import type { ScrapeTargets } from '../../load/scrape/scrape-targets.js';
import type { FaultTarget } from '../stack.js';

/** The harness's scrape targets as a fault target (`--metric-source scrape`), and its alias. */
export const SCRAPE_TARGETS = 'scrape-targets';
export const SCRAPE_TARGETS_ALIAS = 'targets';

/**
 * The stack's fault targets plus the harness's scrape targets: stopping, killing, pausing or cutting them
 * off makes every target answer 503 (a target that is down: the scraper records `up` 0 and stores nothing)
 * until they are started again, as an application restarting behind its /metrics. Ticks that came due
 * meanwhile and were no longer the newest when scraping resumed are missed, never lost.
 */
export class ScrapeTargetFaults implements FaultTarget {
  constructor(
    private readonly inner: FaultTarget,
    private readonly targetsServed: ScrapeTargets,
  ) {}

  targets(): readonly string[] {
    return [...this.inner.targets(), SCRAPE_TARGETS, SCRAPE_TARGETS_ALIAS];
  }

  resolve(target: string): string {
    return target === SCRAPE_TARGETS || target === SCRAPE_TARGETS_ALIAS ? SCRAPE_TARGETS : this.inner.resolve(target);
  }

  private ours(target: string): boolean {
    return this.resolve(target) === SCRAPE_TARGETS;
  }

  kill(target: string): Promise<void> {
    return this.ours(target) ? this.down() : this.inner.kill(target);
  }

  stop(target: string, graceSeconds: number): Promise<void> {
    return this.ours(target) ? this.down() : this.inner.stop(target, graceSeconds);
  }

  start(target: string): Promise<void> {
    return this.ours(target) ? this.up() : this.inner.start(target);
  }

  pause(target: string): Promise<void> {
    return this.ours(target) ? this.down() : this.inner.pause(target);
  }

  unpause(target: string): Promise<void> {
    return this.ours(target) ? this.up() : this.inner.unpause(target);
  }

  disconnect(target: string): Promise<void> {
    return this.ours(target) ? this.down() : this.inner.disconnect(target);
  }

  connect(target: string): Promise<void> {
    return this.ours(target) ? this.up() : this.inner.connect(target);
  }

  throttle(target: string, cpus: number): Promise<number> {
    if (this.ours(target))
      return Promise.reject(new Error('the scrape targets run in the harness: they cannot be throttled'));
    return this.inner.throttle(target, cpus);
  }

  ready(target: string): Promise<boolean> {
    return this.ours(target) ? Promise.resolve(this.targetsServed.serving) : this.inner.ready(target);
  }

  private down(): Promise<void> {
    this.targetsServed.serving = false;
    return Promise.resolve();
  }

  private up(): Promise<void> {
    this.targetsServed.serving = true;
    return Promise.resolve();
  }
}
