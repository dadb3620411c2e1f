import { configurationError } from '../harness-error.js';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * Parses `250ms`, `30s`, `10m`, `1h`, `1m30s` into milliseconds. A number needs its unit — `30` could be
 * seconds or milliseconds — except `0`.
 */
export function parseDurationMs(text: string, name: string): number {
  const trimmed = text.trim();
  if (/^0+(\.0+)?$/.test(trimmed)) return 0;
  if (/^\d+(\.\d+)?$/.test(trimmed))
    throw configurationError(
      name,
      'a duration with its unit, like 30s, 10m, 1h or 1m30s',
      text,
      `did you mean ${trimmed}s?`,
    );
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed) {
    throw configurationError(name, 'a duration like 30s, 10m, 1h or 1m30s', text);
  }
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * (UNITS[p[2]!] ?? 0), 0));
}

export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  const s = Math.round(ms / 1_000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
}
