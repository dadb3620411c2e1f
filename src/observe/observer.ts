import type { RateProfile } from '../../generators/rate-profile.js';

/**
 * What watches a stack while a load step runs — its containers' usage, and what only a topology has (Kafka
 * consumer lag, HPA replicas) — as the stack hands it to the step. Below the stack: a topology supplies these,
 * the step reads them.
 */

/** One reading of a container's usage. */
export interface ContainerReading {
  /** CPU in % of one core since the engine's previous reading. */
  cpuPct: number;
  /** Working-set memory, MiB. */
  memoryMiB: number;
  /** CPU seconds the container used since it started, where the engine gives them. */
  cpuSeconds?: number;
  /** When the engine read the counters, ms since the epoch. */
  readAtMs?: number;
  /** Anonymous memory, MiB. */
  rssMiB?: number;
}

/** Per-component CPU and memory, for reports and "who was the limit". */
export interface ResourceSource {
  names(): readonly string[];
  /** One reading of a container; undefined when unavailable now. */
  read(name: string): Promise<ContainerReading | undefined>;
  /** Each container's CPU limit in cores (absent: no limit), as set now. */
  cpuLimits?(): Promise<Record<string, number>>;
}

/** What a stack-specific observer saw over a load step (e.g. Kafka consumer lag), for the report. */
export interface StackObservation {
  /** e.g. 'kafka-lag'. */
  name: string;
  /** Section title, e.g. 'Kafka consumer lag'. */
  title: string;
  /** Sentences for the summary. */
  lines: string[];
  /** Exact figures (result.json). */
  figures: Record<string, number>;
  /** Readings over time: ms into the load → value per series. */
  series: { atMs: number; values: Record<string, number> }[];
}

/** The load an observer sees start: its shape, and the generator's running count of acknowledged items. */
export interface ObservedLoad {
  profile: RateProfile;
  /** Offered items/s at the profile's full rate (all signals). */
  rate: number;
  durationMs: number;
  acknowledged(): number;
}

/** Watches something only a topology has, from the load's start until after the drain. */
export interface StackObserver {
  start(loadStartMs: number, load?: ObservedLoad): void;
  /** The load ended (drain starts): times "to drain" count from here. */
  loadEnded(): void;
  stop(): Promise<StackObservation>;
}
