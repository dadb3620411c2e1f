/** Nanoseconds per unit of Go's time.ParseDuration (`us`, `µs` U+00B5 and `μs` U+03BC are the same unit). */
const UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  '\u00b5s': 1e3,
  '\u03bcs': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const PART = /^(\d*)(?:\.(\d*))?(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/;

/**
 * A duration as the collector reads it from its configuration, in milliseconds (fractions kept): a string
 * goes through Go's time.ParseDuration rules (optional sign, then one or more `<decimal><unit>` parts such
 * as `1h30m`, `1.5s`, `.5s`, `250ms`, `100us`/`100µs`, `10ns`; `0` alone; no unit-less numbers), and a YAML
 * integer is a count of nanoseconds (time.Duration's underlying int64). Undefined when the value is not a
 * duration the collector accepts.
 */
export function goDurationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value / 1e6 : undefined;
  if (typeof value !== 'string') return undefined;
  let rest = value;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let ns = 0;
  while (rest !== '') {
    const m = PART.exec(rest);
    if (m === null) return undefined;
    const whole = m[1] ?? '';
    const fraction = m[2] ?? '';
    // Go needs a digit before or after the point: "." and ".s" are errors, "5." and ".5" are not.
    if (whole === '' && fraction === '') return undefined;
    const unit = UNIT_NS[m[3]!]!;
    // Whole units exactly; the fraction truncated to whole nanoseconds, as Go does.
    const digits = fraction.slice(0, 15);
    ns += Number(whole || '0') * unit + Math.trunc((Number(digits || '0') * unit) / 10 ** digits.length);
    rest = rest.slice(m[0].length);
  }
  return (sign * ns) / 1e6;
}
