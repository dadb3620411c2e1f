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
import {
  AgentReadWatch,
  type AgentRead,
  type AgentReadSource,
  type LogAgentKind,
} from '../observe/agent-read-watch.js';
import { LogFileObserver } from '../observe/log-file-observer.js';
import type { LossCause } from '../verify/loss-evidence.js';
import { count as f } from '../format.js';
import type { Endpoint, LogFileIngest, StackObserver } from './stack.js';
import { AGENT_LOG_ROOT, AGENT_SERVICE } from './agent-config.js';
import type { DockerStack } from './docker/docker-stack.js';
import { PROMTAIL_METRICS_PORT, PROMTAIL_SERVICE } from './promtail.js';
import { ExitCode, HarnessError } from '../harness-error.js';

/** How long Promtail may take to find the harness's log files (its file target syncs every 10 s). */
const FILES_FOUND_TIMEOUT_MS = 30_000;

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
 * The files of `layout` and the node agent of a Docker stack that reads them: Promtail (`--log-agent
 * promtail`), or the collector agent `otel-agent`; undefined when that agent exposes no metrics.
 */
export function dockerNodeLogFiles(
  docker: DockerStack,
  layout: ContainerLogLayout,
  reader: LogAgentKind,
): NodeLogFiles | undefined {
  const metricsUrl =
    reader === 'promtail'
      ? `${docker.url(PROMTAIL_SERVICE, PROMTAIL_METRICS_PORT)}/metrics`
      : docker.endpoints().collectors.find((c) => c.name === AGENT_SERVICE)?.metricsUrl;
  if (metricsUrl === undefined) return undefined;
  return new NodeLogFiles(harnessLogFiles(layout), {
    name: reader === 'promtail' ? PROMTAIL_SERVICE : AGENT_SERVICE,
    root: AGENT_LOG_ROOT,
    source: { metricsUrl },
    kind: reader,
  });
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
      /** Which agent's counters it exposes (default: the collector's filelog receiver). */
      kind?: LogAgentKind;
    },
  ) {
    this.watch = new AgentReadWatch({ ...agent.source, pollMs: 1_000, kind: agent.kind ?? 'filelog' }).start();
  }

  /**
   * Promtail finds new files at its next sync (every 10 s, or when a watched directory changes): a file the
   * kubelet rotated away before that is never read. A started container has its log file before it logs, so
   * the harness creates both files (load and canaries) and waits until Promtail's file target matched them;
   * false when it did not within `timeoutMs`. The collector's filelog receiver polls every 200 ms: no wait.
   */
  async waitFound(
    progress: (line: string) => void,
    signal?: AbortSignal,
    timeoutMs = FILES_FOUND_TIMEOUT_MS,
  ): Promise<void> {
    if (await this.found(progress, timeoutMs, signal)) return;
    throw new HarnessError(
      `${this.agent.name} did not find the harness's log files within ${timeoutMs / 1000} s of the stack's start (no promtail_file_bytes_total series for them)`,
      {
        code: 'AGENT_NOT_READING',
        exitCode: ExitCode.stackFailed,
        hint: `its scrape configs must match ${AGENT_LOG_ROOT}/<namespace>_<pod>_<uid>/<container>/0.log; its log: docker logs on the run's ${this.agent.name} container`,
      },
    );
  }

  private async found(progress: (line: string) => void, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.watch.kind !== 'promtail') return true;
    progress(`waiting for ${this.agent.name} to find the harness's log files`);
    this.files.writer.touch();
    this.files.canary.touch();
    const paths = [this.files.writer, this.files.canary].map((w) => containerLogPath(w.layout, this.agent.root));
    const until = Date.now() + timeoutMs;
    while (Date.now() < until && signal?.aborted !== true) {
      if ((await this.watch.poll().catch(() => false)) && this.watch.tails(paths)) return true;
      await new Promise((r) => setTimeout(r, 500));
    }
    return false;
  }

  /** The agent's name in the stack (e.g. `otel-agent`, `promtail`). */
  get agentName(): string {
    return this.agent.name;
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
    if (read === undefined) return [];
    return [...this.agentDropped(read, lost), ...this.neverRead(read, runId, lost)];
  }

  /**
   * An agent that sends on its own (Promtail) says what it dropped: lines its pipeline stages dropped, and
   * entries its client gave up on after its retries, by reason. Named when absent lines exist.
   */
  private agentDropped(read: AgentRead, lost: readonly SeqRange[]): LossCause[] {
    const passed = read.passedOn;
    const absent = lost.reduce((n, r) => n + r.count, 0);
    if (passed === undefined || absent === 0) return [];
    const name = this.agent.name;
    const causes: LossCause[] = [];
    const byReason = (r: Record<string, number>): string =>
      Object.entries(r)
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${k} ${f(v)}`)
        .join(', ');
    if (passed.filtered > 0)
      causes.push({
        hop: `${name} pipeline stages`,
        reason: `${f(passed.filtered)} lines dropped by its pipeline stages (logentry_dropped_lines_total by reason: ${byReason(passed.filteredBy)}; a drop stage, or a match stage with action drop)`,
        fix: `remove or narrow the drop and match stages of ${name}'s pipeline_stages that match these lines`,
        retryable: false,
      });
    if (passed.dropped > 0)
      causes.push({
        hop: `${name} → loki`,
        reason: `${f(passed.dropped)} entries dropped by ${name}'s client after its retries (by reason: ${byReason(passed.droppedBy)})`,
        fix: `raise the Loki limit the reason names (ingestion_rate_mb, per_stream_rate_limit, max_line_size), or the client's backoff_config (max_retries, max_period) to outlast an outage`,
        // Rate and stream limits pass with time; an ingester error may; a line too long never does.
        retryable: (passed.droppedBy.line_too_long ?? 0) === 0,
      });
    return causes;
  }

  private neverRead(read: AgentRead, runId: string, lost: readonly SeqRange[]): LossCause[] {
    if (read.restarts > 0) return [];
    const rotated = this.files.writer.rotatedRanges(runId);
    const inRotated = lost.reduce((sum, r) => sum + countInRange(rotated, r.first, r.first + r.count), 0);
    const written = this.written();
    const unread = written.lines - read.lines;
    if (inRotated === 0 || unread <= 0) return [];
    const never = Math.min(unread, inRotated);
    const deleted = this.files.writer.deletedRanges(runId);
    const inDeleted = lost.reduce((sum, r) => sum + countInRange(deleted, r.first, r.first + r.count), 0);
    const { layout } = this.files.writer;
    const name = this.agent.name;
    const where =
      inDeleted === inRotated
        ? `renamed out of 0.log, then deleted: rotation at ${mib(layout.maxBytes)} keeping ${layout.maxFiles} files`
        : `renamed out of 0.log at ${mib(layout.maxBytes)}: ${f(inDeleted)} of the absent ones in files since deleted (keeping ${layout.maxFiles}), ${f(inRotated - inDeleted)} in rotated files still there, which its paths do not match`;
    const faster =
      this.watch.kind === 'promtail'
        ? 'or let it follow faster (its CPU limit; Promtail reopens 0.log after a rotation and reads no renamed file its __path__ does not match)'
        : 'or let the agent read faster (its CPU limit, poll_interval, max_concurrent_files)';
    return [
      {
        hop: `container log files → ${name}`,
        reason:
          `${f(never)} log records never read: ${name} read ${f(read.lines)} of the ${f(written.lines)} lines written ` +
          `(load and canaries); ${unread === never ? 'those it did not read' : `${f(inRotated)} absent ones`} were rotated away ` +
          `(${where}) before it reached them`,
        fix: `keep more or larger files (the kubelet's containerLogMaxSize and containerLogMaxFiles), ${faster}`,
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
