import type { Signal } from '../load/ledger.js';
import type { ComponentCost, IngestCost } from './capacity-cost.js';

export interface SizingInput {
  targetRps: number;
  /** Extra capacity on top of the target, as a fraction (0.5 = 50 %). */
  headroom: number;
  /** The measured zero-loss rate of one copy of the stack (the NDR interval's lower end). */
  kneeRps: number;
  /** Share of each signal in the offered rate (from the search's --signals). */
  shares: Partial<Record<Signal, number>>;
  costs: readonly ComponentCost[];
  /** Backends' bytes/s per 1k items/s (Tempo, Loki): their ingest at the target, in MiB/s. */
  ingest?: readonly IngestCost[];
  /** Highest rate a cost fit saw (beyond it the figures are extrapolated). */
  fittedUpToRps: number;
  /** The collectors do tail sampling (the published per-core figure is lower then). */
  tailSampling: boolean;
}

export interface ComponentSize {
  component: string;
  cores: number;
  memoryMiB: number;
}

export interface PublishedFigure {
  source: string;
  claim: string;
  /** What the claim gives for the target (cores or replicas, in words). */
  forTarget: string;
}

export interface Sizing {
  targetRps: number;
  headroom: number;
  /** Copies of the measured stack that hold target × (1 + headroom) at their measured zero-loss rate. */
  stackCopies: number;
  components: ComponentSize[];
  /** Each byte-counting backend's ingest at the target (without headroom), uncompressed MiB/s. */
  ingest: { backend: string; signal: string; mibPerSec: number }[];
  totalCores: number;
  totalMemoryMiB: number;
  /** Set when the target is beyond the fitted range. */
  extrapolated: string | undefined;
  published: PublishedFigure[];
}

/** Cores and memory per component for a target rate, from the measured knee and the fitted costs. */
export function sizeFor(input: SizingInput): Sizing {
  const want = input.targetRps * (1 + input.headroom);
  // Along the fitted line, never below what the component used at a lower rate (a flat or falling fit
  // of a component that idles at these rates would size it at nothing).
  const components = input.costs.map((c) => ({
    component: c.component,
    cores: round2(
      (Math.max(c.cpuMeasuredMaxMillicores, c.cpuIdleMillicores + (c.cpuMillicoresPer1k * input.targetRps) / 1000) *
        (1 + input.headroom)) /
        1000,
    ),
    memoryMiB: Math.round(
      Math.max(c.memoryMeasuredMaxMiB, c.memoryIdleMiB + (c.memoryMiBPer1k * input.targetRps) / 1000) *
        (1 + input.headroom),
    ),
  }));
  return {
    targetRps: input.targetRps,
    headroom: input.headroom,
    stackCopies: Math.max(1, Math.ceil(want / input.kneeRps)),
    components,
    ingest: (input.ingest ?? []).map((b) => ({
      backend: b.backend,
      signal: b.signal,
      mibPerSec: round2(Math.max(0, b.idleBytesPerSec + (b.bytesPerSecPer1k * input.targetRps) / 1000) / 1_048_576),
    })),
    totalCores: round2(components.reduce((n, c) => n + c.cores, 0)),
    totalMemoryMiB: components.reduce((n, c) => n + c.memoryMiB, 0),
    extrapolated:
      input.targetRps > input.fittedUpToRps
        ? `the costs were fitted up to ${Math.round(input.fittedUpToRps)} items/s; ${input.targetRps} items/s is extrapolated along the fitted lines`
        : undefined,
    published: publishedFigures(input),
  };
}

/** The figures others publish, applied to the same target (notes/capacity-and-gates.md cites each). */
export function publishedFigures(
  input: Pick<SizingInput, 'targetRps' | 'headroom' | 'shares' | 'tailSampling'>,
): PublishedFigure[] {
  const of = (s: Signal) => input.targetRps * (input.shares[s] ?? 0);
  const spans = of('traces');
  const points = of('metrics');
  const logs = of('logs');
  const out: PublishedFigure[] = [];
  if (spans > 0) {
    const perCore = input.tailSampling ? 8_000 : 10_000;
    out.push({
      source: 'OpenTelemetry Collector docs/performance.md',
      claim: input.tailSampling
        ? '≈ 8,000 spans/s per core recommended with tail sampling (9,000 sustained)'
        : '≈ 10,000 spans/s per core recommended (12,000 sustained)',
      forTarget: `${round2(spans / perCore)} collector cores for ${Math.round(spans)} spans/s`,
    });
  }
  const splunk = spans / 15_000 + points / 20_000 + logs / 10_000;
  if (splunk > 0) {
    out.push({
      source: 'Splunk OpenTelemetry Collector sizing',
      claim: 'per core 15,000 spans/s, 20,000 data points/s or 10,000 log records/s; 2 GB per core',
      forTarget: `${round2(splunk)} collector cores, ${Math.ceil(splunk * 2)} GB`,
    });
  }
  if (points > 0) {
    out.push({
      source: 'Grafana Mimir planning-capacity',
      claim: 'distributor: 1 core + 1 GB per 25,000 samples/s, +50 % headroom',
      forTarget: `${round2((points / 25_000) * 1.5)} distributor cores for ${Math.round(points)} samples/s`,
    });
  }
  if (spans > 0) {
    out.push({
      source: 'seed 000 (collector HPA)',
      claim: '5,000–25,000 spans/s with 2–5 collector replicas',
      forTarget: spans <= 25_000 ? 'within the seed’s 2–5 replicas' : 'beyond the seed’s stated range',
    });
  }
  out.push({
    source: 'seed 001 (Phase 1)',
    claim: 'Phase 1 handles up to 50,000 events/s',
    forTarget:
      input.targetRps <= 50_000
        ? 'one Phase 1 stack by the seed’s claim'
        : `${Math.ceil(input.targetRps / 50_000)} Phase 1 stacks by the seed’s claim`,
  });
  return out;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
