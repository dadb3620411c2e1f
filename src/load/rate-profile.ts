import { configurationError } from '../harness-error.js';
import { parseDurationMs } from '../options/duration.js';
import type { RateProfile } from '../../generators/rate-profile.js';

export { dueTimeMs, itemsDue, rateAt, totalItems, type RateProfile } from '../../generators/rate-profile.js';

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
