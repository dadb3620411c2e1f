import type { Signal } from '../load/ledger.js';
import type { StackObservation, StackObserver } from './observer.js';
import { lagTotals, type KafkaLagReader } from './kafka-lag.js';
import { scrape, sumBy } from './prometheus-text.js';

/**
 * About every 2 s, jittered: consumers commit on a fixed period (autocommit, 1 s), and a reading in step
 * with it would see the same phase of the commit cycle every time (measured: 64 readings of 0 in a row).
 */
const POLL_MS = 2_000;
const JITTER_MS = 700;

/**
 * Consumer lag through a run: per consumer group and topic, read with a Kafka admin client (log end −
 * committed offset, every partition) every 2 s, beside the Kafka receivers' own lag gauge
 * (`otelcol_kafka_receiver_offset_lag`, summed over partitions and processors) as a cross-check. Reports
 * the peak, the lag when the load ended and how long it took to reach 0 after that. Lag 0 is not proof of
 * export: the verifiers decide what arrived.
 */
export class KafkaLagObserver implements StackObserver {
  private timer: NodeJS.Timeout | undefined;
  private loadStartMs = 0;
  private loadEndMs: number | undefined;
  private readonly series: StackObservation['series'] = [];
  private readonly receiverSeries: StackObservation['series'] = [];
  private failures = 0;
  private lastError: string | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly reader: KafkaLagReader,
    /** The processors' /metrics URLs (their receivers' own lag gauge). */
    private readonly receiverMetrics: () => readonly string[],
    private readonly signals: readonly Signal[],
  ) {}

  start(loadStartMs: number): void {
    this.loadStartMs = loadStartMs;
    const tick = () => {
      this.inFlight = this.read();
    };
    const next = () => {
      this.timer = setTimeout(
        () => {
          if (this.stopped) return;
          tick();
          next();
        },
        POLL_MS - JITTER_MS / 2 + Math.random() * JITTER_MS,
      );
    };
    tick();
    next();
  }

  loadEnded(): void {
    this.loadEndMs = Date.now() - this.loadStartMs;
  }

  private async read(): Promise<void> {
    const atMs = Date.now() - this.loadStartMs;
    try {
      this.series.push({ atMs, values: lagTotals(await this.reader.read()) });
    } catch (err) {
      this.failures++;
      this.lastError = (err as Error).message;
    }
    const byTopic: Record<string, number> = {};
    for (const url of this.receiverMetrics()) {
      try {
        for (const [topic, lag] of Object.entries(
          sumBy(await scrape(url, 2_000), /^otelcol_kafka_receiver_offset_lag$/, 'topic'),
        ))
          byTopic[topic] = (byTopic[topic] ?? 0) + Math.max(0, lag);
      } catch {
        // a processor restarting (chaos): its gauge is missing from this reading
      }
    }
    this.receiverSeries.push({ atMs, values: byTopic });
  }

  async stop(): Promise<StackObservation> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.inFlight;
    await this.reader.close();
    return summarizeLag(this.series, this.receiverSeries, this.loadEndMs, this.signals, this.failures, this.lastError);
  }
}

/** Peak, lag at the load's end and time to 0 after it, per group/topic (pure, for tests). */
export function summarizeLag(
  series: StackObservation['series'],
  receiverSeries: StackObservation['series'],
  loadEndMs: number | undefined,
  signals: readonly Signal[],
  failures = 0,
  lastError?: string,
): StackObservation {
  const keys = [...new Set(series.flatMap((r) => Object.keys(r.values)))].sort();
  const figures: Record<string, number> = {};
  const lines: string[] = [];
  for (const key of keys) {
    let peak = 0;
    let peakAt = 0;
    for (const r of series) {
      const v = r.values[key] ?? 0;
      if (v > peak) {
        peak = v;
        peakAt = r.atMs;
      }
    }
    const atEnd = loadEndMs === undefined ? undefined : series.find((r) => r.atMs >= loadEndMs)?.values[key];
    const zeroAfter =
      loadEndMs === undefined ? undefined : series.find((r) => r.atMs >= loadEndMs && (r.values[key] ?? 0) === 0);
    const topic = key.split('/')[1] ?? key;
    const receiverPeak = Math.max(0, ...receiverSeries.map((r) => r.values[topic] ?? 0));
    figures[`${key} peak`] = peak;
    figures[`${key} receivers' peak`] = receiverPeak;
    if (atEnd !== undefined) figures[`${key} at load end`] = atEnd;
    if (zeroAfter !== undefined && loadEndMs !== undefined)
      figures[`${key} ms to 0 after load`] = zeroAfter.atMs - loadEndMs;
    lines.push(
      `${key}: peak ${peak} message(s) at ${(peakAt / 1000).toFixed(0)} s into the load` +
        (atEnd === undefined ? '' : `, ${atEnd} when the load ended`) +
        (zeroAfter === undefined || loadEndMs === undefined
          ? loadEndMs === undefined
            ? ''
            : ', not back to 0 while watched'
          : `, 0 ${((zeroAfter.atMs - loadEndMs) / 1000).toFixed(1)} s after it`) +
        ` (the receivers' own offset_lag, fetched but not yet processed, peaked at ${receiverPeak})`,
    );
  }
  if (keys.length === 0)
    lines.push(`no lag could be read for ${signals.join(', ')}${lastError === undefined ? '' : `: ${lastError}`}`);
  else if (failures > 0) lines.push(`${failures} reading(s) failed (last: ${lastError ?? '?'})`);
  lines.push(
    'Lag 0 means the processors read everything; whether they exported it is what the verification above says.',
  );
  return { name: 'kafka-lag', title: 'Kafka consumer lag', lines, figures, series };
}
