import { configurationError } from '../harness-error.js';
import { parseDurationMs } from './duration.js';

/** Turns one raw value (flag, environment or file) into a typed one, or throws a configuration error naming `name`. */
export type Parse<T> = (raw: string, name: string) => T;

/**
 * One option: its flag, its default (defined here and nowhere else; `--help` prints it), its parser and
 * its help line. Read from `--<flag>`, then `OTEL_HARNESS_<FLAG>` (or `env`), then a stack spec, then the
 * default.
 */
export interface OptionDef<T = unknown> {
  /** Property of the resolved options. */
  key: string;
  flag: string;
  /** Default as typed on the command line, or undefined for none. */
  default: string | undefined;
  parse: Parse<T>;
  help: string;
  /** A flag without a value. */
  boolean?: boolean;
  /** May be given several times (the value is then a list). */
  repeatable?: boolean;
  /** Other environment variables read, after OTEL_HARNESS_<FLAG> (e.g. OTEL_EXPORTER_OTLP_ENDPOINT). */
  env?: readonly string[];
  /** Holds a secret (a token in headers): reports and logs say it is set, never what it is. */
  secret?: boolean;
  /**
   * Means something only when option `key` has `value` (`--log-rotate-size` with `--log-source file`): given
   * without it by flag or environment variable, it is refused (exit 2), never silently ignored.
   */
  onlyWith?: { key: string; value: string };
}

/** A named group of options: a verb's or a topology's. */
export interface OptionTable {
  /** e.g. 'soak', 'phase1', 'attach'. */
  name: string;
  /** Shown in messages: 'Phase 1', 'attach mode (--target)'. */
  title: string;
  /** What makes these options apply, said when one is given without it: 'add --phase 2'. */
  activation?: string;
  options: readonly OptionDef[];
}

/** What a report may show of resolved `values`: each secret option's value replaced by "(set, not shown)". */
export function publicValues(
  tables: readonly OptionTable[],
  values: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...values };
  for (const t of tables)
    for (const o of t.options) if (o.secret === true && out[o.key] !== undefined) out[o.key] = SECRET_SHOWN;
  return out;
}

export const SECRET_SHOWN = '(set, not shown)';

export function envName(flag: string): string {
  return `OTEL_HARNESS_${flag.toUpperCase().replaceAll('-', '_')}`;
}

// ── parsers ──────────────────────────────────────────────────────────────────────────────────────────

export const number =
  (rule: string, ok: (n: number) => boolean): Parse<number> =>
  (raw, name) => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || !ok(n)) throw configurationError(name, rule, raw);
    return n;
  };
export const positive = number('a number > 0', (n) => n > 0);
export const positiveInt = number('a whole number > 0', (n) => Number.isInteger(n) && n > 0);
export const nonNegativeInt = number('a whole number ≥ 0', (n) => Number.isInteger(n) && n >= 0);
export const fraction = number('a fraction between 0 and 1', (n) => n >= 0 && n <= 1);

/**
 * A ratio, written `5%` or `0.05` (→ 0.05) everywhere, checked by `ok`. A bare number that fails the
 * check but would pass as a percentage (`--tolerance 5`) is refused with "did you mean 5%?".
 */
export const ratio =
  (rule: string, ok: (r: number) => boolean): Parse<number> =>
  (raw, name) => {
    const t = raw.trim();
    const m = /^(\d+(?:\.\d+)?)%$/.exec(t);
    const r = m ? Number(m[1]) / 100 : /^\d*\.?\d+$/.test(t) ? Number(t) : Number.NaN;
    if (Number.isFinite(r) && ok(r)) return r;
    const asPercent = m === null && Number.isFinite(r) && ok(r / 100) ? `did you mean ${t}%?` : undefined;
    throw configurationError(name, rule, raw, asPercent);
  };

/** A ratio given in whole percent (an HPA's averageUtilization): `70%` or `0.7` → 70. */
export const wholePercent = (min: number, max: number): Parse<number> => {
  const parse = ratio(`a ratio from ${min}% to ${max}% (70% or 0.7), in whole percent`, (r) => {
    const pct = Math.round(r * 1e6) / 1e4;
    return Number.isInteger(pct) && pct >= min && pct <= max;
  });
  return (raw, name) => Math.round(parse(raw, name) * 100);
};

const BYTE_UNITS: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 };

/** A size in bytes as Kubernetes writes quantities (`10Mi`, `256Ki`, `1G`, `4096`), at least `min`. */
export const byteSize =
  (min: number): Parse<number> =>
  (raw, name) => {
    const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(raw.trim());
    const bytes = m === null ? Number.NaN : Math.round(Number(m[1]) * BYTE_UNITS[m[2] ?? '']!);
    if (!Number.isFinite(bytes) || bytes < min)
      throw configurationError(name, `a size of at least ${min} bytes (e.g. 10Mi, 256Ki, 4096)`, raw);
    return bytes;
  };

export const duration: Parse<number> = (raw, name) => {
  const ms = parseDurationMs(raw, name);
  if (ms <= 0) throw configurationError(name, 'a duration > 0', raw);
  return ms;
};

export const oneOf =
  <T extends string | number>(values: readonly T[]): Parse<T> =>
  (raw, name) => {
    const v = values.find((x) => String(x) === raw);
    if (v === undefined) throw configurationError(name, `one of ${values.join(', ')}`, raw);
    return v;
  };

/** A comma-separated list of distinct `values`, in the order given. */
export const listOf =
  <T extends string>(values: readonly T[]): Parse<T[]> =>
  (raw, name) => {
    const items = raw.split(',').map((x) => x.trim());
    const out: T[] = [];
    for (const item of items) {
      const v = values.find((x) => x === item);
      if (v === undefined) throw configurationError(name, `a comma-separated list of ${values.join(', ')}`, raw);
      if (out.includes(v)) throw configurationError(name, `each of ${values.join(', ')} at most once`, raw);
      out.push(v);
    }
    return out;
  };

export const text: Parse<string> = (raw, name) => {
  if (raw.trim() === '') throw configurationError(name, 'a value', raw);
  return raw;
};

export const bool: Parse<boolean> = (raw, name) => {
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw configurationError(name, 'true or false', raw);
};

/** An http(s) URL without a trailing slash. */
export const httpUrl: Parse<string> = (raw, name) => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw configurationError(name, 'an http(s) URL, e.g. http://127.0.0.1:4318', raw);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw configurationError(name, 'an http(s) URL, e.g. http://127.0.0.1:4318', raw);
  return raw.replace(/\/+$/, '');
};

/** `key=value` (e.g. --image otelcol=0.150.0). */
export const keyValue =
  (what: string): Parse<{ key: string; value: string }> =>
  (raw, name) => {
    const at = raw.indexOf('=');
    if (at <= 0 || at === raw.length - 1) throw configurationError(name, `${what} as key=value`, raw);
    return { key: raw.slice(0, at).trim(), value: raw.slice(at + 1).trim() };
  };
