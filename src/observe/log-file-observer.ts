import type { ContainerLogStats } from '../load/files/container-log-writer.js';
import type { AgentRead, AgentReadWatch } from './agent-read-watch.js';
import type { StackObservation } from './observer.js';
import { count as n } from '../format.js';
import { SampledObserver } from './sampled-observer.js';

/** What the observer needs of the files: the writers' totals (load and canaries) and where they are. */
export interface LogFileSource {
  /** The load's and the canaries' writers' totals, summed. */
  written(): ContainerLogStats;
  /** e.g. 'cri files at /var/log/pods/…/0.log, rotated at 10 MiB keeping 5'. */
  describe: string;
  agent: string;
  /**
   * Other files the agent reads as well (Phase 3: the node's other pods' logs), which its count includes: lines
   * read beyond those written are then not all read again, and the read lag is a lower bound.
   */
  otherFiles?: string;
}

/**
 * `--log-source file`: what the harness wrote into the container log files and how far the node agent read
 * them, from the load's start until after the drain — its read lag (lines written and not yet read) every
 * second, rotations, lines in files the rotation deleted, and lines the agent read more than once.
 */
export class LogFileObserver extends SampledObserver {
  private base: { written: ContainerLogStats; read: AgentRead | undefined } | undefined;
  private peakLag = 0;

  constructor(
    private readonly source: LogFileSource,
    private readonly watch: AgentReadWatch,
    now: () => number = Date.now,
  ) {
    super(now);
  }

  protected begin(): void {
    this.base = { written: this.source.written(), read: this.watch.read() };
  }

  private delta(): { written: ContainerLogStats; read: AgentRead | undefined } {
    const w = this.source.written();
    const b = this.base!.written;
    const r = this.watch.read();
    const read =
      r === undefined
        ? undefined
        : {
            ...r,
            lines: r.lines - (this.base!.read?.lines ?? 0),
            restarts: r.restarts - (this.base!.read?.restarts ?? 0),
          };
    return {
      written: {
        lines: w.lines - b.lines,
        bytes: w.bytes - b.bytes,
        rotations: w.rotations - b.rotations,
        filesDeleted: w.filesDeleted - b.filesDeleted,
        linesDeleted: w.linesDeleted - b.linesDeleted,
      },
      read: read === undefined ? undefined : { ...read, gapAtRestart: read.restarts > 0 },
    };
  }

  protected sample(): void {
    const { written, read } = this.delta();
    if (read === undefined) return;
    const lag = Math.max(0, written.lines - read.lines);
    this.peakLag = Math.max(this.peakLag, lag);
    this.record({ written: written.lines, read: read.lines, lag });
  }

  protected finish(): Promise<StackObservation> {
    this.sample();
    const { written, read } = this.delta();
    const lines = [
      `Written: ${n(written.lines)} lines (${(written.bytes / 1e6).toFixed(1)} MB, load and canaries) as ${this.source.describe}; ` +
        `${written.rotations} rotation(s), ${written.filesDeleted} rotated file(s) deleted holding ${n(written.linesDeleted)} lines.`,
    ];
    const figures: Record<string, number> = {
      linesWritten: written.lines,
      bytesWritten: written.bytes,
      rotations: written.rotations,
      filesDeleted: written.filesDeleted,
      linesDeleted: written.linesDeleted,
    };
    if (read === undefined) {
      lines.push(`${this.source.agent}: how far it read is not observable (no read counters in its metrics).`);
    } else {
      // From both counts' beginnings (the writer's first line, the agent's start), not from the load's start:
      // the agent's count is read every second, so a base taken then may lag lines written just before.
      const again = (this.watch.read()?.lines ?? 0) - this.source.written().lines;
      const others = this.source.otherFiles;
      lines.push(
        `${this.source.agent} read ${n(read.lines)} lines (its ${this.watch.kind === 'promtail' ? 'promtail_read_lines_total' : "filelog receiver's"} counters` +
          `${read.restarts > 0 ? `, joined across ${read.restarts} restart(s): what it read just before each is not counted, so this is a lower bound` : ''}` +
          `${others === undefined ? '' : `; ${others} included`}); ` +
          `its read lag peaked at ${n(this.peakLag)} lines${others === undefined ? '' : ' (at least: lines of the other files make it look smaller)'}.`,
      );
      if (again > 0)
        lines.push(
          others === undefined
            ? `Read more than once: at least ${n(again)} lines (read − written) — duplicates a backend that keeps one copy of identical lines (Loki) hides.`
            : `Read beyond the lines written: ${n(again)} (read − written) — lines of ${others}, or lines read again; its counters do not tell them apart.`,
        );
      const passed = read.passedOn;
      if (passed !== undefined) {
        const dropped = Object.entries(passed.droppedBy).filter(([, v]) => v > 0);
        lines.push(
          `${this.source.agent}'s client sent ${n(passed.sent)} entries to Loki` +
            `${passed.retries > 0 ? ` (${n(passed.retries)} batches retried)` : ''}` +
            `${dropped.length === 0 ? ', dropped none' : `, dropped ${n(passed.dropped)} after its retries (${dropped.map(([r, v]) => `${r}: ${n(v)}`).join(', ')})`}` +
            `${passed.filtered > 0 ? `; its pipeline stages dropped ${n(passed.filtered)} lines` : ''}.`,
        );
        Object.assign(figures, {
          agentSent: passed.sent,
          agentDropped: passed.dropped,
          agentStageDropped: passed.filtered,
          agentRetries: passed.retries,
        });
      }
      Object.assign(figures, {
        agentRead: read.lines,
        agentRestarts: read.restarts,
        ...(others === undefined
          ? { readAgainAtLeast: Math.max(0, again) }
          : { readBeyondWritten: Math.max(0, again) }),
        peakReadLag: this.peakLag,
      });
    }
    if (this.loadEndMs !== undefined) {
      const endAt = this.loadEndMs - this.loadStartMs;
      const atEnd = this.series.find((p) => p.atMs >= endAt);
      if (atEnd !== undefined) figures.lagAtLoadEnd = atEnd.values.lag!;
      const behind = this.series.find((p) => p.atMs >= endAt && p.values.lag === 0);
      if (behind !== undefined) figures.caughtUpAfterLoadMs = Math.max(0, behind.atMs - endAt);
    }
    return Promise.resolve({
      name: 'log-files',
      title: 'Log files read by the node agent',
      lines,
      figures,
      series: this.series,
    });
  }
}
