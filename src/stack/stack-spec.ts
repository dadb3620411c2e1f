import { readFileSync } from 'node:fs';
import { parseDocument, stringify } from 'yaml';
import { configurationError } from '../harness-error.js';
import { Fields } from '../options/fields.js';
import { TOPOLOGIES } from './registry.js';

export const STACK_SPEC_VERSION = 'otel-harness/v1';

/**
 * A stack a user brings, in one file: topology, its options, image versions or references, collector
 * configurations per role and an OCB manifest. What `up --print-spec` writes and a regression gate compares.
 */
export interface StackSpec {
  topology: string;
  source: string | undefined;
  /** Topology options by flag name (e.g. traces: tempo). */
  options: Record<string, string>;
  images: Record<string, string>;
  collectorConfigs: Record<string, string>;
  otelcolManifest: string | undefined;
}

const KEYS = ['apiVersion', 'topology', 'source', 'options', 'images', 'collectorConfigs', 'otelcolManifest'];

/** Parses a stack spec; any bad field is one configuration error naming it (exit 2). */
export function parseStackSpec(text: string, path: string): StackSpec {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw configurationError(path, 'a YAML stack spec', doc.errors[0]!.message);
  const f = new Fields(doc.toJS() as unknown, path);
  for (const key of f.keys())
    if (!KEYS.includes(key)) throw configurationError(`${path} ${key}`, `one of the keys ${KEYS.join(', ')}`, key);
  const apiVersion = f.string('apiVersion');
  if (apiVersion !== STACK_SPEC_VERSION) throw configurationError(f.at('apiVersion'), STACK_SPEC_VERSION, apiVersion);
  const topology = f.oneOf(
    'topology',
    TOPOLOGIES.map((t) => t.name),
  );
  const scalarMap = (key: string): Record<string, string> => {
    const raw = (doc.toJS() as Record<string, unknown>)[key];
    if (raw === undefined || raw === null) return {};
    if (typeof raw !== 'object' || Array.isArray(raw))
      throw configurationError(f.at(key), 'a mapping', JSON.stringify(raw));
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
        throw configurationError(`${path} ${key}.${k}`, 'a scalar value', JSON.stringify(v));
      out[k] = String(v);
    }
    return out;
  };
  const options = scalarMap('options');
  const known = TOPOLOGIES.find((t) => t.name === topology)!.options.options.map((o) => o.flag);
  for (const k of Object.keys(options))
    if (!known.includes(k))
      throw configurationError(`${path} options.${k}`, `an option of ${topology} (${known.join(', ')})`, k);
  return {
    topology,
    source: f.optionalString('source'),
    options,
    images: scalarMap('images'),
    collectorConfigs: scalarMap('collectorConfigs'),
    otelcolManifest: f.optionalString('otelcolManifest'),
  };
}

export function readStackSpec(path: string): StackSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw configurationError('--stack', 'a readable stack spec file', `${path}: ${(err as Error).message}`);
  }
  return parseStackSpec(text, path);
}

/** A spec as YAML (what `up --print-spec` prints). */
export function renderStackSpec(spec: StackSpec): string {
  const body: Record<string, unknown> = { apiVersion: STACK_SPEC_VERSION, topology: spec.topology };
  if (spec.source !== undefined) body.source = spec.source;
  if (Object.keys(spec.options).length > 0) body.options = spec.options;
  if (Object.keys(spec.images).length > 0) body.images = spec.images;
  if (Object.keys(spec.collectorConfigs).length > 0) body.collectorConfigs = spec.collectorConfigs;
  if (spec.otelcolManifest !== undefined) body.otelcolManifest = spec.otelcolManifest;
  return `# otel-harness stack spec: otel-harness soak --stack <this file> (or up, chaos, gate)\n${stringify(body)}`;
}
