import { configurationError } from '../harness-error.js';
import { parseDurationMs } from '../config/duration.js';

/**
 * How the offered rate evolves over a run (open model: the schedule does not wait for answers).
 *  - constant: the target rate from the first second.
 *  - ramp:<duration>: linear from 0 to the target over <duration>, then constant.
 *  - steps:<n>: n equal steps up to the target (target/n, 2·target/n, …), each duration/n long.
 */
export type RateProfile = { kind: 'constant' } | { kind: 'ramp'; rampMs: number } | { kind: 'steps'; steps: number };

export function parseProfile(text: string): RateProfile {
  if (text === 'constant') return { kind: 'constant' };
  const [kind, arg] = text.split(':', 2);
  if (kind === 'ramp' && arg !== undefined) return { kind: 'ramp', rampMs: parseDurationMs(arg, '--profile ramp') };
  if (kind === 'steps' && arg !== undefined && /^[1-9]\d*$/.test(arg)) return { kind: 'steps', steps: Number(arg) };
  throw configurationError(
    '--profile',
    "'constant', 'ramp:<duration>' (e.g. ramp:30s) or 'steps:<n>' (e.g. steps:4)",
    text,
  );
}

export function describeProfile(p: RateProfile): string {
  return p.kind === 'constant' ? 'constant' : p.kind === 'ramp' ? `ramp:${p.rampMs / 1000}s` : `steps:${p.steps}`;
}

/** Offered rate (items/s) at `tMs` into a run of `durationMs` with target `rateRps`. */
export function rateAt(p: RateProfile, rateRps: number, tMs: number, durationMs: number): number {
  if (tMs < 0 || tMs >= durationMs) return 0;
  switch (p.kind) {
    case 'constant':
      return rateRps;
    case 'ramp':
      return tMs >= p.rampMs ? rateRps : (rateRps * tMs) / p.rampMs;
    case 'steps': {
      const stepMs = durationMs / p.steps;
      return (rateRps * (Math.floor(tMs / stepMs) + 1)) / p.steps;
    }
  }
}

/** Items offered from the start up to `tMs` (the integral of `rateAt`), not rounded. */
export function itemsDue(p: RateProfile, rateRps: number, tMs: number, durationMs: number): number {
  const t = Math.min(Math.max(tMs, 0), durationMs);
  switch (p.kind) {
    case 'constant':
      return (rateRps * t) / 1000;
    case 'ramp': {
      const r = Math.min(t, p.rampMs);
      const ramped = (rateRps * r * r) / (2 * p.rampMs * 1000);
      return ramped + (rateRps * Math.max(0, t - p.rampMs)) / 1000;
    }
    case 'steps': {
      const stepMs = durationMs / p.steps;
      const full = Math.min(Math.floor(t / stepMs), p.steps);
      let items = 0;
      for (let i = 0; i < full; i++) items += (rateRps * (i + 1) * stepMs) / (p.steps * 1000);
      if (full < p.steps) items += (rateRps * (full + 1) * (t - full * stepMs)) / (p.steps * 1000);
      return items;
    }
  }
}

/** Whole items a run offers in total. */
export function totalItems(p: RateProfile, rateRps: number, durationMs: number): number {
  return Math.floor(itemsDue(p, rateRps, durationMs, durationMs) + 1e-9);
}

/** The time (ms into the run) at which item number `n` (1-based) becomes due. */
export function dueTimeMs(p: RateProfile, rateRps: number, n: number, durationMs: number): number {
  let lo = 0;
  let hi = durationMs;
  for (let i = 0; i < 50 && hi - lo > 0.01; i++) {
    const mid = (lo + hi) / 2;
    if (itemsDue(p, rateRps, mid, durationMs) + 1e-9 >= n) hi = mid;
    else lo = mid;
  }
  return hi;
}
