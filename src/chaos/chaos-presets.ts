import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Fields } from '../options/fields.js';
import { configurationError } from '../harness-error.js';
import { stacksDir } from '../paths.js';

/** A chaos preset (stacks/chaos/<name>.yaml): faults plus the soak options it is meant to run with. */
export interface ChaosPreset {
  name: string;
  description: string;
  /** Soak options (flag name → value) used unless given on the command line. */
  defaults: Record<string, string>;
  faults: string[];
}

/** The presets of a phase: stacks/chaos (Phase 1), stacks/chaos/phase<N> for the others. */
export function chaosPresetsDir(phase = '1'): string {
  return phase === '1' ? join(stacksDir(), 'chaos') : join(stacksDir(), 'chaos', `phase${phase}`);
}

export function listChaosPresets(dir = chaosPresetsDir()): string[] {
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => f.replace(/\.yaml$/, ''))
        .sort()
    : [];
}

export function loadChaosPreset(name: string, dir = chaosPresetsDir()): ChaosPreset {
  const names = listChaosPresets(dir);
  if (!names.includes(name)) throw configurationError('--scenario', `one of ${names.join(', ')}`, name);
  const file = join(dir, `${name}.yaml`);
  return parseChaosPreset(name, readFileSync(file, 'utf8'), file);
}

export function parseChaosPreset(name: string, text: string, file: string): ChaosPreset {
  const f = new Fields(parse(text) as unknown, file);
  const raw = (parse(text) as { defaults?: Record<string, unknown> }).defaults ?? {};
  const defaults = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v)]));
  return { name, description: f.string('description'), defaults, faults: f.stringList('faults') };
}

/** Reads a --chaos-file: a YAML list of faults, or a preset-shaped file with `faults:`. */
export function readChaosFile(path: string): string[] {
  if (!existsSync(path)) throw configurationError('--chaos-file', 'an existing YAML file', path);
  const doc = parse(readFileSync(path, 'utf8')) as unknown;
  const list = Array.isArray(doc) ? doc : (doc as { faults?: unknown }).faults;
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
    throw configurationError('--chaos-file', 'a YAML list of faults (or a file with faults:)', path);
  }
  return list;
}
