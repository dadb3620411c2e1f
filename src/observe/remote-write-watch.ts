import { PolledCounters, type WatchSource } from './counter-watch-base.js';
import { sumOf, type Sample } from './prometheus-text.js';

/** What Prometheus's remote write has done since the watch began, by its own counters (restarts joined). */
export interface RemoteWriteState {
  /** Samples sent (prometheus_remote_storage_samples_total): every job's, its own scrapes included. */
  sent: number;
  /** Samples it gave up on a non-recoverable error (samples_failed_total). */
  failed: number;
  /** Samples it sent again after a recoverable error (samples_retried_total). */
  retried: number;
  /** Samples it read from its WAL and did not send: relabelled away, too old, unknown series (samples_dropped_total). */
  dropped: number;
  /** Samples read from its WAL and not sent yet, now (samples_pending). */
  pending: number;
  /** Shards sending now (each sends its series in the order it stored them); undefined when not exposed. */
  shards: number | undefined;
  /** Newest sample timestamp it stored (s), and newest it sent (s): the difference is how far it is behind. */
  highestStoredS: number | undefined;
  highestSentS: number | undefined;
  restarts: number;
}

const SENT = /^prometheus_remote_storage_samples_total$/;
const FAILED = /^prometheus_remote_storage_samples_failed_total$/;
const RETRIED = /^prometheus_remote_storage_samples_retried_total$/;
const DROPPED = /^prometheus_remote_storage_samples_dropped_total$/;
const PENDING = /^prometheus_remote_storage_samples_pending$/;
const HIGHEST_STORED = /^prometheus_remote_storage_highest_timestamp_in_seconds$/;
const HIGHEST_SENT = /^prometheus_remote_storage_queue_highest_sent_timestamp_seconds$/;
const STARTED = /^process_start_time_seconds$/;
const SHARDS = /^prometheus_remote_storage_shards$/;

/**
 * Reads Prometheus's remote-write counters of one queue (`remote_name`) every `pollMs`, joined across
 * restarts (its start time moving on), so that what it sent before a restart still counts.
 */
export class RemoteWriteWatch extends PolledCounters {
  private gauges: Pick<RemoteWriteState, 'pending' | 'shards' | 'highestStoredS' | 'highestSentS'> | undefined;

  constructor(
    private readonly options: WatchSource & {
      /** The queue's `remote_name` (its `name:` in remote_write). */
      queue: string;
    },
  ) {
    super(options);
  }

  /** One reading; false when Prometheus exposes no counters of the queue (no such remote_write, or not up). */
  protected take(samples: readonly Sample[], nowMs: number): boolean {
    const where = { remote_name: this.options.queue };
    if (!samples.some((s) => SENT.test(s.name) && s.labels.remote_name === this.options.queue)) return false;
    const started = samples.find((s) => STARTED.test(s.name))?.value;
    this.segments.add({
      atMs: nowMs,
      values: {
        sent: sumOf(samples, SENT, where),
        failed: sumOf(samples, FAILED, where),
        retried: sumOf(samples, RETRIED, where),
        dropped: sumOf(samples, DROPPED, where),
      },
      uptimeS: started === undefined ? undefined : nowMs / 1000 - started,
    });
    const sent = samples.find((s) => HIGHEST_SENT.test(s.name) && s.labels.remote_name === this.options.queue);
    const stored = samples.filter((s) => HIGHEST_STORED.test(s.name)).map((s) => s.value);
    const shards = samples.find((s) => SHARDS.test(s.name) && s.labels.remote_name === this.options.queue);
    this.gauges = {
      pending: sumOf(samples, PENDING, where),
      shards: shards?.value,
      highestStoredS: stored.length === 0 ? undefined : Math.max(...stored),
      highestSentS: sent === undefined || sent.value === 0 ? undefined : sent.value,
    };
    return true;
  }

  /** What it did since the first reading; undefined before any. */
  state(): RemoteWriteState | undefined {
    const first = this.segments.earliest;
    if (first === undefined || this.gauges === undefined) return undefined;
    const d = (k: string) => this.segments.delta(k) ?? 0;
    return {
      sent: d('sent'),
      failed: d('failed'),
      retried: d('retried'),
      dropped: d('dropped'),
      ...this.gauges,
      restarts: this.segments.restarts,
    };
  }
}
