import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { configurationError } from '../../harness-error.js';
import type { OcbRecipe } from '../catalog-types.js';
import { runCommand } from '../run-command.js';
import type { RecipeContext, RecipeResult } from './recipe-context.js';

/** Parses `module@version`. */
export function splitModuleRef(ref: string): { module: string; version: string } {
  const at = ref.lastIndexOf('@');
  if (at <= 0 || at === ref.length - 1) throw configurationError('recipe.builder', 'module@version', ref);
  return { module: ref.slice(0, at), version: ref.slice(at + 1) };
}

/**
 * The manifest as OCB should see it: output under the build directory, and a version check against
 * the catalog so the two pins cannot drift apart.
 */
export function prepareManifest(
  text: string,
  manifestName: string,
  catalogVersion: string,
  outputPath: string,
): string {
  const doc = parseDocument(text);
  const version = doc.getIn(['dist', 'version']);
  if (version !== catalogVersion) {
    throw configurationError(`${manifestName} dist.version`, `the catalog's version ${catalogVersion}`, version);
  }
  doc.setIn(['dist', 'output_path'], outputPath);
  return doc.toString();
}

/** Builds a Collector distribution with the OpenTelemetry Collector Builder (OCB). */
export async function buildWithOcb(recipe: OcbRecipe, ctx: RecipeContext): Promise<RecipeResult> {
  const { version } = splitModuleRef(recipe.builder);
  const gobin = join(ctx.toolsDir, `ocb-${version}`);
  const builder = join(gobin, 'builder');
  if (!existsSync(builder)) {
    ctx.step(`installing the Collector Builder ${version}`);
    await mkdir(gobin, { recursive: true });
    await runCommand('go', ['install', recipe.builder], { env: { ...ctx.env, GOBIN: gobin }, onLine: ctx.line });
  }
  const outputPath = join(ctx.workDir, '_build');
  const manifestPath = join(ctx.workDir, 'manifest.yaml');
  const manifest = prepareManifest(
    readFileSync(resolve(ctx.stacksDir, recipe.manifest), 'utf8'),
    recipe.manifest,
    ctx.spec.version,
    outputPath,
  );
  writeFileSync(manifestPath, manifest);
  ctx.step('generating, resolving modules and compiling (OCB)');
  await runCommand(builder, ['--config', manifestPath], {
    cwd: ctx.workDir,
    env: { ...ctx.env, CGO_ENABLED: '0', GOWORK: 'off' },
    onLine: ctx.line,
  });
  return { outputs: new Map([[recipe.binary, join(outputPath, recipe.binary)]]), sourceDir: undefined };
}
