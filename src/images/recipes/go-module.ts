import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rm, cp } from 'node:fs/promises';
import { join } from 'node:path';
import { ExitCode, HarnessError } from '../../harness-error.js';
import type { GoModuleRecipe } from '../catalog-types.js';
import { runCommand } from '../run-command.js';
import type { RecipeContext, RecipeResult } from './recipe-context.js';

interface ModuleDownload {
  Dir?: string;
  Sum?: string;
  Error?: string;
}

/** Environment for module downloads and builds: static binaries, module mode, no workspace files. */
export function goBuildEnv(recipe: GoModuleRecipe, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, CGO_ENABLED: '0', GOWORK: 'off', GOFLAGS: '-mod=mod' };
  if (!recipe.checksumDatabase) {
    env.GONOSUMDB = [base.GONOSUMDB, recipe.module].filter((s) => s !== undefined && s !== '').join(',');
  }
  return env;
}

/** `go build` arguments for one binary. */
export function goBuildArgs(
  build: { package: string; tags: string[]; ldflags: string[] },
  outputPath: string,
): string[] {
  const args = ['build', '-trimpath', `-ldflags=${['-s', '-w', ...build.ldflags].join(' ')}`];
  if (build.tags.length > 0) args.push('-tags', build.tags.join(','));
  args.push('-o', outputPath, build.package);
  return args;
}

/**
 * Download-copy-build: `go install mod@version` refuses modules whose go.mod has replace directives,
 * so the module is downloaded, copied out of the read-only module cache and built in place.
 */
export async function buildGoModule(recipe: GoModuleRecipe, ctx: RecipeContext): Promise<RecipeResult> {
  const env = goBuildEnv(recipe, ctx.env);
  const ref = `${recipe.module}@${recipe.moduleVersion}`;
  const sourceDir = join(ctx.workDir, 'src');
  const marker = join(ctx.workDir, 'src.ready');
  const expected = JSON.stringify({ ref, drop: recipe.dropReplaces, localAt: recipe.localReplacesAt });

  if (!existsSync(marker) || readFileSync(marker, 'utf8') !== expected) {
    ctx.step(`downloading ${ref}`);
    const json = await runCommand('go', ['mod', 'download', '-json', ref], {
      env,
      captureStdout: true,
      onLine: ctx.line,
      cwd: ctx.workDir,
    }).catch((err: unknown) => {
      throw withHint(err, `the Go module proxy (${env.GOPROXY ?? 'GOPROXY'}) must serve ${ref}`);
    });
    const download = JSON.parse(json) as ModuleDownload;
    if (download.Error !== undefined || download.Dir === undefined) {
      throw new HarnessError(`go mod download ${ref} failed: ${download.Error ?? 'no directory'}`, {
        code: 'MODULE_DOWNLOAD_FAILED',
        exitCode: ExitCode.stackFailed,
      });
    }
    if (recipe.sum !== undefined && download.Sum !== recipe.sum) {
      throw new HarnessError(`${ref} has sum ${String(download.Sum)}, the catalog pins ${recipe.sum}`, {
        code: 'MODULE_SUM_MISMATCH',
        exitCode: ExitCode.stackFailed,
        hint: 'the module content differs from what was pinned; check the proxy before trusting this build',
      });
    }
    ctx.step('copying module source');
    await rm(sourceDir, { recursive: true, force: true });
    await cp(download.Dir, sourceDir, { recursive: true });
    await runCommand('chmod', ['-R', 'u+w', sourceDir]);
    for (const module of recipe.dropReplaces) {
      await runCommand('go', ['mod', 'edit', `-dropreplace=${module}`], { cwd: sourceDir, env });
    }
    if (recipe.localReplacesAt !== undefined) {
      const goMod = readFileSync(join(sourceDir, 'go.mod'), 'utf8');
      const local = localReplaceTargets(goMod);
      if (local.length === 0) {
        throw new HarnessError(`${ref}: localReplacesAt is set but its go.mod replaces nothing with a local path`, {
          code: 'RECIPE_INVALID',
          exitCode: ExitCode.usage,
        });
      }
      ctx.step(`pointing ${local.length} local replaces at their published modules @${recipe.localReplacesAt}`);
      const edits = local.map((module) => `-replace=${module}=${module}@${recipe.localReplacesAt}`);
      await runCommand('go', ['mod', 'edit', ...edits], { cwd: sourceDir, env });
    }
    writeFileSync(marker, expected);
  }

  const outDir = join(ctx.workDir, 'out');
  await mkdir(outDir, { recursive: true });
  const outputs = new Map<string, string>();
  for (const build of recipe.builds) {
    const output = join(outDir, build.output);
    ctx.step(`compiling ${build.package}`);
    await runCommand('go', goBuildArgs(build, output), { cwd: sourceDir, env, onLine: ctx.line });
    outputs.set(build.output, output);
  }
  for (const build of recipe.cBuilds ?? []) {
    const output = join(outDir, build.output);
    ctx.step(`compiling ${build.source} (cc, static)`);
    await runCommand('cc', [...build.cflags, '-static', '-o', output, join(sourceDir, build.source)], {
      cwd: sourceDir,
      env: ctx.env,
      onLine: ctx.line,
    });
    await runCommand('strip', [output]);
    outputs.set(build.output, output);
  }
  return { outputs, sourceDir };
}

/** Modules a go.mod replaces with a directory of its own tree (`=> ./…` or `=> ../…`). */
export function localReplaceTargets(goMod: string): string[] {
  const modules: string[] = [];
  for (const line of goMod.split('\n')) {
    const m = /^\s*(?:replace\s+)?(\S+)(?:\s+v\S+)?\s+=>\s+(\.\.?\/\S*)\s*$/.exec(line);
    if (m !== null) modules.push(m[1]!);
  }
  return modules;
}

function withHint(err: unknown, hint: string): unknown {
  if (err instanceof HarnessError && err.hint === undefined) {
    return new HarnessError(err.message, {
      code: err.code,
      exitCode: err.exitCode,
      hint,
      ...(err.details === undefined ? {} : { details: err.details }),
    });
  }
  return err;
}
