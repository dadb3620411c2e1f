import type { UsageSummary } from '../observe/resource-sampler.js';

/** A least-squares line y = intercept + slope · x, with its coefficient of determination. */
export interface LinearFit {
  slope: number;
  intercept: number;
  /** R² (1 = every point on the line); undefined when every y is the same. */
  r2: number | undefined;
  points: number;
}

export function linearFit(xs: readonly number[], ys: readonly number[]): LinearFit | undefined {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return undefined;
  const mx = xs.slice(0, n).reduce((a, b) => a + b, 0) / n;
  const my = ys.slice(0, n).reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) return undefined; // one rate only: no slope
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ys[i]! - (intercept + slope * xs[i]!)) ** 2;
  return { slope, intercept, r2: syy === 0 ? undefined : 1 - sse / syy, points: n };
}

/** One passing trial's resource use, as the cost fit needs it. */
export interface CostPoint {
  rateRps: number;
  containers: Record<string, UsageSummary>;
}

/** What a component costs per 1,000 items/s offered to the stack, fitted over the passing trials. */
export interface ComponentCost {
  component: string;
  /** Millicores per 1,000 items/s (the fit's slope), and the idle cost (its intercept). */
  cpuMillicoresPer1k: number;
  cpuIdleMillicores: number;
  cpuR2: number | undefined;
  memoryMiBPer1k: number;
  memoryIdleMiB: number;
  memoryR2: number | undefined;
  /** The highest mean CPU (millicores) and memory (MiB) measured in a fitted trial: a floor for sizing. */
  cpuMeasuredMaxMillicores: number;
  memoryMeasuredMaxMiB: number;
  /** Distinct rates fitted. */
  points: number;
}

/**
 * Fits CPU (mean % of one core × 10 = millicores) and memory (mean MiB) of each component against the
 * offered rate. Only trials below the knee belong here: above it a saturated component's CPU flattens.
 */
export function componentCosts(points: readonly CostPoint[]): ComponentCost[] {
  const names = [...new Set(points.flatMap((p) => Object.keys(p.containers)))].sort();
  const out: ComponentCost[] = [];
  for (const name of names) {
    const rows = points.filter((p) => p.containers[name] !== undefined && p.containers[name].samples > 0);
    const xs = rows.map((p) => p.rateRps / 1000);
    const cpu = linearFit(
      xs,
      rows.map((p) => p.containers[name]!.cpuMeanPct * 10),
    );
    const memory = linearFit(
      xs,
      rows.map((p) => p.containers[name]!.memoryMeanMiB),
    );
    if (cpu === undefined || memory === undefined) continue;
    out.push({
      component: name,
      cpuMillicoresPer1k: cpu.slope,
      cpuIdleMillicores: cpu.intercept,
      cpuR2: cpu.r2,
      memoryMiBPer1k: memory.slope,
      memoryIdleMiB: memory.intercept,
      memoryR2: memory.r2,
      cpuMeasuredMaxMillicores: Math.max(...rows.map((p) => p.containers[name]!.cpuMeanPct * 10)),
      memoryMeasuredMaxMiB: Math.max(...rows.map((p) => p.containers[name]!.memoryMeanMiB)),
      points: new Set(xs).size,
    });
  }
  return out;
}

/** A backend's ingest volume per 1,000 items/s offered to the stack (Tempo and Loki size in MB/s). */
export interface IngestCost {
  backend: string;
  signal: string;
  /** Uncompressed bytes/s the backend received per 1,000 items/s of the stack's total rate (the slope). */
  bytesPerSecPer1k: number;
  /** The fit's intercept (bytes/s at no load: canaries, the backend's own traffic). */
  idleBytesPerSec: number;
  r2: number | undefined;
  points: number;
}

/** One passing trial's ingest rate per backend. */
export interface IngestPoint {
  rateRps: number;
  ingest: Record<string, { signal: string; bytesPerSec: number }>;
}

/** Fits each backend's received bytes/s against the offered rate, over the passing trials. */
export function ingestCosts(points: readonly IngestPoint[]): IngestCost[] {
  const names = [...new Set(points.flatMap((p) => Object.keys(p.ingest)))].sort();
  const out: IngestCost[] = [];
  for (const name of names) {
    const rows = points.filter((p) => p.ingest[name] !== undefined);
    const xs = rows.map((p) => p.rateRps / 1000);
    const fit = linearFit(
      xs,
      rows.map((p) => p.ingest[name]!.bytesPerSec),
    );
    if (fit === undefined) continue;
    out.push({
      backend: name,
      signal: rows[0]!.ingest[name]!.signal,
      bytesPerSecPer1k: fit.slope,
      idleBytesPerSec: fit.intercept,
      r2: fit.r2,
      points: new Set(xs).size,
    });
  }
  return out;
}
