import type { RemoteWriteState, RemoteWriteWatch } from './remote-write-watch.js';
import type { StackObservation } from './observer.js';
import { count as n } from '../format.js';
import { SampledObserver } from './sampled-observer.js';

/**
 * `--remote-write mimir`: Prometheus's remote write from the load's start until after the drain — samples
 * sent, failed, retried and dropped (its own counters, restarts joined), and every second what it holds
 * (samples pending) and how far behind what it stored it is.
 */
export class RemoteWriteObserver extends SampledObserver {
  private base: RemoteWriteState | undefined;
  private peakPending = 0;
  private peakBehindS = 0;

  constructor(
    private readonly watch: RemoteWriteWatch,
    private readonly names: { sender: string; receiver: string },
    now: () => number = Date.now,
  ) {
    super(now);
  }

  // The watch reads Prometheus every second on its own: each reading records what it last read.
  protected begin(): void {
    this.base = this.watch.state();
  }

  protected sample(): void {
    const s = this.watch.state();
    if (s === undefined) return;
    const behindS =
      s.highestStoredS === undefined || s.highestSentS === undefined
        ? 0
        : Math.max(0, s.highestStoredS - s.highestSentS);
    this.peakPending = Math.max(this.peakPending, s.pending);
    this.peakBehindS = Math.max(this.peakBehindS, behindS);
    this.record({ sent: s.sent - (this.base?.sent ?? 0), pending: s.pending, behindS });
  }

  protected async finish(): Promise<StackObservation> {
    // One last reading of its own, so the figures are as of the drain's end.
    await this.watch.poll().catch(() => false);
    this.sample();
    const s = this.watch.state();
    const { sender, receiver } = this.names;
    const title = `${sender} remote write to ${receiver}`;
    if (s === undefined)
      return {
        name: 'remote-write',
        title,
        lines: [`${sender} exposed no counters of its remote write to ${receiver}: what it sent is not observable.`],
        figures: {},
        series: this.series,
      };
    const b = this.base;
    const d = (k: 'sent' | 'failed' | 'retried' | 'dropped') => s[k] - (b?.[k] ?? 0);
    const restarts = s.restarts - (b?.restarts ?? 0);
    const figures = {
      samplesSent: d('sent'),
      samplesFailed: d('failed'),
      samplesRetried: d('retried'),
      samplesDropped: d('dropped'),
      peakPending: this.peakPending,
      peakBehindSeconds: Math.round(this.peakBehindS),
      restarts,
    };
    const lines = [
      `${sender} sent ${n(figures.samplesSent)} samples to ${receiver} (every job's, its own scrapes included: its counters` +
        `${restarts > 0 ? `, joined across ${restarts} restart(s): what it sent just before each is not counted` : ''}); ` +
        `retried ${n(figures.samplesRetried)} after recoverable errors (5xx, 429, no connection), ` +
        `dropped ${n(figures.samplesDropped)} read from its WAL and not sent.`,
      `Its queue peaked at ${n(this.peakPending)} samples pending, ${n(this.peakBehindS)} s behind what it stored.`,
    ];
    if (figures.samplesFailed > 0)
      lines.push(
        `Failed: ${n(figures.samplesFailed)} samples in batches ${receiver} refused with a 4xx, not sent again. ${sender} counts a ` +
          `whole batch as failed when ${receiver} refuses any of its series (it keeps the valid ones): what ${receiver} ` +
          `dropped is in its own discard counters below; the run's own samples are counted exactly above.`,
      );
    return { name: 'remote-write', title, lines, figures, series: this.series };
  }
}
