import { rmSync } from 'node:fs';
import { fileReadCondition } from '../../drain/file-read-condition.js';
import { AgentReadWatch } from '../../observe/agent-read-watch.js';
import { LogFileObserver } from '../../observe/log-file-observer.js';
import { remoteWriteCondition } from '../../drain/remote-write-condition.js';
import { RemoteWriteObserver } from '../../observe/remote-write-observer.js';
import { RemoteWriteWatch } from '../../observe/remote-write-watch.js';
import type { DrainCondition } from '../../drain/drain.js';
import {
  containerLogPath,
  type ContainerLogStats,
  type ContainerLogWriter,
} from '../../load/files/container-log-writer.js';
import type { SeqRange, Signal } from '../../load/ledger.js';
import { countInRange } from '../../load/seq-ranges.js';
import type { ScrapeTargets } from '../../load/scrape/scrape-targets.js';
import type { LossCause } from '../../verify/loss-evidence.js';
import type { DockerStack } from '../docker/docker-stack.js';
import { WrappedDockerStack } from '../docker/wrapped-stack.js';
import type { Endpoint, FaultTarget, StackEndpoints, StackObserver } from '../stack.js';
import { ScrapeTargetFaults } from './scrape-target-faults.js';
import { AGENT_LOG_ROOT, AGENT_SERVICE } from './definition.js';

/** How long the agent's read count stands still before lines the rotation deleted are given up on. */
const UNREAD_IDLE_MS = 10_000;

/** The container log files the harness writes with `--log-source file`: the load's and the canaries'. */
export interface Phase1LogFiles {
  writer: ContainerLogWriter;
  canary: ContainerLogWriter;
}

/**
 * Phase 1 with a source other than OTLP push, or with Prometheus remote-writing to Mimir. `--log-source file`: the harness writes the logs into container
 * log files that the node agent reads; the drain waits until the agent read every line written, and the
 * directory goes with the stack. `--metric-source scrape`: Prometheus scrapes the harness's targets, which
 * close with the stack. `--remote-write mimir`: the drain waits until Prometheus sent Mimir what it stored, and
 * its remote write is reported.
 */
export class Phase1Stack extends WrappedDockerStack {
  /** The agent's read count from its start, every second, so that a restart does not take it away. */
  private readonly watch: AgentReadWatch | undefined;

  /** The containers', and with `--metric-source scrape` the harness's scrape targets too. */
  override readonly faults: FaultTarget | undefined;
  /** Prometheus's remote write to Mimir (`--remote-write mimir`), read every second from the stack's start. */
  private readonly remoteWrite: RemoteWriteWatch | undefined;

  constructor(
    docker: DockerStack,
    private readonly files: Phase1LogFiles | undefined,
    private readonly targets: ScrapeTargets | undefined,
    remoteWrite = false,
  ) {
    super(docker);
    this.faults =
      targets === undefined || docker.faults === undefined
        ? docker.faults
        : new ScrapeTargetFaults(docker.faults, targets);
    const endpoints = docker.endpoints();
    const agent = endpoints.collectors.find((c) => c.name === AGENT_SERVICE);
    this.watch =
      files === undefined || agent?.metricsUrl === undefined
        ? undefined
        : new AgentReadWatch({ metricsUrl: agent.metricsUrl, pollMs: 1_000 }).start();
    const prometheus = endpoints.upstream?.metrics?.endpoint.metrics;
    this.remoteWrite =
      !remoteWrite || prometheus === undefined
        ? undefined
        : new RemoteWriteWatch({ metricsUrl: prometheus, queue: 'mimir', pollMs: 1_000 }).start();
  }

  override endpoints(): StackEndpoints {
    const files = this.files;
    return {
      ...this.docker.endpoints(),
      ...(files === undefined
        ? {}
        : {
            logFiles: {
              writer: files.writer,
              canary: files.canary,
              agent: AGENT_SERVICE,
              agentPath: containerLogPath(files.writer.layout, AGENT_LOG_ROOT),
            },
          }),
      ...(this.targets === undefined ? {} : { scrapeTargets: this.targets }),
    };
  }

  override endpointList(): Endpoint[] {
    return [
      ...this.docker.endpointList(),
      ...(this.files === undefined
        ? []
        : [{ service: AGENT_SERVICE, label: 'Pod logs it reads (host)', address: this.files.writer.layout.root }]),
      ...(this.targets?.addresses() ?? []).map((a) => ({
        service: 'otel-harness',
        label: 'Scrape target',
        address: `http://${a}/metrics`,
      })),
    ];
  }

  /** The load's and the canaries' lines written so far. */
  private written(files: Phase1LogFiles): ContainerLogStats {
    return sumStats(files.writer.snapshot(), files.canary.snapshot());
  }

  override drainConditions(signals: readonly Signal[]): DrainCondition[] {
    const conditions = [
      ...this.docker.drainConditions(signals),
      ...(this.remoteWrite === undefined || !signals.includes('metrics')
        ? []
        : [remoteWriteCondition({ name: 'prometheus', receiver: 'mimir', watch: this.remoteWrite, pollMs: 1_000 })]),
    ];
    const files = this.files;
    if (!signals.includes('logs') || this.watch === undefined || files === undefined) return conditions;
    return [
      ...conditions,
      fileReadCondition({
        name: AGENT_SERVICE,
        watch: this.watch,
        written: () => this.written(files),
        idleMs: UNREAD_IDLE_MS,
        pollMs: 1_000,
      }),
    ];
  }

  override observers(signals: readonly Signal[]): StackObserver[] {
    const remoteWrite =
      this.remoteWrite === undefined || !signals.includes('metrics')
        ? []
        : [new RemoteWriteObserver(this.remoteWrite, { sender: 'prometheus', receiver: 'mimir' })];
    const files = this.files;
    if (!signals.includes('logs') || this.watch === undefined || files === undefined) return remoteWrite;
    const { layout } = files.writer;
    return [
      ...remoteWrite,
      new LogFileObserver(
        {
          written: () => this.written(files),
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
    const files = this.files;
    if (signal !== 'logs' || files === undefined) return [];
    const read = this.watch?.read();
    if (read === undefined || read.restarts > 0) return [];
    const rotated = files.writer.rotatedRanges(runId);
    const inRotated = lost.reduce((sum, r) => sum + countInRange(rotated, r.first, r.first + r.count), 0);
    const written = this.written(files);
    const unread = written.lines - read.lines;
    if (inRotated === 0 || unread <= 0) return [];
    const never = Math.min(unread, inRotated);
    const { layout } = files.writer;
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
    this.remoteWrite?.stop();
    this.files?.writer.close();
    this.files?.canary.close();
    try {
      await this.docker.stop();
    } finally {
      if (this.files !== undefined) rmSync(this.files.writer.layout.root, { recursive: true, force: true });
      await this.targets?.close();
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
