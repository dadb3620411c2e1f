import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { METRIC_NAME, tickTimeMs, type MetricShape, type MetricTimeline } from '../../../generators/index.js';
import { Histogram, type Percentiles } from '../../stats/histogram.js';
import type { Ledger } from '../ledger.js';
import type { LiveCounters } from '../live-counters.js';

/** What one armed load asks the targets to serve. */
export interface ScrapeLoad {
  runId: string;
  shape: MetricShape;
  timeline: MetricTimeline;
  ledger: Ledger;
  live: LiveCounters;
  /** The load's start (ledger times count from it). */
  startMs: number;
}

/** What the targets did for one load. */
export interface ScrapeReport {
  targets: number;
  /** Scrapes answered with the run's series, and those among them that carried a new tick. */
  scrapes: number;
  scrapesWithNewTick: number;
  /** Samples served (each once: a tick served again adds nothing). */
  samplesServed: number;
  /** Ticks of a target that came due and were never served: no scrape while they were the latest. */
  ticksMissed: number;
  ticksDue: number;
  /** How long after its due time each tick was first served (ms). */
  serveLagMs: Percentiles;
  lastServedAtMs: number;
}

interface TargetState {
  /** Series [from, to) of this target. */
  from: number;
  to: number;
  lastTick: number;
  /** The exposition of `lastTick`, built once: scrapes before the next tick serve it again. */
  body?: string;
}

/**
 * Prometheus-format targets served by the harness (`--metric-source scrape`): each of `count` targets owns
 * a block of the run's metric series and, at each scrape, serves them at the newest tick that came due —
 * every sample a unique value (its seq) at its tick's time as an explicit timestamp — so a scraper stores
 * exactly what was served, and each tick is recorded in the ledger the first time it is served
 * ("acknowledged" = served to a scraper). A scrape before the next tick is due serves the same samples
 * again, which a TSDB keeps once. Ticks no scrape came for are not served: missed scrapes, counted apart
 * from loss. Between loads the targets answer with no series.
 */
export class ScrapeTargets {
  /** False while a fault holds them down: every scrape is answered 503 and nothing is served. */
  serving = true;
  private readonly servers: Server[] = [];
  /** Scrapes each target answered with 200, armed or not (a scraper that has begun to scrape it). */
  private readonly answered: number[] = [];
  private load:
    (ScrapeLoad & { states: TargetState[]; lag: Histogram; report: Omit<ScrapeReport, 'serveLagMs'> }) | undefined;

  private constructor(
    readonly host: string,
    readonly count: number,
  ) {}

  /** Listens on `host` (an address the scraper's containers reach), one port per target. */
  static async listen(host: string, count: number): Promise<ScrapeTargets> {
    const t = new ScrapeTargets(host, count);
    for (let i = 0; i < count; i++) {
      const server = createServer((req, res) => {
        if (req.url?.split('?')[0] !== '/metrics') {
          res.writeHead(404).end();
          return;
        }
        if (!t.serving) {
          res.writeHead(503, { 'content-type': 'text/plain' }).end('down (otel-harness chaos)\n');
          return;
        }
        t.answered[i] = (t.answered[i] ?? 0) + 1;
        const body = t.serve(i);
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, host, () => resolve());
      });
      t.servers.push(server);
    }
    return t;
  }

  /**
   * Until every target has been scraped once: a scraper's first scrape comes a while after it starts (its
   * scrape manager applies new targets every 5 s), and a load started before it would see its first ticks
   * missed. False when `timeoutMs` passed first.
   */
  async waitScraped(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      signal?.throwIfAborted();
      if (this.servers.every((_, i) => (this.answered[i] ?? 0) > 0)) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  }

  /** The targets' host:port. */
  addresses(): string[] {
    return this.servers.map((s) => `${this.host}:${(s.address() as AddressInfo).port}`);
  }

  ports(): number[] {
    return this.servers.map((s) => (s.address() as AddressInfo).port);
  }

  /** Starts serving a load's series. */
  arm(load: ScrapeLoad): void {
    const S = load.shape.series;
    const states = Array.from({ length: this.count }, (_, i) => ({
      from: Math.floor((i * S) / this.count),
      to: Math.floor(((i + 1) * S) / this.count),
      lastTick: -1,
    }));
    this.load = {
      ...load,
      states,
      lag: new Histogram(),
      report: {
        targets: this.count,
        scrapes: 0,
        scrapesWithNewTick: 0,
        samplesServed: 0,
        ticksMissed: 0,
        ticksDue: 0,
        lastServedAtMs: 0,
      },
    };
  }

  /** Stops serving new ticks; what was served, and the ticks that came due before `endMs` but were never served. */
  disarm(endMs: number): ScrapeReport | undefined {
    const load = this.load;
    this.load = undefined;
    if (load === undefined) return undefined;
    const due = this.latestDue(load, endMs);
    for (const s of load.states) {
      if (s.to <= s.from) continue;
      load.report.ticksDue += due + 1;
      load.report.ticksMissed += due - s.lastTick;
    }
    return { ...load.report, serveLagMs: load.lag.percentiles() };
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  /** The newest tick whose time has come (−1 before the first). */
  private latestDue(load: NonNullable<ScrapeTargets['load']>, nowMs: number): number {
    const last = Math.floor((load.timeline.durationMs / 1000) * (load.timeline.rate / load.shape.series)) + 1;
    let lo = -1;
    let hi = last;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      const t = tickTimeMs(mid, load.shape, load.timeline);
      if (t <= nowMs && t < load.timeline.startMs + load.timeline.durationMs) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private serve(target: number): string {
    const load = this.load;
    if (load === undefined) return '';
    const state = load.states[target]!;
    if (state.to <= state.from) return '';
    const now = Date.now();
    load.report.scrapes++;
    const due = this.latestDue(load, now);
    if (due > state.lastTick) {
      load.report.ticksMissed += due - state.lastTick - 1;
      const S = load.shape.series;
      const first = due * S + state.from;
      const n = state.to - state.from;
      load.ledger.record('metrics', { first, count: n, outcome: 'acknowledged', atMs: now - load.startMs });
      load.live.add('metrics', 'acknowledged', n);
      load.report.scrapesWithNewTick++;
      load.report.samplesServed += n;
      load.report.lastServedAtMs = now - load.startMs;
      load.lag.record(now - tickTimeMs(due, load.shape, load.timeline));
      state.lastTick = due;
      state.body = undefined;
    }
    if (state.lastTick < 0) return '';
    return (state.body ??= exposition(
      load.runId,
      state,
      load.shape.series,
      tickTimeMs(state.lastTick, load.shape, load.timeline),
    ));
  }
}

/** A target's series at its last tick: each sample its seq, at the tick's time (ms) as an explicit timestamp. */
function exposition(runId: string, state: TargetState, series: number, atMs: number): string {
  const lines = [`# TYPE ${METRIC_NAME} gauge`];
  for (let s = state.from; s < state.to; s++)
    lines.push(`${METRIC_NAME}{run_id="${runId}",series="${s}"} ${state.lastTick * series + s} ${atMs}`);
  return `${lines.join('\n')}\n`;
}
