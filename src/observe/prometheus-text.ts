import { httpGet } from './http-auth.js';
/** One sample of the Prometheus text exposition format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the text exposition format (comments and blank lines skipped). Pure. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) {
      labels[l[1]!] = l[2]!.replace(/\\"/g, '"').replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
    }
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    samples.push({ name: m[1]!, labels, value });
  }
  return samples;
}

/** Sum of the samples whose name matches `name` and whose labels include `where`. */
export function sumOf(samples: readonly Sample[], name: RegExp, where: Record<string, string | RegExp> = {}): number {
  let sum = 0;
  for (const s of samples) {
    if (!name.test(s.name)) continue;
    let ok = true;
    for (const [k, v] of Object.entries(where)) {
      const actual = s.labels[k];
      if (actual === undefined || (typeof v === 'string' ? actual !== v : !v.test(actual))) {
        ok = false;
        break;
      }
    }
    if (ok) sum += s.value;
  }
  return sum;
}

/** Sums grouped by one label. */
export function sumBy(samples: readonly Sample[], name: RegExp, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (!name.test(s.name)) continue;
    const key = s.labels[label] ?? '';
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

/** GETs (with its origin's credentials) and parses a /metrics endpoint. */
export async function scrape(url: string, timeoutMs = 5_000): Promise<Sample[]> {
  const { status, text } = await httpGet(url, {}, timeoutMs);
  if (status !== 200) throw new Error(`GET ${url}: HTTP ${status}`);
  return parsePrometheusText(text);
}
