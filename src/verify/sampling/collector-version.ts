import { loadCatalog } from '../../images/catalog.js';

/** The contrib collector version whose rules a prediction follows, and where it came from. */
export interface CollectorVersion {
  major: number;
  minor: number;
  patch: number;
  /** e.g. `0.157.0`, or `0.158.0 (the catalog's pin: the running version is unknown)`. */
  text: string;
}

const SEMVER = /(\d+)\.(\d+)\.(\d+)/g;

/** The last `x.y.z` in `text` (a version, `v0.157.0`, or an image reference ending in its tag). */
export function parseCollectorVersion(text: string): CollectorVersion | undefined {
  const found = [...text.matchAll(SEMVER)].at(-1);
  if (found === undefined) return undefined;
  const [major, minor, patch] = [found[1], found[2], found[3]].map(Number) as [number, number, number];
  return { major, minor, patch, text: `${major}.${minor}.${patch}` };
}

/**
 * The version the collector runs (`given`: a version or image reference), or the catalog's otelcol pin
 * when it is absent or carries no `x.y.z`, saying so in `text`.
 */
export function collectorVersionOf(given: string | undefined, pinned: () => string = catalogPin): CollectorVersion {
  const parsed = given === undefined ? undefined : parseCollectorVersion(given);
  if (parsed !== undefined) return parsed;
  const pin = pinned();
  const fallback = parseCollectorVersion(pin);
  if (fallback === undefined) throw new Error(`the catalog's otelcol version '${pin}' is not x.y.z`);
  const why = given === undefined ? 'the running version is unknown' : `'${given}' names no version`;
  return { ...fallback, text: `${fallback.text} (the catalog's pin: ${why})` };
}

/** Whether `v` is `major.minor.patch` or later. */
export function atLeast(v: CollectorVersion, major: number, minor: number, patch = 0): boolean {
  if (v.major !== major) return v.major > major;
  if (v.minor !== minor) return v.minor > minor;
  return v.patch >= patch;
}

function catalogPin(): string {
  const otelcol = loadCatalog().components.get('otelcol');
  if (otelcol === undefined) throw new Error('the catalog pins no otelcol component');
  return otelcol.version;
}
