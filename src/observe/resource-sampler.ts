import { readFileSync } from 'node:fs';
import type { ContainerReading, ResourceSource } from './observer.js';

export interface UsageSummary {
  samples: number;
  /** % of one core. */
  cpuMeanPct: number;
  cpuMaxPct: number;
  memoryMeanMiB: number;
  memoryMaxMiB: number;
}

export interface ResourceReport {
  containers: Record<string, UsageSummary>;
  /** The whole machine: busy share of all cores, % (100 = every core busy). */
  host: { cores: number; cpuMeanPct: number; cpuMaxPct: number; samples: number };
  /**
   * The load generator: this process plus any generator subprocess (k6), % of one core and CPU seconds
   * used; `processes` names what was counted.
   */
  generator: {
    cpuMeanPct: number;
    cpuMaxPct: number;
    cpuSeconds: number;
    memoryMaxMiB: number;
    processes: string[];
    /** Cores the generator can use: 1 for the harness alone (one JavaScript thread), more with k6. */
    cores: number;
  };
  /** Every sample: ms into the sampling, host and generator CPU, and each component's CPU and memory. */
  timeline: ResourcePoint[];
}

export interface ResourcePoint {
  tMs: number;
  hostCpuPct: number;
  generatorCpuPct: number;
  /** component → [CPU % of one core, memory MiB]. */
  components: Record<string, [number, number]>;
  /** component → its cumulative counters, where the engine gives them. */
  counters?: Record<string, ComponentCounters>;
}

/** A container's counters at one reading. */
export interface ComponentCounters {
  /**
   * CPU seconds the container has used since it started (its cgroup's counter): the difference of two
   * readings is the exact CPU time between them, not a sample.
   */
  cpuSeconds: number;
  /** Ms into the sampling when the engine read the counters. */
  atMs: number;
  /**
   * Anonymous memory (heap, stacks: cgroup v2 `anon`, v1 `total_rss`), MiB. Unlike the working set it holds
   * no page cache, which is charged to whichever container first read a file, not to each that uses it.
   */
  rssMiB?: number;
}

export interface DockerStats {
  /** When the engine read the counters (RFC 3339). */
  read?: string;
  cpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number };
  memory_stats: { usage?: number; stats?: Record<string, number> };
}

/** CPU % of one core, CPU seconds used since the container started (and when the engine read them, ms since
 * the epoch), and working-set memory from one Docker stats reading. */
export function usageFromStats(s: DockerStats): ContainerReading & { cpuSeconds: number } {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const systemDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
  const cores = s.cpu_stats.online_cpus ?? 1;
  const cpuPct = systemDelta > 0 && cpuDelta >= 0 ? (cpuDelta / systemDelta) * cores * 100 : 0;
  const inactive = s.memory_stats.stats?.total_inactive_file ?? s.memory_stats.stats?.inactive_file ?? 0;
  const memoryMiB = Math.max(0, (s.memory_stats.usage ?? 0) - inactive) / (1024 * 1024);
  const readAtMs = s.read === undefined ? NaN : Date.parse(s.read);
  const anon = s.memory_stats.stats?.anon ?? s.memory_stats.stats?.total_rss ?? s.memory_stats.stats?.rss;
  return {
    cpuPct,
    memoryMiB,
    cpuSeconds: s.cpu_stats.cpu_usage.total_usage / 1e9,
    ...(Number.isFinite(readAtMs) && readAtMs > 0 ? { readAtMs } : {}),
    ...(anon === undefined ? {} : { rssMiB: anon / (1024 * 1024) }),
  };
}

