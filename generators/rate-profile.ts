/**
 * How the offered rate evolves over a run (open model: the schedule does not wait for answers). Pure
 * arithmetic shared by the native driver's scheduler, the metric generator's clock and the verifiers, so
 * that when a unit is due — and therefore which timestamp a metric sample carries — is known everywhere.
 *  - constant: the target rate from the first second.
 *  - ramp: linear from 0 to the target over `rampMs`, then constant.
 *  - steps: `steps` equal steps up to the target (target/n, 2·target/n, …), each duration/n long.
 */
export type RateProfile = { kind: 'constant' } | { kind: 'ramp'; rampMs: number } | { kind: 'steps'; steps: number };

/** Offered rate (units/s) at `tMs` into a run of `durationMs` with target `rate`. */
export function rateAt(p: RateProfile, rate: number, tMs: number, durationMs: number): number {
  if (tMs < 0 || tMs >= durationMs) return 0;
  switch (p.kind) {
    case 'constant':
      return rate;
    case 'ramp':
      return tMs >= p.rampMs ? rate : (rate * tMs) / p.rampMs;
    case 'steps': {
      const stepMs = durationMs / p.steps;
      return (rate * (Math.floor(tMs / stepMs) + 1)) / p.steps;
    }
  }
}

/** Units offered from the start up to `tMs` (the integral of `rateAt`), not rounded. */
export function itemsDue(p: RateProfile, rate: number, tMs: number, durationMs: number): number {
  const t = Math.min(Math.max(tMs, 0), durationMs);
  switch (p.kind) {
    case 'constant':
      return (rate * t) / 1000;
    case 'ramp': {
      const r = Math.min(t, p.rampMs);
      const ramped = (rate * r * r) / (2 * p.rampMs * 1000);
      return ramped + (rate * Math.max(0, t - p.rampMs)) / 1000;
    }
    case 'steps': {
      const stepMs = durationMs / p.steps;
      const full = Math.min(Math.floor(t / stepMs), p.steps);
      let items = 0;
      for (let i = 0; i < full; i++) items += (rate * (i + 1) * stepMs) / (p.steps * 1000);
      if (full < p.steps) items += (rate * (full + 1) * (t - full * stepMs)) / (p.steps * 1000);
      return items;
    }
  }
}

/** Whole units a run offers in total. */
export function totalItems(p: RateProfile, rate: number, durationMs: number): number {
  return Math.floor(itemsDue(p, rate, durationMs, durationMs) + 1e-9);
}

/**
 * The time (ms into the run) at which unit number `n` (1-based) becomes due: the inverse of `itemsDue`,
 * in closed form per profile (deterministic in every JavaScript engine: only +, −, ×, ÷ and sqrt).
 */
export function dueTimeMs(p: RateProfile, rate: number, n: number, durationMs: number): number {
  if (n <= 0) return 0;
  switch (p.kind) {
    case 'constant':
      return Math.min(durationMs, (n * 1000) / rate);
    case 'ramp': {
      const rampItems = (rate * p.rampMs) / 2000;
      if (n <= rampItems) return Math.min(durationMs, Math.sqrt((2 * p.rampMs * 1000 * n) / rate));
      return Math.min(durationMs, p.rampMs + ((n - rampItems) * 1000) / rate);
    }
    case 'steps': {
      const stepMs = durationMs / p.steps;
      let before = 0;
      for (let i = 0; i < p.steps; i++) {
        const stepRate = (rate * (i + 1)) / p.steps;
        const inStep = (stepRate * stepMs) / 1000;
        if (n <= before + inStep || i === p.steps - 1) {
          return Math.min(durationMs, i * stepMs + ((n - before) * 1000) / stepRate);
        }
        before += inStep;
      }
      return durationMs;
    }
  }
}
