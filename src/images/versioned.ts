import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { configurationError, ExitCode, HarnessError } from '../harness-error.js';
import type { ComponentSpec } from './catalog-types.js';
import { splitModuleRef } from './recipes/ocb.js';
import { runCommand } from './run-command.js';

/** Whether `--image` names an image reference (registry/repo:tag) rather than a version. */
export function isImageReference(value: string): boolean {
  return value.includes('/') || /^[a-z0-9.-]+:[^/]+$/i.test(value);
}

/** Evaluates a catalog template like `v0.{major*100+minor}.{patch}` for `3.15.0`. */
export function moduleVersionFor(template: string, version: string): string {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (m === null) throw configurationError('--image', 'a version like 3.6.2', version);
  const vars: Record<string, number> = { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
  return template.replace(/\{([^}]+)\}/g, (_, expr: string) => {
    // sums of products of variables and integers: major*100+minor, minor+63
    let sum = 0;
    for (const term of expr.split('+')) {
      let product = 1;
      for (const factor of term.split('*')) {
        const f = factor.trim();
        const v = /^\d+$/.test(f) ? Number(f) : vars[f];
        if (v === undefined) throw new Error(`moduleVersionOf: unknown '${f}' in ${template}`);
        product *= v;
      }
      sum += product;
    }
    return String(sum);
  });
}

/** The versions of `module` the Go module proxy serves. */
export async function servedVersions(module: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const out = await runCommand('go', ['list', '-m', '-versions', module], {
    captureStdout: true,
    env: { ...env, GOFLAGS: '-mod=mod', GOWORK: 'off' },
    cwd: '/',
  }).catch(() => '');
  return out.trim().split(/\s+/).slice(1);
}

function refused(component: string, asked: string, module: string, served: string[]): HarnessError {
  const list = served.length === 0 ? 'none' : served.slice(-15).join(', ');
  return configurationError(
    `--image ${component}`,
    `a version the Go module proxy serves for ${module} (served: ${list})`,
    asked,
  );
}

/**
 * The catalog entry of `component` at another version, built here like the pinned one: for a Go module,
 * the module version the catalog's `moduleVersionOf` maps it to (or a module version given as `v…`); for
 * the collector, the OCB manifest with every component moved to that release. The module proxy must serve
 * it; otherwise exit 2 naming the versions it does serve.
 */
