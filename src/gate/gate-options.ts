import { configurationError } from '../harness-error.js';
import { number, ratio, type OptionTable, type Parse } from '../options/option-table.js';
import { resolveOptions, type RawFlags } from '../options/resolve.js';
import { parseDurationMs } from '../options/duration.js';
import type { TopologyCapabilities } from '../stack/topology.js';
import { smallestP, type GateDesign } from './gate-stats.js';

export interface GateOptions {
  baseline: string;
  candidate: string;
  /**
   * Trials per arm; with `auto`, 4: one pair at a time is added from there up to `maxTrials`, judged at the
   * looks gate-sequential.ts plans, which share `alpha`.
   */
  trials: number;
  auto: boolean;
  maxTrials: number;
  /** The first part of every trial's load, left out of the cost figures (caches, JIT, queues filling). */
  warmupMs: number;
  /** A significant change smaller than this is not a regression. */
  tolerance: number;
  /** The smallest change the gate must be able to see (its power is figured for it). */
  detect: number;
  alpha: number;
  /**
   * With `--at-knee-fraction`: the load is this fraction of the baseline's zero-loss knee, found by a
   * capacity search on the baseline before the trials (instead of `--rate`).
   */
  atKneeFraction: number | undefined;
  /** Metric name patterns (`*` any text) that decide the verdict; the others are reported only. */
  gateOn: string[];
  /** `--design`: what was asked (auto: paired where both specs run side by side). */
  designAsked: GateDesign | 'auto';
  /** The design the gate runs (`resolveDesign`), and why. */
  design: GateDesign;
  designWhy: string;
  /**
   * Rounds run on one boot of the stacks before they are booted afresh (paired: both arms' stacks; each
   * round's trials are new load steps with their own run ids, verified on their own).
   */
  trialsPerBoot: number;
}

const trialsParse: Parse<number | 'auto'> = (raw, name) => {
  if (raw.trim() === 'auto') return 'auto';
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 4)
    throw configurationError(
      name,
      'a whole number ≥ 4, or auto (fewer than 4 + 4 trials cannot reach p < 0.05 with a rank test)',
      raw,
    );
  return n;
};

const DESIGNS = ['auto', 'paired', 'unpaired'] as const;

export const GATE_OPTIONS: OptionTable = {
  name: 'gate',
  title: 'gate options',
  options: [
    {
      key: 'baseline',
      flag: 'baseline',
      default: undefined,
      parse: (raw) => raw,
      help: 'the stack spec in use (YAML, `up --print-spec`): versions, collector config, OCB manifest',
    },
    {
      key: 'candidate',
      flag: 'candidate',
      default: undefined,
      parse: (raw) => raw,
      help: 'the stack spec to roll out, compared with the baseline',
    },
    {
      key: 'trials',
      flag: 'trials',
      default: undefined,
      parse: trialsParse,
      help: 'trials per arm (paired: pairs; default 10 paired, 5 unpaired), or auto: add rounds until a look is conclusive or --max-trials (the looks share --alpha); paired needs 5 or more (6 for a 95 % interval), unpaired 4',
    },
    {
      key: 'maxTrials',
      flag: 'max-trials',
      default: '10',
      parse: number('a whole number ≥ 4', (n) => Number.isInteger(n) && n >= 4),
      help: 'most trials per arm with --trials auto',
    },
    {
      key: 'warmupMs',
      flag: 'warmup',
      default: '10s',
      parse: (raw, name) => parseDurationMs(raw, name),
      help: "first part of each trial's load left out of the CPU and memory figures",
    },
    {
      key: 'tolerance',
      flag: 'tolerance',
      default: '5%',
      parse: ratio('a ratio from 0 to below 1 (5% or 0.05)', (r) => r >= 0 && r < 1),
      help: 'a significant change smaller than this is not a regression',
    },
    {
      key: 'detect',
      flag: 'detect',
      default: '10%',
      parse: ratio('a ratio above 0 and below 1 (10% or 0.1)', (r) => r > 0 && r < 1),
      help: 'a change that is not significant passes only when its interval rules this regression out; else inconclusive',
    },
    {
      key: 'alpha',
      flag: 'alpha',
      default: '0.05',
      parse: ratio('a level between 0 and 0.5', (r) => r > 0 && r <= 0.5),
      help: 'family-wise significance level across the metrics (Holm) and, with --trials auto, across the looks',
    },
    {
      key: 'gateOn',
      flag: 'gate-on',
      default: '*',
      parse: (raw, name) => {
        const patterns = raw
          .split(',')
          .map((p) => p.trim())
          .filter((p) => p !== '');
        if (patterns.length === 0)
          throw configurationError(name, "metric name patterns, comma-separated ('otelcol *,* canary p99')", raw);
        return patterns;
      },
      help: "metrics that decide the verdict, name patterns with * (e.g. 'otelcol *,* canary p99'); the others are reported, not gated",
    },
    {
      key: 'atKneeFraction',
      flag: 'at-knee-fraction',
      default: undefined,
      parse: ratio('a fraction of the knee, above 0 and at most 1 (0.5 or 50%)', (r) => r > 0 && r <= 1),
      help: "instead of --rate: search the baseline's zero-loss knee first (a capacity search, precision 10 %) and run every trial at this fraction of its lower end",
    },
    {
      key: 'design',
      flag: 'design',
      default: 'auto',
      parse: (raw, name) => {
        const d = raw.trim();
        if (!(DESIGNS as readonly string[]).includes(d)) throw configurationError(name, DESIGNS.join(', '), raw);
        return d;
      },
      help: "paired: baseline and candidate stacks run at the same time, each fed its own identical load, compared pair by pair (signed-rank on log ratios), so noise of the moment hits both; unpaired: one trial at a time (A B, B A, …); auto: paired where both specs' topologies run side by side",
    },
    {
      key: 'trialsPerBoot',
      flag: 'trials-per-boot',
      default: '1',
      parse: number('a whole number ≥ 1', (n) => Number.isInteger(n) && n >= 1),
      help: 'rounds (paired: pairs of trials) run on one boot of the stacks before they are booted afresh; each trial is its own load step and run id',
    },
  ],
};

