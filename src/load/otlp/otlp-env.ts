import { configurationError } from '../../harness-error.js';
import { SIGNALS, type Signal } from '../ledger.js';

/** The settings of the OpenTelemetry exporter conventions the harness reads (OTEL_EXPORTER_OTLP_<SETTING>). */
export const OTLP_ENV_SETTINGS = [
  'ENDPOINT',
  'PROTOCOL',
  'COMPRESSION',
  'HEADERS',
  'TIMEOUT',
  'CERTIFICATE',
  'CLIENT_KEY',
  'CLIENT_CERTIFICATE',
] as const;

const generic = (setting: string) => `OTEL_EXPORTER_OTLP_${setting}`;
const perSignal = (signal: Signal, setting: string) => `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_${setting}`;

/**
 * A per-signal endpoint as the base URL the harness posts `/v1/<signal>` under: the specification uses a
 * signal's own endpoint as is, so it must end in `/v1/<signal>` for the harness to drive it.
 */
function endpointBase(signal: Signal, url: string): string {
  const suffix = `/v1/${signal}`;
  const trimmed = url.replace(/\/+$/, '');
  if (!trimmed.endsWith(suffix))
    throw configurationError(
      perSignal(signal, 'ENDPOINT'),
      `a URL ending in ${suffix} (the harness posts each signal to <base>/v1/<signal>)`,
      url,
    );
  return trimmed.slice(0, -suffix.length);
}

/**
 * The environment with the OpenTelemetry exporter conventions' per-signal variables applied: for each
 * setting, a signal's own variable (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) wins over the generic one
 * (OTEL_EXPORTER_OTLP_ENDPOINT), as the specification orders them. The harness drives one OTLP target with
 * one set of settings, so the signals must end up agreeing: the agreed value becomes the generic
 * variable's (which the options read); signals that disagree are one configuration error naming both.
 * An environment without per-signal variables is returned as it is.
 */
export function withSignalOtlpEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const setting of OTLP_ENV_SETTINGS) {
    const given = SIGNALS.filter((s) => (env[perSignal(s, setting)] ?? '') !== '');
    if (given.length === 0) continue;
    const base = env[generic(setting)] ?? '';
    const effective = new Map<string, { value: string; from: string[] }>();
    for (const s of SIGNALS) {
      const own = env[perSignal(s, setting)] ?? '';
      const [raw, from] = own !== '' ? [own, perSignal(s, setting)] : [base, generic(setting)];
      if (raw === '') continue;
      const value = setting === 'ENDPOINT' && own !== '' ? endpointBase(s, raw) : raw;
      const entry = effective.get(value) ?? { value, from: [] };
      if (!entry.from.includes(from)) entry.from.push(from);
      effective.set(value, entry);
    }
    // The generic variable's value first: the message names a signal's own variable as the one that differs.
    const values = [...effective.values()]
      .sort((x, y) => Number(x.from.includes(generic(setting))) - Number(y.from.includes(generic(setting))))
      .reverse();
    if (values.length > 1) {
      const [a, b] = values as [{ value: string; from: string[] }, { value: string; from: string[] }];
      const shown = (v: { value: string }) => (setting === 'HEADERS' ? '(not shown)' : v.value);
      throw configurationError(
        b.from[0]!,
        `the same ${setting.toLowerCase().replaceAll('_', ' ')} for every signal (the harness drives one OTLP target with one set of settings)`,
        shown(b),
        `${a.from.join(', ')} gives ${shown(a)}; set one value for all signals, or drive each target in its own run with --signals`,
      );
    }
    out[generic(setting)] = values[0]!.value;
  }
  return out;
}
