import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { configurationError } from '../harness-error.js';
import { stacksDir } from '../paths.js';

/**
 * Which collector distribution a configuration needs: the components its configuration names against the
 * OCB manifests the harness builds (the default collector, and the platform distribution with what platform
 * teams' configurations commonly add). A configuration the default collector cannot run is given the
 * platform distribution, built on first use; one that neither carries is refused before anything starts.
 */

export const KINDS = ['receivers', 'processors', 'exporters', 'connectors', 'extensions'] as const;
export type ComponentKind = (typeof KINDS)[number];

export const DEFAULT_MANIFEST = 'otelcol/manifest.yaml';
export const PLATFORM_MANIFEST = 'otelcol/manifest-platform.yaml';

/**
 * A component type as the manifest's module names it: underscores dropped (collector 0.158 renamed e.g.
 * `k8sattributes` to `k8s_attributes` and keeps the old name as an alias). Types whose module says
 * otherwise are listed.
 */
const TYPE_ALIASES: Readonly<Record<string, string>> = {
  otlpgrpc: 'otlp', // exporter/otlpexporter: otlp_grpc since 0.158 (otlp before)
  oauth2client: 'oauth2clientauth', // extension/oauth2clientauthextension
};

export function normalizedType(type: string): string {
  const plain = type.split('/')[0]!.replaceAll('_', '').toLowerCase();
  return TYPE_ALIASES[plain] ?? plain;
}

/** The component types of an OCB manifest, by kind, normalized (module basename without its kind suffix). */
export function manifestComponents(text: string): Record<ComponentKind, Set<string>> {
  const doc = (parse(text) ?? {}) as Record<string, unknown>;
  const out = Object.fromEntries(KINDS.map((k) => [k, new Set<string>()])) as Record<ComponentKind, Set<string>>;
  for (const kind of KINDS) {
    const suffix = kind.slice(0, -1); // receiver, processor, …
    for (const entry of (doc[kind] as { gomod?: string }[] | undefined) ?? []) {
      const module = (entry.gomod ?? '').split(' ')[0]!;
      const base = module.slice(module.lastIndexOf('/') + 1);
      out[kind].add(base.endsWith(suffix) ? base.slice(0, -suffix.length) : base);
    }
  }
  return out;
}

/** The components a collector configuration names: `kind: type` for each key of its component sections. */
export function configComponents(text: string): { kind: ComponentKind; type: string }[] {
  const doc = (parse(text) ?? {}) as Record<string, unknown>;
  const out: { kind: ComponentKind; type: string }[] = [];
  for (const kind of KINDS) {
    const section = doc[kind];
    if (section === null || typeof section !== 'object') continue;
    for (const key of Object.keys(section)) out.push({ kind, type: key.split('/')[0]! });
  }
  return out;
}

/** What `configs` ask of the distributions: none missing from the default, or which other one has them all. */
export interface DistributionChoice {
  /** The manifest (relative to stacks/) to build, when the default collector lacks a component; undefined: the default. */
  manifest: string | undefined;
  /** `kind type` of each component the default collector lacks. */
  beyondDefault: string[];
}

/**
 * The distribution the configuration files need. A component neither distribution carries is a
 * configuration error naming it (exit 2), before anything is built or started.
 */
export function distributionFor(configs: Readonly<Record<string, string>>): DistributionChoice {
  const read = (m: string) => manifestComponents(readFileSync(join(stacksDir(), m), 'utf8'));
  const byDefault = read(DEFAULT_MANIFEST);
  let platform: Record<ComponentKind, Set<string>> | undefined;
  const beyondDefault: string[] = [];
  const nowhere: string[] = [];
  const flags: string[] = [];
  for (const [role, file] of Object.entries(configs)) {
    // A missing or unreadable file is the topology's check to report; YAML errors the validate command's.
    let named: { kind: ComponentKind; type: string }[];
    try {
      named = existsSync(file) ? configComponents(readFileSync(file, 'utf8')) : [];
    } catch {
      named = [];
    }
    for (const { kind, type } of named) {
      const t = normalizedType(type);
      if (byDefault[kind].has(t)) continue;
      const name = `${kind.slice(0, -1)} ${type}`;
      platform ??= read(PLATFORM_MANIFEST);
      if (platform[kind].has(t)) {
        if (!beyondDefault.includes(name)) beyondDefault.push(name);
      } else if (!nowhere.includes(name)) {
        nowhere.push(name);
        flags.push(`--collector-config ${role === 'collector' ? '' : `${role}=`}${file}`);
      }
    }
  }
  if (nowhere.length > 0)
    throw configurationError(
      flags[0]!,
      `components the collectors built here carry (stacks/${DEFAULT_MANIFEST}, stacks/${PLATFORM_MANIFEST})`,
      nowhere.join(', '),
      'build your own distribution with --otelcol-manifest (an OCB manifest at the catalog collector version), or run the stack elsewhere and attach to it (--otlp-endpoint)',
    );
  return { manifest: beyondDefault.length > 0 ? PLATFORM_MANIFEST : undefined, beyondDefault };
}

/**
 * What to do when a collector image's validate command named component types it does not know (`unknown
 * type: "transform"`): the platform distribution when it carries them all, else a distribution of one's own.
 * Undefined when the lines name no unknown type.
 */
export function unknownComponentsHint(validateLines: readonly string[]): string | undefined {
  const types = new Set<string>();
  for (const line of validateLines)
    for (const m of line.matchAll(/unknown type: \\?"([\w/.-]+)\\?"/g)) types.add(m[1]!);
  if (types.size === 0) return undefined;
  const platform = manifestComponents(readFileSync(join(stacksDir(), PLATFORM_MANIFEST), 'utf8'));
  const carried = [...types].every((t) => KINDS.some((k) => platform[k].has(normalizedType(t))));
  const named = [...types].join(', ');
  return carried
    ? `this collector lacks ${named}; stacks/${PLATFORM_MANIFEST} carries ${types.size > 1 ? 'them' : 'it'} and is chosen by itself when neither --image otelcol nor --otelcol-manifest is given (with --image otelcol=<version>, give --otelcol-manifest with a manifest at that version, or --source upstream for the published contrib image)`
    : `this collector lacks ${named}, and neither collector built here carries ${types.size > 1 ? 'them' : 'it'}: build your own distribution with --otelcol-manifest, or run the stack elsewhere and attach to it`;
}
