import type { Signal } from '../load/ledger.js';
import type { RunHeader } from '../report/result.js';
import type { StackDescription } from '../stack/stack.js';
import type { GateOptions } from './gate-options.js';
import type { GateLook } from './gate-sequential.js';
import type { GateMetric, MetricComparison } from './gate-stats.js';

type DesignKeys = 'design' | 'designWhy' | 'designAsked' | 'trialsPerBoot';

/** A gate's result.json and trials.json: the plan, every trial, the comparison and the verdict. */

export const GATE_SCHEMA_VERSION = 2;

export type Arm = 'baseline' | 'candidate';

export type GateStatus = 'pass' | 'regression' | 'loss' | 'inconclusive' | 'interrupted' | 'error';

/** One signal's loss in one trial, as the gate judges it. */
export interface TrialLoss {
  /** Acknowledged items that must arrive. */
  expected: number;
  /** Items decided lost (absent after a complete drain, or declared rejected); 0 when not verified. */
  lost: number;
  /** `inconclusive`: not verified — nothing was decided, so nothing counts as lost. */
  status: 'pass' | 'fail' | 'inconclusive';
  /** Why it was not verified (inconclusive only). */
  reason?: string;
  /** Inconclusive only: acknowledged items absent when verification ended, which may still have arrived. */
  undecided?: number;
  /** Some of the lost items, named. */
  examples: string[];
}

/**
 * One trial: one load step of one arm under its own run id, verified exactly, and the figures compared.
 * Its stack served `--trials-per-boot` rounds (a fresh one per trial by default).
 */
export interface GateTrial {
  n: number;
  arm: Arm;
  /** The load's run id (what the verification looked for). */
  runId: string;
  /** Paired design: the pair (round) this trial belongs to; its other arm's trial ran at the same moment. */
  pair?: number;
  /** The run id the stack's containers carry (that of the first trial on it); absent: `runId`. */
  stackRunId?: string;
  /** Which boot of the arm's stack the trial ran on (1, 2, …). */
  boot?: number;
  elapsedMs: number;
  loss: Partial<Record<Signal, TrialLoss>>;
  /** Items the pipeline refused or failed during the load. */
  refused: number;
  /** Every metric of the trial by name (see GateMetric). */
  metrics: Record<string, number>;
  /** Metrics whose value is a lower bound: a canary p99 censored at the canary timeout. */
  censored?: string[];
  /** Why a figure is missing or censored, or the trial's verification was not conclusive. */
  notes: string[];
  stack: StackDescription;
}

export interface GateResult extends RunHeader<'gate', typeof GATE_SCHEMA_VERSION> {
  plan: {
    baseline: { spec: string; topology: string; title: string };
    candidate: { spec: string; topology: string; title: string };
    rateRps: number;
    durationMs: number;
    signals: string;
    /** The gate's options; a result without the design fields ran unpaired, one trial per boot. */
    options: Omit<GateOptions, 'baseline' | 'candidate' | DesignKeys> & Partial<Pick<GateOptions, DesignKeys>>;
    /** The looks the trials are judged at and the error each spends (gate-sequential.ts). */
    looks: GateLook[];
    /** With `--at-knee-fraction`: the baseline's knee the rate was taken from. */
    knee?: {
      fraction: number;
      runId: string;
      /** The capacity search's own one-line result. */
      headline: string;
      ndrLowerRps: number | undefined;
      ndrUpperRps: number | undefined;
      trials: number;
      elapsedMs: number;
    };
  };
  /** The result in one line. */
  headline: string;
  trials: GateTrial[];
  metrics: GateMetric[];
  comparison: MetricComparison[];
  /** The look `comparison` was made at (its levels); absent before the first. */
  look?: GateLook;
  verdict: { status: GateStatus; exitCode: number; reasons: string[] };
}
