import { closeSync, existsSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { SeqRange } from '../ledger.js';

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

/**
 * One container's log files as the kubelet lays them out: `<root>/<namespace>_<pod>_<uid>/<container>/0.log`,
 * rotated by size into `0.log.<YYYYMMDD-hhmmss>`, keeping `maxFiles` files (the current one included).
 */
export interface ContainerLogLayout {
  /** The directory that is `/var/log/pods` to the agent (a host directory mounted into it). */
  root: string;
  /** The pod's namespace, name and UID (lower-case hex and dashes, as the kubelet's path has it). */
  pod: PodRef;
  container: string;
  format: LogFileFormat;
  /** Rotate before a write would take the current file past this many bytes (containerLogMaxSize). */
  maxBytes: number;
  /** Files kept, the current one included (containerLogMaxFiles); the oldest rotated file goes first. */
  maxFiles: number;
}

/** The path of the container's current log file under `root` (`/var/log/pods` as an agent sees it). */
export function containerLogPath(layout: ContainerLogLayout, root: string = layout.root): string {
  return join(root, podDirName(layout.pod), layout.container, '0.log');
}

/** The pod's directory under /var/log/pods: `<namespace>_<name>_<uid>`. */
export function podDirName(pod: PodRef): string {
  return `${pod.namespace}_${pod.name}_${pod.uid}`;
}

/** RFC 3339 with nanoseconds, as the runtime stamps each line. */
function nanoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

export const LOG_FILE_FORMATS = ['cri', 'docker'] as const;
/** How the container runtime writes a line: CRI (containerd, CRI-O: what the kubelet reads) or Docker's json-file. */
export type LogFileFormat = (typeof LOG_FILE_FORMATS)[number];

/** One line as the runtime writes it: CRI `<time> stdout F <line>`, or Docker's `{"log":…,"stream":…,"time":…}`. */
export function formatContainerLine(format: LogFileFormat, line: string, nowMs: number): string {
  const time = nanoTime(nowMs);
  return format === 'cri'
    ? `${time} stdout F ${line}\n`
    : `${JSON.stringify({ log: `${line}\n`, stream: 'stdout', time })}\n`;
}

/** The rotated name the kubelet gives `0.log` at `nowMs` (UTC, seconds). */
export function rotatedName(nowMs: number): string {
  const iso = new Date(nowMs).toISOString();
  return `0.log.${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}`;
}

/** What the writer did so far (all runs on this stack). */
export interface ContainerLogStats {
  /** Lines written (write(2) returned: an agent reading the file sees them). */
  lines: number;
  bytes: number;
  rotations: number;
  /** Rotated files deleted (beyond `maxFiles`) and the lines they held: unreadable once the agent lets go. */
  filesDeleted: number;
  linesDeleted: number;
}

interface FileLines {
  name: string;
  lines: number;
  /** Per run, the seq ranges in the file. */
  ranges: Map<string, SeqRange[]>;
}

/**
 * Writes a container's log lines the way the kubelet and the container runtime do, so that a node agent
 * (the collector's filelog receiver, Promtail, Alloy) reads them as it reads any pod's: one line per record,
 * the current file `0.log`, size-based rotation by rename, the oldest rotated file deleted. Writes are
 * synchronous: once `write` returns the lines are in the file, which is what "acknowledged" means here.
 */
export class ContainerLogWriter {
  private fd: number | undefined;
  private current: FileLines = { name: '0.log', lines: 0, ranges: new Map() };
  private currentBytes = 0;
  /** Rotated files, oldest first. */
  private readonly rotated: FileLines[] = [];
  private readonly deleted = new Map<string, SeqRange[]>();
  private readonly stats: ContainerLogStats = { lines: 0, bytes: 0, rotations: 0, filesDeleted: 0, linesDeleted: 0 };
  readonly dir: string;

  constructor(
    readonly layout: ContainerLogLayout,
    private readonly clock: () => number = Date.now,
  ) {
    if (layout.maxFiles < 1) throw new Error('a container log keeps at least one file');
    this.dir = join(layout.root, podDirName(layout.pod), layout.container);
  }

  /** Writes consecutive records `first…first+lines.length-1` of `runId`; rotates first when the file is full. */
  write(runId: string, first: number, lines: readonly string[]): number {
    const now = this.clock();
    const text = lines.map((l) => formatContainerLine(this.layout.format, l, now)).join('');
    const bytes = Buffer.byteLength(text);
    if (this.currentBytes > 0 && this.currentBytes + bytes > this.layout.maxBytes) this.rotate(now);
    const fd = this.open();
    const buffer = Buffer.from(text);
    let written = 0;
    while (written < buffer.length) written += writeSync(fd, buffer, written);
    this.currentBytes += bytes;
    this.current.lines += lines.length;
    const ranges = this.current.ranges.get(runId) ?? [];
    const last = ranges.at(-1);
    if (last !== undefined && last.first + last.count === first) last.count += lines.length;
    else ranges.push({ first, count: lines.length });
    this.current.ranges.set(runId, ranges);
    this.stats.lines += lines.length;
    this.stats.bytes += bytes;
    return bytes;
  }

  snapshot(): ContainerLogStats {
    return { ...this.stats };
  }

  /** Seq ranges of `runId` in rotated files, deleted or kept (renamed out of `0.log`), in seq order. */
  rotatedRanges(runId: string): SeqRange[] {
    return [...this.deletedRanges(runId), ...this.rotated.flatMap((f) => f.ranges.get(runId) ?? [])].sort(
      (a, b) => a.first - b.first,
    );
  }

  /** Seq ranges of `runId` that were in rotated files this writer deleted. */
  deletedRanges(runId: string): SeqRange[] {
    return [...(this.deleted.get(runId) ?? [])];
  }

  /** Creates the container's directory and an empty `0.log`, as a started container has before it logs. */
  touch(): void {
    this.open();
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): number {
    if (this.fd === undefined) {
      mkdirSync(this.dir, { recursive: true, mode: 0o755 });
      this.fd = openSync(join(this.dir, '0.log'), 'a', 0o644);
    }
    return this.fd;
  }

  /** As the kubelet: rename `0.log` aside, start a new `0.log`, delete the oldest rotated files beyond the limit. */
  private rotate(now: number): void {
    this.close();
    let name = rotatedName(now);
    for (let n = 1; existsSync(join(this.dir, name)); n++) name = `${rotatedName(now)}.${n}`;
    renameSync(join(this.dir, '0.log'), join(this.dir, name));
    this.rotated.push({ ...this.current, name });
    this.stats.rotations++;
    this.current = { name: '0.log', lines: 0, ranges: new Map() };
    this.currentBytes = 0;
    while (this.rotated.length > this.layout.maxFiles - 1) {
      const oldest = this.rotated.shift()!;
      unlinkSync(join(this.dir, oldest.name));
      this.stats.filesDeleted++;
      this.stats.linesDeleted += oldest.lines;
      for (const [run, ranges] of oldest.ranges) this.deleted.set(run, [...(this.deleted.get(run) ?? []), ...ranges]);
    }
  }
}
