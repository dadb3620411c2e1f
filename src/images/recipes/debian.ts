import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DebianRecipe } from '../catalog-types.js';
import { runCommand } from '../run-command.js';
import type { RecipeContext, RecipeResult } from './recipe-context.js';

/**
 * Downloads Debian packages with apt-get (no root needed) and unpacks them with dpkg-deb.
 * Returns the directory holding the unpacked files. Cached per package list.
 */
export async function unpackDebianPackages(
  packages: string[],
  toolsDir: string,
  ctx: Pick<RecipeContext, 'step' | 'line' | 'env'>,
): Promise<string> {
  const dir = join(toolsDir, 'debian', packages.join('+'));
  const root = join(dir, 'root');
  if (existsSync(join(dir, 'unpacked'))) return root;
  ctx.step(`downloading Debian packages ${packages.join(', ')}`);
  await rm(dir, { recursive: true, force: true });
  const debs = join(dir, 'debs');
  await mkdir(debs, { recursive: true });
  await runCommand('apt-get', ['download', ...packages], { cwd: debs, env: ctx.env, onLine: ctx.line });
  await mkdir(root, { recursive: true });
  for (const deb of readdirSync(debs).filter((f) => f.endsWith('.deb'))) {
    await runCommand('dpkg-deb', ['-x', join(debs, deb), root]);
  }
  await mkdir(join(dir, 'unpacked'));
  return root;
}

export async function buildFromDebian(recipe: DebianRecipe, ctx: RecipeContext): Promise<RecipeResult> {
  const root = await unpackDebianPackages(recipe.packages, ctx.toolsDir, ctx);
  const outputs = new Map(recipe.files.map((f) => [f.to, join(root, f.from)] as const));
  for (const [name, path] of outputs) {
    if (!existsSync(path))
      throw new Error(`Debian packages ${recipe.packages.join(', ')} hold no ${path} (output ${name})`);
  }
  return { outputs, sourceDir: undefined };
}
