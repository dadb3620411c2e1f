import type { StepResult } from '../step/step-types.js';
import type { CanaryReport } from '../verify/latency-canary.js';
import type { GateMetric } from './gate-stats.js';

export const CPU = 'CPU-s per 1k items';
export const MEMORY = 'peak RSS';
export const P99 = 'canary p99';

/** A trial's figures by metric name, the names whose value is only a lower bound, and why any is missing. */
export interface TrialFigures {
  metrics: Record<string, number>;
  /** Metrics censored at the canary timeout (canaries timed out): the value is a lower bound. */
  censored: string[];
  notes: string[];
}

/**
 * A trial's figures per component after the warm-up — CPU-seconds per 1,000 acknowledged items and peak
 * anonymous memory (RSS) — and each signal's canary write→queryable p99 (see `canaryP99`). CPU comes from
 * the container's cumulative CPU counter, read at the first sample after the warm-up and the last within the
 * load (the exact CPU time between the engine's two readings). RSS leaves out page cache, which the kernel
 * charges to whichever container first read a file, not to each that uses it. Where the engine gives no
 * counters (or one went back: a restart), the sampled CPU % and working set are used, and said.
 */
export function trialMetrics(step: StepResult, warmupMs: number, canaryTimeoutMs: number): TrialFigures {
  const metrics: Record<string, number> = {};
  const censored: string[] = [];
  const notes: string[] = [];
  const loadMs = step.load.elapsedMs;
  const acked = Object.values(step.load.signals).reduce((n, l) => n + (l?.counts.acknowledged ?? 0), 0);
  const ackedPerSecond = loadMs > 0 ? acked / (loadMs / 1000) : 0;
  const points = (step.resources?.timeline ?? []).filter((p) => p.tMs >= warmupMs && p.tMs <= loadMs);
  if (points.length === 0) notes.push('no resource sample after the warm-up: CPU and memory not measured');
  const components = [...new Set(points.flatMap((p) => Object.keys(p.components)))].sort();
  for (const c of components) {
    const mine = points.flatMap((p) => (p.components[c] === undefined ? [] : [p.components[c]]));
    if (mine.length === 0) continue;
    const counted = points.flatMap((p) => (p.counters?.[c] === undefined ? [] : [p.counters[c]]));
    const first = counted[0];
    const last = counted[counted.length - 1];
    if (ackedPerSecond > 0) {
      const used = first && last ? last.cpuSeconds - first.cpuSeconds : -1;
      const spanS = first && last ? (last.atMs - first.atMs) / 1000 : 0;
      if (used >= 0 && spanS >= 1) {
        metrics[`${c} ${CPU}`] = used / spanS / (ackedPerSecond / 1000);
      } else {
        const cpuPct = mine.reduce((s, [cpu]) => s + cpu, 0) / mine.length;
        metrics[`${c} ${CPU}`] = cpuPct / 100 / (ackedPerSecond / 1000);
        notes.push(`${c}: CPU from ${mine.length} sampled readings (no cumulative CPU counter across the load)`);
      }
    }
    const rss = counted.flatMap((k) => (k.rssMiB === undefined ? [] : [k.rssMiB]));
    if (rss.length > 0) metrics[`${c} ${MEMORY}`] = Math.max(...rss);
    else {
      metrics[`${c} ${MEMORY}`] = Math.max(...mine.map(([, mib]) => mib));
      notes.push(`${c}: memory is the working set (page cache included): the engine gave no RSS`);
    }
  }
  for (const [signal, canary] of Object.entries(step.latency)) {
    const p99 = canary === undefined ? undefined : canaryP99(canary, canaryTimeoutMs);
    if (canary === undefined || p99 === undefined) {
      notes.push(`${signal}: no canary was acknowledged: its p99 is not measured`);
      continue;
    }
    metrics[`${signal} ${P99}`] = p99.valueMs;
    if (p99.censored) {
      censored.push(`${signal} ${P99}`);
      const why =
        canary.timedOut > 0
          ? `${canary.timedOut} of ${canary.found + canary.timedOut} canaries timed out`
          : 'found canaries took as long as the timeout';
      notes.push(
        `${signal}: ${why}: its p99 is censored at the ${canaryTimeoutMs / 1000} s canary timeout (recorded as the timeout, a lower bound)`,
      );
    }
  }
  return { metrics, censored, notes };
}

/**
 * The write→queryable p99 of every acknowledged canary, those that timed out included: a canary that timed
 * out took at least the timeout. Ranked as the histogram ranks (the ⌈0.99 N⌉-th of N), the p99 falls on a
 * timed-out canary when fewer than that many were found: the value is then censored at the timeout
 * (`censored`, recorded as `timeoutMs`, a lower bound). Otherwise it is a found canary's latency, taken as
 * the smallest of the found canaries' p99, p99.9 and maximum whose rank reaches it (exact without
 * time-outs, at most that rank's upper neighbour with them). A p99 at or past the timeout is censored
 * too: beyond it a found canary and one that timed out cannot be told apart. Undefined when no canary was
 * acknowledged.
 */
export function canaryP99(
  canary: Pick<CanaryReport, 'found' | 'timedOut' | 'latencyMs'>,
  timeoutMs: number,
): { valueMs: number; censored: boolean } | undefined {
  const found = canary.found;
  const all = found + canary.timedOut;
  if (all === 0) return undefined;
  const rank = (q: number, n: number) => Math.max(1, Math.ceil(q * n - 1e-9));
  const wanted = rank(0.99, all);
  if (wanted > found) return { valueMs: timeoutMs, censored: true };
  const l = canary.latencyMs;
  const value = wanted <= rank(0.99, found) ? l.p99 : wanted <= rank(0.999, found) ? l.p999 : l.max;
  return value >= timeoutMs ? { valueMs: timeoutMs, censored: true } : { valueMs: value, censored: false };
}

/** What each metric measures and which way is better. */
export function metricOf(name: string): GateMetric {
  if (name.endsWith(CPU)) return { name, unit: 'CPU-s', better: 'smaller' };
  if (name.endsWith(MEMORY)) return { name, unit: 'MiB', better: 'smaller' };
  return { name, unit: 'ms', better: 'smaller' };
}
