import { collectorMetricNames } from './collector-metrics.js';
import { PolledCounters, type WatchSource } from './counter-watch-base.js';
import { sumOf, type Sample } from './prometheus-text.js';

/** The node agents whose read counters the harness reads. */
export const LOG_AGENTS = ['filelog', 'promtail'] as const;
export type LogAgentKind = (typeof LOG_AGENTS)[number];

/**
 * What an agent that sends on its own (Promtail's client) did with the lines it read, restarts joined: sent
 * to the backend, dropped after its retries (by reason), dropped by a pipeline stage, and batches retried.
 */
export interface AgentPassedOn {
  sent: number;
  dropped: number;
  droppedBy: Record<string, number>;
  filtered: number;
  /** Lines its stages dropped, by their drop_counter_reason. */
  filteredBy: Record<string, number>;
  retries: number;
}

/** How far an agent has read, as its own counters say. */
export interface AgentRead {
  /** Lines its file readers read since the watch began (records its filelog receivers emitted), restarts joined. */
  lines: number;
  /** Files it has open and is reading now; undefined when not exposed. */
  readingFiles: number | undefined;
  restarts: number;
  /** Whether a restart fell between two readings: what it read just before it is not counted. */
  gapAtRestart: boolean;
  /** An agent that sends on its own (Promtail): what became of the lines read; undefined for a collector. */
  passedOn?: AgentPassedOn;
}

/** Where an agent's self-metrics are read (a URL, or a reader for pods behind an API server). */
export type AgentReadSource = Omit<WatchSource, 'pollMs'>;

const UPTIME = /^otelcol_process_uptime(_seconds)?(_total)?$/;
const READING_FILES = /^otelcol_fileconsumer_reading_files$/;

const PROMTAIL = {
  read: /^promtail_read_lines_total$/,
  fileBytes: /^promtail_file_bytes_total$/,
  started: /^process_start_time_seconds$/,
  sent: /^promtail_sent_entries_total$/,
  dropped: /^promtail_dropped_entries_total$/,
  filtered: /^logentry_dropped_lines_total$/,
  retries: /^promtail_batch_retries_total$/,
};

/**
 * Reads an agent's read counters from its start, every `pollMs`, joining them across restarts (its uptime
 * going back), so that the lines it read before a kill still count: the collector's filelog receiver (records
 * its receivers emitted) or Promtail (lines its tailers read, and what its client sent or dropped).
 */
export class AgentReadWatch extends PolledCounters {
  private readingFiles: number | undefined;
  private seen = false;
  /** Promtail: the paths its tailers have open (a series of promtail_file_bytes_total each). */
  private tailed: string[] = [];
  private readonly names = collectorMetricNames('logs');

  constructor(
    private readonly options: WatchSource & {
      /** Which agent's counters (default filelog). */
      kind?: LogAgentKind;
      /** Receivers that read the files, by the `receiver` label (default: filelog and filelog/…). */
      receiver?: RegExp;
    },
  ) {
    super(options);
  }

  get kind(): LogAgentKind {
    return this.options.kind ?? 'filelog';
  }

  /** One reading; false when the agent exposes no read counters. */
  protected take(samples: readonly Sample[], nowMs: number): boolean {
    return this.kind === 'promtail' ? this.takePromtail(samples, nowMs) : this.takeFilelog(samples, nowMs);
  }

  private takeFilelog(samples: readonly Sample[], nowMs: number): boolean {
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

  /**
   * Promtail: its tailers' line counts (one series per file; a tailer that stops takes its series with it, which
   * reads as a restart), its client's sent and dropped entries, the lines its stages dropped. Its uptime from
   * its start time.
   */
  private takePromtail(samples: readonly Sample[], nowMs: number): boolean {
    const started = samples.find((s) => PROMTAIL.started.test(s.name))?.value;
    if (started === undefined || !samples.some((s) => PROMTAIL.sent.test(s.name) || PROMTAIL.read.test(s.name)))
      return false;
    this.seen = true;
    const byReason = (name: RegExp, prefix: string): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const s of samples)
        if (name.test(s.name)) {
          const key = `${prefix}:${s.labels.reason ?? 'unknown'}`;
          out[key] = (out[key] ?? 0) + s.value;
        }
      return out;
    };
    this.segments.add({
      atMs: nowMs,
      values: {
        lines: sumOf(samples, PROMTAIL.read),
        sent: sumOf(samples, PROMTAIL.sent),
        retries: sumOf(samples, PROMTAIL.retries),
        ...byReason(PROMTAIL.dropped, 'dropped'),
        ...byReason(PROMTAIL.filtered, 'filtered'),
      },
      uptimeS: nowMs / 1000 - started,
    });
    // Its active files are every file it tails, idle or not: no count of files being read.
    this.readingFiles = undefined;
    this.tailed = samples.filter((x) => PROMTAIL.fileBytes.test(x.name)).map((x) => x.labels.path ?? '');
    return true;
  }

  /** Promtail: whether its tailers have every one of `paths` open (as it sees them), at the last reading. */
  tails(paths: readonly string[]): boolean {
    return paths.every((p) => this.tailed.includes(p));
  }

  /** What it read since the first reading; undefined before any. */
  read(): AgentRead | undefined {
    if (!this.seen) return undefined;
    const first = this.segments.earliest!;
    const total = (key: string): number => (this.segments.delta(key) ?? 0) + (first.values[key] ?? 0);
    const base: AgentRead = {
      lines: total('lines'),
      readingFiles: this.readingFiles,
      restarts: this.segments.restarts,
      gapAtRestart: this.segments.restarts > 0,
    };
    if (this.kind !== 'promtail') return base;
    const keys = new Set([...Object.keys(first.values), ...Object.keys(this.segments.latest?.values ?? {})]);
    const by = (prefix: string): Record<string, number> =>
      Object.fromEntries(
        [...keys].filter((k) => k.startsWith(`${prefix}:`)).map((k) => [k.slice(prefix.length + 1), total(k)]),
      );
    const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
    const droppedBy = by('dropped');
    const filteredBy = by('filtered');
    return {
      ...base,
      passedOn: {
        sent: total('sent'),
        dropped: sum(droppedBy),
        droppedBy,
        filtered: sum(filteredBy),
        filteredBy,
        retries: total('retries'),
      },
    };
  }
}
