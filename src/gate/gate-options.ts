import { configurationError } from '../harness-error.js';
import { number, ratio, type OptionTable, type Parse } from '../options/option-table.js';
import { resolveOptions, type RawFlags } from '../options/resolve.js';
import { parseDurationMs } from '../options/duration.js';

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
      default: '5',
      parse: trialsParse,
      help: 'trials per arm (each on a fresh stack, interleaved), or auto: add pairs until a look is conclusive or --max-trials (the looks share --alpha)',
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
  ],
};

export function resolveGateOptions(flags: RawFlags, env: NodeJS.ProcessEnv, loadMs: number): GateOptions {
  const v = resolveOptions([GATE_OPTIONS], flags, env).values;
  if (v.baseline === undefined) throw configurationError('--baseline', 'a stack spec file (YAML)', '(none)');
  if (v.candidate === undefined) throw configurationError('--candidate', 'a stack spec file (YAML)', '(none)');
  const trials = v.trials as number | 'auto';
  const o: GateOptions = {
    baseline: v.baseline as string,
    candidate: v.candidate as string,
    trials: trials === 'auto' ? 4 : trials,
    auto: trials === 'auto',
    maxTrials: v.maxTrials as number,
    warmupMs: v.warmupMs as number,
    tolerance: v.tolerance as number,
    detect: v.detect as number,
    alpha: v.alpha as number,
    atKneeFraction: v.atKneeFraction as number | undefined,
    gateOn: v.gateOn as string[],
  };
  if (o.atKneeFraction !== undefined && flags.rate !== undefined)
    throw configurationError(
      '--at-knee-fraction',
      "no --rate with it (the rate is that fraction of the baseline's knee): give one or the other",
      `${flags['at-knee-fraction'] as string} with --rate ${flags.rate as string}`,
    );
  if (!o.auto && o.trials > o.maxTrials) o.maxTrials = o.trials;
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