export async function specAtVersion(
  spec: ComponentSpec,
  version: string,
  stacksDir: string,
  cacheDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ComponentSpec> {
  if (version === spec.version) return spec;
  const upstream = spec.upstream.replace(/:[^:/]+$/, `:${spec.upstream.includes(':v') ? 'v' : ''}${version}`);
  const recipe = spec.recipe;
  if (recipe.kind === 'go-module') {
    const moduleVersion = version.startsWith('v')
      ? version
      : recipe.moduleVersionOf === undefined
        ? undefined
        : moduleVersionFor(recipe.moduleVersionOf, version);
    if (moduleVersion === undefined) {
      throw configurationError(
        `--image ${spec.name}`,
        `a module version of ${recipe.module} (v…): its releases are not module versions`,
        version,
      );
    }
    const served = await servedVersions(recipe.module, env);
    if (!served.includes(moduleVersion) && !moduleVersion.includes('-'))
      throw refused(spec.name, version, recipe.module, served);
    return {
      ...spec,
      version: version.replace(/^v/, ''),
      upstream,
      recipe: {
        ...recipe,
        moduleVersion,
        sum: undefined,
        checksumDatabase: true,
        builds: recipe.builds.map((b) => ({
          ...b,
          ldflags: b.ldflags.map((f) => f.replaceAll(spec.version, version)),
        })),
      },
    };
  }
  if (recipe.kind === 'ocb') {
    const { module: builderModule } = splitModuleRef(recipe.builder);
    const served = await servedVersions(builderModule, env);
    const v = `v${version.replace(/^v/, '')}`;
    if (!served.includes(v)) throw refused(spec.name, version, builderModule, served);
    const manifest = manifestAtVersion(
      readFileSync(resolve(stacksDir, recipe.manifest), 'utf8'),
      spec.version,
      version.replace(/^v/, ''),
    );
    const path = writeDerived(cacheDir, `manifest-${version}`, manifest.text);
    await checkManifestModules(manifest.modules, spec.name, version, env);
    return {
      ...spec,
      version: version.replace(/^v/, ''),
      upstream,
      recipe: { ...recipe, builder: `${builderModule}@${v}`, manifest: path },
    };
  }
  throw configurationError(`--image ${spec.name}`, 'a component built from Go modules', version);
}

/** The collector built from the user's own OCB manifest (its dist.version must be the catalog's or `--image`'s). */
export function specWithManifest(spec: ComponentSpec, manifestPath: string, cacheDir: string): ComponentSpec {
  if (spec.recipe.kind !== 'ocb') throw configurationError('--otelcol-manifest', 'the otelcol component', spec.name);
  if (!existsSync(manifestPath))
    throw configurationError('--otelcol-manifest', 'an existing OCB manifest file', manifestPath);
  const text = readFileSync(manifestPath, 'utf8');
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw configurationError('--otelcol-manifest', 'a YAML OCB manifest', doc.errors[0]!.message);
  const raw = doc.getIn(['dist', 'version']);
  const version = typeof raw === 'string' || typeof raw === 'number' ? String(raw) : '';
  if (version !== spec.version)
    throw configurationError(
      '--otelcol-manifest dist.version',
      `the collector version being built (${spec.version}; choose another with --image otelcol=<version>)`,
      version,
    );
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 12);
  const path = writeDerived(cacheDir, `manifest-user-${hash}`, text);
  // A build of the user's own manifest has no published image: never pulled in its place.
  return {
    ...spec,
    tag: `${spec.version}-manifest-${hash}`,
    published: false,
    recipe: { ...spec.recipe, manifest: path },
  };
}

/** Moves every component of an OCB manifest from `from` to `to` (stable v1.x modules by the same distance). */
export function manifestAtVersion(text: string, from: string, to: string): { text: string; modules: string[] } {
  const [, fromMinor] = from.split('.').map(Number) as [number, number, number];
  const [, toMinor, toPatch] = to.split('.').map(Number) as [number, number, number];
  const modules: string[] = [];
  const out = text.replace(
    /(gomod:\s*)(\S+)\s+v(\d+)\.(\d+)\.(\d+)/g,
    (all, prefix: string, module: string, maj, min) => {
      let v: string;
      if (`${maj}.${min}` === from.split('.').slice(0, 2).join('.') && maj === '0') v = `v0.${toMinor}.${toPatch}`;
      else if (maj === '1') v = `v1.${Number(min) + (toMinor - fromMinor)}.${toPatch}`;
      else return all;
      modules.push(`${module}@${v}`);
      return `${prefix}${module} ${v}`;
    },
  );
  const doc = parseDocument(out);
  doc.setIn(['dist', 'version'], to);
  return { text: doc.toString(), modules };
}

async function checkManifestModules(modules: string[], component: string, version: string, env: NodeJS.ProcessEnv) {
  const missing: string[] = [];
  await Promise.all(
    modules.map(async (ref) => {
      await runCommand('go', ['list', '-m', '-json', ref], {
        captureStdout: true,
        env: { ...env, GOFLAGS: '-mod=mod', GOWORK: 'off' },
        cwd: '/',
      }).catch(() => missing.push(ref));
    }),
  );
  if (missing.length > 0) {
    throw new HarnessError(
      `Configuration: --image ${component} is invalid, expected a release whose components the Go module proxy serves (actual: '${version}': not served: ${missing.sort().join(', ')})`,
      { code: 'CONFIGURATION', exitCode: ExitCode.usage },
    );
  }
}

function writeDerived(cacheDir: string, name: string, text: string): string {
  const dir = join(cacheDir, 'derived');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, text);
  return path;
}
