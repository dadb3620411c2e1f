import { rmSync } from 'node:fs';
import { fileReadCondition } from '../../drain/file-read-condition.js';
import { AgentReadWatch } from '../../observe/agent-read-watch.js';
import { LogFileObserver } from '../../observe/log-file-observer.js';
import type { DrainCondition } from '../../drain/drain.js';
import {
  containerLogPath,
  type ContainerLogStats,
  type ContainerLogWriter,
} from '../../load/files/container-log-writer.js';
import type { SeqRange, Signal } from '../../load/ledger.js';
import { countInRange } from '../../load/seq-ranges.js';
import type { LossCause } from '../../verify/loss-evidence.js';
import type { DockerStack } from '../docker/docker-stack.js';
import { WrappedDockerStack } from '../docker/wrapped-stack.js';
import type { StackEndpoints, StackObserver } from '../stack.js';
import { AGENT_LOG_ROOT, AGENT_SERVICE } from './definition.js';

/** How long the agent's read count stands still before lines the rotation deleted are given up on. */
const UNREAD_IDLE_MS = 10_000;

/**
 * Phase 1 with `--log-source file`: the harness writes the logs into container log files that the node agent
 * reads; the drain waits until the agent read every line written, and the directory goes with the stack.
 */
export class Phase1FileLogStack extends WrappedDockerStack {
  /** The agent's read count from its start, every second, so that a restart does not take it away. */
  private readonly watch: AgentReadWatch | undefined;

  constructor(
    docker: DockerStack,
    private readonly writer: ContainerLogWriter,
    private readonly canary: ContainerLogWriter,
  ) {
    super(docker);
    const agent = docker.endpoints().collectors.find((c) => c.name === AGENT_SERVICE);
    this.watch =
      agent?.metricsUrl === undefined
        ? undefined
        : new AgentReadWatch({ metricsUrl: agent.metricsUrl, pollMs: 1_000 }).start();
  }

  override endpoints(): StackEndpoints {
    return {
      ...this.docker.endpoints(),
      logFiles: {
        writer: this.writer,
        canary: this.canary,
        agent: AGENT_SERVICE,
        agentPath: containerLogPath(this.writer.layout, AGENT_LOG_ROOT),
      },
    };
  }

  override drainConditions(signals: readonly Signal[]): DrainCondition[] {
    const conditions = this.docker.drainConditions(signals);
    if (!signals.includes('logs') || this.watch === undefined) return conditions;
    return [
      ...conditions,
      fileReadCondition({
        name: AGENT_SERVICE,
        watch: this.watch,
        written: () => sumStats(this.writer.snapshot(), this.canary.snapshot()),
        idleMs: UNREAD_IDLE_MS,
        pollMs: 1_000,
      }),
    ];
  }

  override observers(signals: readonly Signal[]): StackObserver[] {
    if (!signals.includes('logs') || this.watch === undefined) return [];
    const { layout } = this.writer;
    return [
      new LogFileObserver(
        {
          written: () => sumStats(this.writer.snapshot(), this.canary.snapshot()),
          describe: `${layout.format} lines in ${containerLogPath(layout, AGENT_LOG_ROOT)}, rotated at ${mib(layout.maxBytes)} keeping ${layout.maxFiles} files`,
          agent: AGENT_SERVICE,
        },
        this.watch,
      ),
    ];
  }

  /**
   * Absent log lines the agent never read: once the drain saw it read everything it could, the lines it did
   * not read (written − read, by its own counters) were rotated away before it reached them — named when the
   * absent lines in rotated files are at least that many. Not said after a restart (its count
   * then misses what it read just before) or when it read more lines than were written (lines read again).
   */
  lossCauses(signal: Signal, runId: string, lost: readonly SeqRange[]): LossCause[] {
    if (signal !== 'logs') return [];
    const read = this.watch?.read();
    if (read === undefined || read.restarts > 0) return [];
    const rotated = this.writer.rotatedRanges(runId);
    const inRotated = lost.reduce((sum, r) => sum + countInRange(rotated, r.first, r.first + r.count), 0);
    const written = sumStats(this.writer.snapshot(), this.canary.snapshot());
    const unread = written.lines - read.lines;
    if (inRotated === 0 || unread <= 0) return [];
    const never = Math.min(unread, inRotated);
    const { layout } = this.writer;
    const f = (x: number) => x.toLocaleString('en-US');
    return [
      {
        hop: `container log files → ${AGENT_SERVICE}`,
        reason:
          `${f(never)} log records never read: ${AGENT_SERVICE} read ${f(read.lines)} of the ${f(written.lines)} lines written ` +
          `(load and canaries); ${unread === never ? 'those it did not read' : `${f(inRotated)} absent ones`} were rotated away ` +
          `(renamed out of 0.log, then deleted: rotation at ${mib(layout.maxBytes)} keeping ${layout.maxFiles} files) before it reached them`,
        fix: `keep more or larger files (the kubelet's containerLogMaxSize and containerLogMaxFiles), or let the agent read faster (its CPU limit, poll_interval, max_concurrent_files)`,
        retryable: false,
      },
    ];
  }

  override async stop(): Promise<void> {
    this.watch?.stop();
    this.writer.close();
    this.canary.close();
    try {
      await this.docker.stop();
    } finally {
      rmSync(this.writer.layout.root, { recursive: true, force: true });
    }
  }
}

function sumStats(a: ContainerLogStats, b: ContainerLogStats): ContainerLogStats {
  return {
    lines: a.lines + b.lines,
    bytes: a.bytes + b.bytes,
    rotations: a.rotations + b.rotations,
    filesDeleted: a.filesDeleted + b.filesDeleted,
    linesDeleted: a.linesDeleted + b.linesDeleted,
  };
}

function mib(bytes: number): string {
  return bytes % (1024 * 1024) === 0
    ? `${bytes / 1024 / 1024} MiB`
    : bytes % 1024 === 0
      ? `${bytes / 1024} KiB`
      : `${bytes} bytes`;
}
