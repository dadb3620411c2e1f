import { createHash } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DebianRecipe } from '../catalog-types.js';
import { runCommand } from '../run-command.js';
import { APT_CACHE_DEPENDS_ARGS, dependencyClosure, parseAptCacheDepends } from './debian-closure.js';
import type { RecipeContext, RecipeResult } from './recipe-context.js';

export interface DebianSelection {
  /** Take the packages' dependency closure too. */
  dependencies?: boolean;
  /** Left out of the closure, with what only they pull in. */
  exclude?: readonly string[];
}

/** Cache directory name of a package selection; a plain list keeps the name it always had. */
export function debianCacheName(packages: readonly string[], selection: DebianSelection = {}): string {
  if (selection.dependencies !== true) return packages.join('+');
  const key = JSON.stringify({ packages, exclude: [...(selection.exclude ?? [])].sort() });
  return `${packages.join('+')}+deps-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}

/** `name version` per line, from downloaded file names (`haproxy_2.6.12-1+deb12u4_amd64.deb`). */
export function packageVersions(debFiles: readonly string[]): string {
  return (
    debFiles
      .filter((f) => f.endsWith('.deb'))
      .map((f) => {
        const [name, version] = f.slice(0, -'.deb'.length).split('_');
        return `${name} ${decodeURIComponent(version ?? '')}`;
      })
      .sort()
      .join('\n') + '\n'
  );
}

/**
 * Downloads Debian packages with apt-get (no root needed) and unpacks them with dpkg-deb, with their
 * dependency closure when asked. Returns the directory holding the unpacked files. Cached per selection;
 * the downloaded versions are listed in `packages.txt` beside it.
 */
export async function unpackDebianPackages(
  packages: string[],
  toolsDir: string,
  ctx: Pick<RecipeContext, 'step' | 'line' | 'env'>,
  selection: DebianSelection = {},
): Promise<string> {
  const dir = join(toolsDir, 'debian', debianCacheName(packages, selection));
  const root = join(dir, 'root');
  if (existsSync(join(dir, 'unpacked'))) return root;
  let names = packages;
  if (selection.dependencies === true) {
    ctx.step(`resolving the dependencies of ${packages.join(', ')}`);
    const graph = parseAptCacheDepends(
      await runCommand('apt-cache', [...APT_CACHE_DEPENDS_ARGS, ...packages], { env: ctx.env, captureStdout: true }),
    );
    names = dependencyClosure(graph, packages, selection.exclude);
  }
  ctx.step(`downloading ${names.length} Debian package${names.length === 1 ? '' : 's'} (${packages.join(', ')})`);
  await rm(dir, { recursive: true, force: true });
  const debs = join(dir, 'debs');
  await mkdir(debs, { recursive: true });
  await runCommand('apt-get', ['download', ...names], { cwd: debs, env: ctx.env, onLine: ctx.line });
  await mkdir(root, { recursive: true });
  const files = readdirSync(debs).filter((f) => f.endsWith('.deb'));
  for (const deb of files) {
    await runCommand('dpkg-deb', ['-x', join(debs, deb), root]);
  }
  writeFileSync(join(dir, 'packages.txt'), packageVersions(files));
  await mkdir(join(dir, 'unpacked'));
  return root;
}

export async function buildFromDebian(recipe: DebianRecipe, ctx: RecipeContext): Promise<RecipeResult> {
  const root = await unpackDebianPackages(recipe.packages, ctx.toolsDir, ctx, {
    dependencies: recipe.dependencies === true,
    exclude: recipe.excludePackages ?? [],
  });
  const outputs = new Map(recipe.files.map((f) => [f.to, join(root, f.from)] as const));
  for (const [name, path] of outputs) {
    if (!existsSync(path))
      throw new Error(`Debian packages ${recipe.packages.join(', ')} hold no ${path} (output ${name})`);
  }
  return { outputs, sourceDir: undefined };
}
