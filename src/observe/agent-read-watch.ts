import { collectorMetricNames } from './collector-metrics.js';
import { PolledCounters, type WatchSource } from './counter-watch-base.js';
import { sumOf, type Sample } from './prometheus-text.js';

/** How far an agent has read, as its own counters say. */
export interface AgentRead {
  /** Records its file receivers emitted since the watch began (accepted or refused after them), restarts joined. */
  lines: number;
  /** Files it has open and is reading now (otelcol_fileconsumer_reading_files); undefined when not exposed. */
  readingFiles: number | undefined;
  restarts: number;
  /** Whether a restart fell between two readings: what it read just before it is not counted. */
  gapAtRestart: boolean;
}

/** Where an agent's self-metrics are read (a URL, or a reader for pods behind an API server). */
export type AgentReadSource = Omit<WatchSource, 'pollMs'>;

const UPTIME = /^otelcol_process_uptime(_seconds)?(_total)?$/;
const READING_FILES = /^otelcol_fileconsumer_reading_files$/;

/**
 * Reads an agent's file receiver counters (the collector's filelog receiver) from its start, every `pollMs`,
 * joining them across restarts (its uptime going back), so that the lines it read before a kill still count.
 */
export class AgentReadWatch extends PolledCounters {
  private readingFiles: number | undefined;
  private seen = false;
  private readonly names = collectorMetricNames('logs');

  constructor(
    private readonly options: WatchSource & {
      /** Receivers that read the files, by the `receiver` label (default: filelog and filelog/…). */
      receiver?: RegExp;
    },
  ) {
    super(options);
  }

  /** One reading; false when the agent exposes no filelog receiver counters. */
  protected take(samples: readonly Sample[], nowMs: number): boolean {
    const receiver = this.options.receiver ?? /^(file_?log)(\/.*)?$/;
    const own = samples.filter(
      (s) =>
        (this.names.receiverAccepted.test(s.name) || this.names.receiverRefused.test(s.name)) &&
        receiver.test(s.labels.receiver ?? ''),
    );
    if (own.length === 0) return false;
    this.seen = true;
    const uptime = samples.find((s) => UPTIME.test(s.name))?.value;
    this.segments.add({
      atMs: nowMs,
      values: { lines: own.reduce((n, s) => n + s.value, 0) },
      uptimeS: uptime,
    });
    this.readingFiles = samples.some((s) => READING_FILES.test(s.name)) ? sumOf(samples, READING_FILES) : undefined;
    return true;
  }

  /** What it read since the first reading; undefined before any. */
  read(): AgentRead | undefined {
    if (!this.seen) return undefined;
    const first = this.segments.earliest!;
    return {
      lines: (this.segments.delta('lines') ?? 0) + (first.values.lines ?? 0),
      readingFiles: this.readingFiles,
      restarts: this.segments.restarts,
      gapAtRestart: this.segments.restarts > 0,
    };
  }
}