/**
 * The design a gate runs: paired when asked, or with `auto` when both specs' topologies run side by side
 * (two phase 1 or phase 2 stacks on one machine); unpaired otherwise, with the reason. Paired asked for a
 * topology that cannot is exit 2, as are trials too few for the design's exact test to reach `--alpha`.
 */
export function resolveDesign(
  o: GateOptions,
  baseline: { name: string; capabilities: TopologyCapabilities },
  candidate: { name: string; capabilities: TopologyCapabilities },
): void {
  const apart = [baseline, candidate].filter((t) => !t.capabilities.sideBySide).map((t) => t.name);
  if (o.designAsked === 'paired' && apart.length > 0)
    throw configurationError(
      '--design',
      `unpaired or auto with ${[...new Set(apart)].join(', ')} (two of its stacks do not run side by side here)`,
      'paired',
    );
  if (o.designAsked === 'unpaired') {
    o.design = 'unpaired';
    o.designWhy = 'asked (--design unpaired): one trial at a time, A B, B A, …, each arm on its own stack';
  } else if (apart.length > 0) {
    o.design = 'unpaired';
    o.designWhy = `${[...new Set(apart)].join(', ')} does not run two stacks side by side here, so one trial at a time (A B, B A, …)`;
  } else {
    o.design = 'paired';
    o.designWhy =
      o.designAsked === 'paired'
        ? 'asked (--design paired): both arms at the same time, pair by pair'
        : 'both specs run side by side: each pair of trials runs both arms at the same time, so the machine noise of that moment hits both';
  }
  // By default 10 pairs, or 5 + 5 unpaired. Paired, 10 pairs saw a 10 % change of the collector's CPU per
  // item in 94–100 % of gates here at 2–3 % false positives (BENCHMARKS.md), in about 7 minutes; 8 saw it
  // in 72–88 %. Unpaired, 5 + 5 keeps the smallest exact p (1/252) below α / 10 for ten gated metrics.
  if (o.trials === 0) o.trials = o.design === 'paired' ? 10 : 5;
  // --trials auto starts at the fewest trials the design's exact test can reach --alpha with.
  if (o.auto) {
    o.trials = o.design === 'paired' ? 5 : 4;
    while (smallestP(o.trials, o.design) > o.alpha && o.trials < o.maxTrials) o.trials++;
  }
  const first = o.trials;
  if (smallestP(first, o.design) > o.alpha)
    throw configurationError(
      '--trials',
      `${o.design === 'paired' ? 5 : 4} or more with the ${o.design} design (with ${first} the exact test's smallest p, ${smallestP(first, o.design).toPrecision(2)}, is above --alpha ${o.alpha})`,
      String(first),
    );
  if (o.maxTrials < first) o.maxTrials = first;
}

export function resolveGateOptions(flags: RawFlags, env: NodeJS.ProcessEnv, loadMs: number): GateOptions {
  const v = resolveOptions([GATE_OPTIONS], flags, env).values;
  if (v.baseline === undefined) throw configurationError('--baseline', 'a stack spec file (YAML)', '(none)');
  if (v.candidate === undefined) throw configurationError('--candidate', 'a stack spec file (YAML)', '(none)');
  const trials = v.trials as number | 'auto' | undefined;
  const o: GateOptions = {
    baseline: v.baseline as string,
    candidate: v.candidate as string,
    // 0: the design's default, set by resolveDesign.
    trials: trials === 'auto' ? 4 : (trials ?? 0),
    auto: trials === 'auto',
    maxTrials: v.maxTrials as number,
    warmupMs: v.warmupMs as number,
    tolerance: v.tolerance as number,
    detect: v.detect as number,
    alpha: v.alpha as number,
    atKneeFraction: v.atKneeFraction as number | undefined,
    gateOn: v.gateOn as string[],
    designAsked: v.design as GateDesign | 'auto',
    design: 'unpaired',
    designWhy: 'not resolved yet',
    trialsPerBoot: v.trialsPerBoot as number,
  };
  if (o.atKneeFraction !== undefined && flags.rate !== undefined)
    throw configurationError(
      '--at-knee-fraction',
      "no --rate with it (the rate is that fraction of the baseline's knee): give one or the other",
      `${flags['at-knee-fraction'] as string} with --rate ${flags.rate as string}`,
    );
  if (o.warmupMs >= loadMs)
    throw configurationError(
      '--warmup',
      `shorter than each trial's load (--duration ${loadMs / 1000} s)`,
      `${o.warmupMs / 1000}s`,
    );
  if (o.detect <= o.tolerance)
    throw configurationError(
      '--detect',
      `a change above --tolerance (${o.tolerance * 100} %)`,
      `${(o.detect * 100).toFixed(1)}%`,
    );
  return o;
}
