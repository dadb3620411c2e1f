import { configurationError } from '../harness-error.js';
import { parseDurationMs } from '../options/duration.js';
import { duration, positive, positiveInt, ratio, type OptionTable, type Parse } from '../options/option-table.js';
import { resolveOptions, type RawFlags } from '../options/resolve.js';

/** The service-level objectives every trial must meet besides its loss criterion. */
export interface CapacitySlo {
  /** Achieved/offered rate per signal, at least. */
  achieved: number;
  /** Canary write→queryable p99 per signal, at most (ms), when set. */
  p99Ms: number | undefined;
  /** Items the pipeline may refuse (backpressure answers) per trial. */
  refusals: number;
}

export interface CapacityOptions {
  fromRps: number;
  toRps: number;
  trialMs: number;
  confirmMs: number;
  /** Asked relative width of the interval. */
  precision: number;
  maxTrials: number;
  /** Also search the highest rate with loss ≤ this ratio (PDR), when set. */
  pdr: number | undefined;
  slo: CapacitySlo;
  /** Size the stack for this rate, when set. */
  forRps: number | undefined;
  headroom: number;
  /** Pause between trials once the previous one has drained (the stack returns to idle). */
  settleMs: number;
  /** Longest wait for a trial's drain (a trial that has not drained by then is not a pass). */
  trialDrainMs: number;
  /** Longest wait for the collectors' queues to be empty before the next trial. */
  settleTimeoutMs: number;
}

const SLO_KEYS = ['achieved', 'p99', 'refusals'] as const;

/** `achieved=0.99,p99=5s,refusals=0`: every key optional, each once. */
export const parseSlo: Parse<CapacitySlo> = (raw, name) => {
  const slo: CapacitySlo = { achieved: 0.99, p99Ms: undefined, refusals: 0 };
  const seen = new Set<string>();
  for (const part of raw.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const at = part.indexOf('=');
    const key = at < 0 ? part : part.slice(0, at);
    const value = at < 0 ? '' : part.slice(at + 1);
    if (!(SLO_KEYS as readonly string[]).includes(key))
      throw configurationError(name, `SLOs from ${SLO_KEYS.join(', ')} as key=value`, key);
    if (seen.has(key)) throw configurationError(name, 'each SLO once', key);
    seen.add(key);
    if (key === 'achieved')
      slo.achieved = ratio('a ratio in (0, 1] (0.99 or 99%)', (r) => r > 0 && r <= 1)(value, `${name} achieved`);
    if (key === 'p99') {
      const ms = parseDurationMs(value, `${name} p99`);
      if (ms <= 0) throw configurationError(`${name} p99`, 'a duration > 0 (e.g. 5s)', value);
      slo.p99Ms = ms;
    }
    if (key === 'refusals') {
      const n = Number(value);
      if (value === '' || !Number.isInteger(n) || n < 0)
        throw configurationError(`${name} refusals`, 'a whole number of items ≥ 0', value);
      slo.refusals = n;
    }
  }
  return slo;
};

/** Every capacity option (the load's shape comes from the soak options: --signals, --driver, …). */
export const CAPACITY_OPTIONS: OptionTable = {
  name: 'capacity',
  title: 'capacity options',
  options: [
    {
      key: 'fromRps',
      flag: 'from',
      default: '1000',
      parse: positive,
      help: 'lower end of the searched range, total items/s (the first trial)',
    },
    { key: 'toRps', flag: 'to', default: '50000', parse: positive, help: 'upper end: no trial offers more' },
    {
      key: 'trialMs',
      flag: 'trial',
      default: '20s',
      parse: duration,
      help: 'length of the short trials (bracket and bisection)',
    },
    {
      key: 'confirmMs',
      flag: 'confirm',
      default: '60s',
      parse: duration,
      help: 'length of the trial that confirms the lower end',
    },
    {
      key: 'precision',
      flag: 'precision',
      default: '5%',
      parse: ratio('a ratio in (0, 0.5] (5% or 0.05)', (r) => r > 0 && r <= 0.5),
      help: 'asked width of the interval, (upper − lower) / upper',
    },
    { key: 'maxTrials', flag: 'max-trials', default: '20', parse: positiveInt, help: 'never more trials than this' },
    {
      key: 'pdr',
      flag: 'pdr',
      default: undefined,
      parse: ratio('a loss ratio in (0, 0.5] (0.5% or 0.005)', (r) => r > 0 && r <= 0.5),
      help: 'also search the highest rate losing at most this share (partial drop rate)',
    },
    {
      key: 'slo',
      flag: 'slo',
      default: 'achieved=0.99,refusals=0',
      parse: parseSlo,
      help: 'what every passing trial meets: achieved=RATIO, p99=DURATION (canary write→queryable), refusals=N',
    },
    {
      key: 'forRps',
      flag: 'for-rate',
      default: undefined,
      parse: positive,
      help: 'size the stack for this many items/s',
    },
    {
      key: 'headroom',
      flag: 'headroom',
      default: '50%',
      parse: ratio('a ratio ≥ 0 (50% or 0.5)', (r) => r >= 0 && r <= 10),
      help: 'capacity kept above --for-rate in the sizing',
    },
    {
      key: 'trialDrainMs',
      flag: 'trial-drain',
      default: '60s',
      parse: duration,
      help: 'longest drain of a trial; one not drained by then, or whose queues have not moved for 20 s, does not pass (its queues are named)',
    },
    {
      key: 'settleTimeoutMs',
      flag: 'settle-timeout',
      default: '1m',
      parse: duration,
      help: "longest wait for the collectors' queues to empty before the next trial; a backlog left then, or one that has not moved for 20 s, gets the stack booted afresh",
    },
    {
      key: 'settleMs',
      flag: 'settle',
      default: '5s',
      parse: (raw, name) => parseDurationMs(raw, name),
      help: 'pause between trials once drained',
    },
  ],
};

/** Soak flags a capacity search sets itself: given by the user they are refused by name. */
export const SEARCH_OWNED_FLAGS = [
  'rate',
  'duration',
  'profile',
  'chaos',
  'chaos-file',
  'max-loss',
  'drain-timeout',
  'min-achieved-ratio',
  'max-latency-p99',
  'verify-sample',
  'verify-from-store',
  'store-handover',
] as const;

export function resolveCapacityOptions(flags: RawFlags, env: NodeJS.ProcessEnv): CapacityOptions {
  for (const flag of SEARCH_OWNED_FLAGS) {
    if (flags[flag] !== undefined)
      throw configurationError(
        `--${flag}`,
        flag === 'verify-from-store' || flag === 'store-handover'
          ? 'nothing: a capacity search verifies each trial as it ends (run `soak --storage s3 --verify-from-store` at the rate it finds)'
          : 'nothing: capacity chooses each trial’s rate and length (use --from, --to, --trial, --confirm, --trial-drain, --slo, --pdr)',
        flags[flag],
      );
  }
  const o = resolveOptions([CAPACITY_OPTIONS], flags, env).values as unknown as CapacityOptions;
  if (o.toRps <= o.fromRps) throw configurationError('--to', `a rate above --from (${o.fromRps})`, o.toRps);
  if (o.confirmMs < o.trialMs)
    throw configurationError('--confirm', `at least --trial (${o.trialMs / 1000} s)`, `${o.confirmMs / 1000}s`);
  if (o.maxTrials < 3)
    throw configurationError('--max-trials', 'at least 3 (a bracket and a confirmation)', o.maxTrials);
  return o;
}
