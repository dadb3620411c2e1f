import { rmSync } from 'node:fs';
import { fileReadCondition } from '../drain/file-read-condition.js';
import type { DrainCondition } from '../drain/drain.js';
import {
  containerLogPath,
  ContainerLogWriter,
  type ContainerLogLayout,
  type ContainerLogStats,
} from '../load/files/container-log-writer.js';
import { CANARY_SERVICE_NAME } from '../verify/latency-canary.js';
import type { SeqRange, Signal } from '../load/ledger.js';
import { countInRange } from '../load/seq-ranges.js';
import { AgentReadWatch, type AgentReadSource } from '../observe/agent-read-watch.js';
import { LogFileObserver } from '../observe/log-file-observer.js';
import type { LossCause } from '../verify/loss-evidence.js';
import { count as f } from '../format.js';
import type { Endpoint, LogFileIngest, StackObserver } from './stack.js';

/** How long the agent's read count stands still before lines the rotation deleted are given up on. */
const UNREAD_IDLE_MS = 10_000;

/** The container log files the harness writes with `--log-source file`: the load's and the canaries'. */
export interface HarnessLogFiles {
  writer: ContainerLogWriter;
  canary: ContainerLogWriter;
}

/** The writers of a layout: the load's container log, and the latency canaries' beside it in the same pod. */
export function harnessLogFiles(layout: ContainerLogLayout): HarnessLogFiles {
  return {
    writer: new ContainerLogWriter(layout),
    canary: new ContainerLogWriter({ ...layout, container: CANARY_SERVICE_NAME }),
  };
}

/**
 * `--log-source file` on any stack: the container log files the harness writes, the node agent that reads
 * them (its read count polled every second from the stack's start, restarts joined), and what a stack
 * derives from both — the endpoint, the drain condition (the agent read every line written), the report
 * section and the loss cause "rotated away before it was read". The host directory goes with the stack.
 */
export class NodeLogFiles {
  private readonly watch: AgentReadWatch;

  constructor(
    readonly files: HarnessLogFiles,
    private readonly agent: {
      /** The agent's name in the stack (a container, or a DaemonSet). */
      name: string;
      /** Where the agent sees the host directory (its /var/log/pods). */
      root: string;
      /** Its self-metrics, read every second. */
      source: AgentReadSource;
      /** Other files it reads too (the node's other pods' logs), which its read count includes. */
      otherFiles?: string;
    },
  ) {
    this.watch = new AgentReadWatch({ ...agent.source, pollMs: 1_000 }).start();
  }

  ingest(): LogFileIngest {
    return {
      writer: this.files.writer,
      canary: this.files.canary,
      agent: this.agent.name,
      agentPath: containerLogPath(this.files.writer.layout, this.agent.root),
    };
  }

  endpoint(): Endpoint {
    return { service: this.agent.name, label: 'Pod logs it reads (host)', address: this.files.writer.layout.root };
  }

  /** The load's and the canaries' lines written so far. */
  private written(): ContainerLogStats {
    const a = this.files.writer.snapshot();
    const b = this.files.canary.snapshot();
    return {
      lines: a.lines + b.lines,
      bytes: a.bytes + b.bytes,
      rotations: a.rotations + b.rotations,
      filesDeleted: a.filesDeleted + b.filesDeleted,
      linesDeleted: a.linesDeleted + b.linesDeleted,
    };
  }

  drainConditions(signals: readonly Signal[]): DrainCondition[] {
    if (!signals.includes('logs')) return [];
    return [
      fileReadCondition({
        name: this.agent.name,
        watch: this.watch,
        written: () => this.written(),
        idleMs: UNREAD_IDLE_MS,
        pollMs: 1_000,
      }),
    ];
  }

  observers(signals: readonly Signal[]): StackObserver[] {
    if (!signals.includes('logs')) return [];
    const { layout } = this.files.writer;
    return [
      new LogFileObserver(
        {
          written: () => this.written(),
          describe: `${layout.format} lines in ${containerLogPath(layout, this.agent.root)}, rotated at ${mib(layout.maxBytes)} keeping ${layout.maxFiles} files`,
          agent: this.agent.name,
          ...(this.agent.otherFiles === undefined ? {} : { otherFiles: this.agent.otherFiles }),
        },
        this.watch,
      ),
    ];
  }

  /**
   * Absent log lines the agent never read: once the drain saw it read everything it could, the lines it did
   * not read (written − read, by its own counters) were rotated away before it reached them — named when the
   * absent lines in rotated files are at least that many. Not said after a restart (its count
   * then misses what it read just before) or when it read more lines than were written (lines read again,
   * or lines of other containers on the node).
   */
  lossCauses(signal: Signal, runId: string, lost: readonly SeqRange[]): LossCause[] {
    if (signal !== 'logs') return [];
    const read = this.watch.read();
    if (read === undefined || read.restarts > 0) return [];
    const rotated = this.files.writer.rotatedRanges(runId);
    const inRotated = lost.reduce((sum, r) => sum + countInRange(rotated, r.first, r.first + r.count), 0);
    const written = this.written();
    const unread = written.lines - read.lines;
    if (inRotated === 0 || unread <= 0) return [];
    const never = Math.min(unread, inRotated);
    const { layout } = this.files.writer;
    const name = this.agent.name;
    return [
      {
        hop: `container log files → ${name}`,
        reason:
          `${f(never)} log records never read: ${name} read ${f(read.lines)} of the ${f(written.lines)} lines written ` +
          `(load and canaries); ${unread === never ? 'those it did not read' : `${f(inRotated)} absent ones`} were rotated away ` +
          `(renamed out of 0.log, then deleted: rotation at ${mib(layout.maxBytes)} keeping ${layout.maxFiles} files) before it reached them`,
        fix: `keep more or larger files (the kubelet's containerLogMaxSize and containerLogMaxFiles), or let the agent read faster (its CPU limit, poll_interval, max_concurrent_files)`,
        retryable: false,
      },
    ];
  }

  /** Stops the watch and the writers (the directory stays until `removeDirectory`). */
  close(): void {
    this.watch.stop();
    this.files.writer.close();
    this.files.canary.close();
  }

  removeDirectory(): void {
    rmSync(this.files.writer.layout.root, { recursive: true, force: true });
  }
}

function mib(bytes: number): string {
  return bytes % (1024 * 1024) === 0
    ? `${bytes / 1024 / 1024} MiB`
    : bytes % 1024 === 0
      ? `${bytes / 1024} KiB`
      : `${bytes} bytes`;
}
