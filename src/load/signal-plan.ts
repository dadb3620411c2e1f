import { configurationError } from '../harness-error.js';
import { SIGNALS, type Signal } from './ledger.js';

/**
 * Item rates per signal from `--rate` (total items/s) and `--signals`: `traces,metrics,logs` shares the
 * total evenly; `traces=20000,logs` gives traces 20000/s and logs the rest; all explicit needs no --rate.
 */
export function planSignalRates(rateRps: number | undefined, spec: string): Partial<Record<Signal, number>> {
  const entries = spec
    .split(',')
    .map((part) => part.trim())
    .filter((p) => p !== '');
  if (entries.length === 0) throw configurationError('--signals', `a list of ${SIGNALS.join(', ')}`, spec);
  const explicit = new Map<Signal, number>();
  const shared: Signal[] = [];
  for (const entry of entries) {
    const [name, value] = entry.split('=', 2) as [string, string | undefined];
    if (!(SIGNALS as readonly string[]).includes(name)) {
      throw configurationError('--signals', `signals from ${SIGNALS.join(', ')} (optionally name=rate)`, name);
    }
    const signal = name as Signal;
    if (explicit.has(signal) || shared.includes(signal))
      throw configurationError('--signals', 'each signal once', name);
    if (value === undefined) {
      shared.push(signal);
    } else {
      const rate = Number(value);
      if (!Number.isFinite(rate) || rate <= 0) throw configurationError(`--signals ${name}`, 'a rate > 0', value);
      explicit.set(signal, rate);
    }
  }
  const explicitTotal = [...explicit.values()].reduce((a, b) => a + b, 0);
  const rates: Partial<Record<Signal, number>> = Object.fromEntries(explicit);
  if (shared.length > 0) {
    if (rateRps === undefined) throw configurationError('--rate', 'a rate when some signals have none', 'missing');
    const rest = rateRps - explicitTotal;
    if (rest <= 0) {
      throw configurationError('--rate', `more than the explicit signal rates (${explicitTotal}/s)`, rateRps);
    }
    for (const s of shared) rates[s] = rest / shared.length;
  } else if (rateRps !== undefined && Math.abs(rateRps - explicitTotal) > 1e-9) {
    throw configurationError('--rate', `the sum of the signal rates (${explicitTotal}) or no --rate`, rateRps);
  }
  return rates;
}