/** Busy and total jiffies of all cores from /proc/stat's first line. */
export function parseProcStat(text: string): { busy: number; total: number; cores: number } {
  const lines = text.split('\n');
  const fields = (lines[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  const cores = lines.filter((l) => /^cpu\d+ /.test(l)).length;
  return { busy: total - idle, total, cores };
}

/** CPU ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ: 100 on every Linux ABI). */
const USER_HZ = 100;

/** utime + stime (seconds) and the command name from /proc/<pid>/stat; the name may hold spaces. */
export function parsePidStat(text: string): { cpuSeconds: number; name: string } | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const fields = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // fields[0] is field 3 (state): utime and stime are fields 14 and 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return { cpuSeconds: (utime + stime) / USER_HZ, name: text.slice(open + 1, close) };
}

/** Resident memory (MiB) from /proc/<pid>/status's VmRSS line. */
export function parseVmRssMiB(text: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return m === null ? 0 : Number(m[1]) / 1024;
}

/** A generator subprocess followed through /proc every second: its last CPU reading survives its exit. */
class ChildProcessUsage {
  cpuSeconds = 0;
  memoryMaxMiB = 0;
  alive = true;
  constructor(
    readonly pid: number,
    readonly label: string,
    readonly cores: number,
  ) {}
  read(): void {
    if (!this.alive) return;
    try {
      const stat = parsePidStat(readFileSync(`/proc/${this.pid}/stat`, 'utf8'));
      if (stat !== undefined) this.cpuSeconds = Math.max(this.cpuSeconds, stat.cpuSeconds);
      this.memoryMaxMiB = Math.max(this.memoryMaxMiB, parseVmRssMiB(readFileSync(`/proc/${this.pid}/status`, 'utf8')));
    } catch {
      this.alive = false; // exited: keep the last reading (at most a second short)
    }
  }
}

class Series {
  private sum = 0;
  private n = 0;
  max = 0;
  add(v: number): void {
    this.sum += v;
    this.n++;
    if (v > this.max) this.max = v;
  }
  get mean(): number {
    return this.n === 0 ? 0 : this.sum / this.n;
  }
  get count(): number {
    return this.n;
  }
}

const round = (v: number) => Math.round(v * 10) / 10;

/** Samples container, host and generator usage every `intervalMs` until stopped. */
export class ResourceSampler {
  private readonly cpu = new Map<string, Series>();
  private readonly memory = new Map<string, Series>();
  private readonly hostCpu = new Series();
  private readonly genCpu = new Series();
  private genMemMax = 0;
  private timer: NodeJS.Timeout | undefined;
  private childTimer: NodeJS.Timeout | undefined;
  private readonly children: ChildProcessUsage[] = [];
  private lastChildCpu = 0;
  private lastProc = parseProcStat(readProcStat());
  private lastGen = process.cpuUsage();
  private lastGenAt = Date.now();
  private readonly startUsage = process.cpuUsage();
  private inFlight = false;

  private readonly timeline: ResourcePoint[] = [];
  private readonly startedAt = Date.now();

  constructor(
    /** The stack's components (undefined: an attached stack, only the host and the generator are sampled). */
    private readonly source: ResourceSource | undefined,
    private readonly intervalMs = 5_000,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    return this;
  }

  /**
   * Counts a generator subprocess (k6) as part of the generator. Read every second, because its CPU time
   * cannot be read once it has exited and been reaped.
   */
  watchGeneratorProcess(pid: number, label: string, cores: number): void {
    const child = new ChildProcessUsage(pid, label, cores);
    child.read();
    this.children.push(child);
    this.childTimer ??= setInterval(() => this.readChildren(), 1_000);
  }

  private readChildren(): void {
    for (const c of this.children) c.read();
  }

  private childCpuSeconds(): number {
    return this.children.reduce((n, c) => n + c.cpuSeconds, 0);
  }

  /** The latest sample of each container (for live progress). */
  latest(): Record<string, number> {
    return Object.fromEntries([...this.cpu].map(([k, s]) => [k, s.max]));
  }

  private async sample(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      const proc = parseProcStat(readProcStat());
      const total = proc.total - this.lastProc.total;
      const hostPct = total > 0 ? ((proc.busy - this.lastProc.busy) / total) * 100 : 0;
      if (total > 0) this.hostCpu.add(hostPct);
      this.lastProc = proc;
      const now = Date.now();
      const gen = process.cpuUsage(this.lastGen);
      this.readChildren();
      const childCpu = this.childCpuSeconds();
      const genMs = (gen.user + gen.system) / 1000 + (childCpu - this.lastChildCpu) * 1000;
      const genPct = (genMs / Math.max(1, now - this.lastGenAt)) * 100;
      this.genCpu.add(genPct);
      this.lastGen = process.cpuUsage();
      this.lastChildCpu = childCpu;
      this.lastGenAt = now;
      const childMem = this.children.reduce((n, c) => n + (c.alive ? c.memoryMaxMiB : 0), 0);
      this.genMemMax = Math.max(this.genMemMax, process.memoryUsage().rss / (1024 * 1024) + childMem);
      const components: Record<string, [number, number]> = {};
      const counters: Record<string, ComponentCounters> = {};
      const source = this.source;
      if (source !== undefined) {
        await Promise.all(
          source.names().map(async (name) => {
            const u = await source.read(name).catch(() => undefined);
            if (u === undefined) return; // gone (e.g. killed by a chaos action): skip this sample
            this.series(this.cpu, name).add(u.cpuPct);
            this.series(this.memory, name).add(u.memoryMiB);
            components[name] = [round(u.cpuPct), round(u.memoryMiB)];
            if (u.cpuSeconds !== undefined)
              counters[name] = {
                cpuSeconds: Math.round(u.cpuSeconds * 1000) / 1000,
                atMs: (u.readAtMs ?? Date.now()) - this.startedAt,
                ...(u.rssMiB === undefined ? {} : { rssMiB: round(u.rssMiB) }),
              };
          }),
        );
      }
      this.timeline.push({
        tMs: now - this.startedAt,
        hostCpuPct: round(hostPct),
        generatorCpuPct: round(genPct),
        components,
        ...(Object.keys(counters).length > 0 ? { counters } : {}),
      });
    } finally {
      this.inFlight = false;
    }
  }

  private series(map: Map<string, Series>, name: string): Series {
    let s = map.get(name);
    if (s === undefined) map.set(name, (s = new Series()));
    return s;
  }

  stop(): ResourceReport {
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.childTimer !== undefined) clearInterval(this.childTimer);
    this.readChildren();
    const used = process.cpuUsage(this.startUsage);
    const containers: Record<string, UsageSummary> = {};
    for (const [name, cpu] of this.cpu) {
      const mem = this.memory.get(name) ?? new Series();
      containers[name] = {
        samples: cpu.count,
        cpuMeanPct: round(cpu.mean),
        cpuMaxPct: round(cpu.max),
        memoryMeanMiB: round(mem.mean),
        memoryMaxMiB: round(mem.max),
      };
    }
    return {
      containers,
      host: {
        cores: this.lastProc.cores,
        cpuMeanPct: round(this.hostCpu.mean),
        cpuMaxPct: round(this.hostCpu.max),
        samples: this.hostCpu.count,
      },
      generator: {
        cpuMeanPct: round(this.genCpu.mean),
        cpuMaxPct: round(this.genCpu.max),
        cpuSeconds: round((used.user + used.system) / 1e6 + this.childCpuSeconds()),
        memoryMaxMiB: round(this.genMemMax),
        processes: ['otel-harness', ...this.children.map((c) => c.label)],
        cores: Math.max(1, ...this.children.map((c) => c.cores)),
      },
      timeline: this.timeline,
    };
  }
}

function readProcStat(): string {
  try {
    return readFileSync('/proc/stat', 'utf8');
  } catch {
    return 'cpu 0 0 0 0 0 0 0 0';
  }
}
