import { createHash } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { MavenRecipe } from '../catalog-types.js';
import { runCommand } from '../run-command.js';
import type { RecipeContext, RecipeResult } from './recipe-context.js';

/** The plugin that copies the jars, pinned so that every build resolves the same way. */
export const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A throwaway POM whose dependencies are the recipe's artifacts (compile scope: runtime closure). */
export function renderPom(artifacts: readonly string[]): string {
  const dependencies = artifacts.map((coordinate) => {
    const [groupId, artifactId, version] = coordinate.split(':') as [string, string, string];
    return [
      '    <dependency>',
      `      <groupId>${xml(groupId)}</groupId>`,
      `      <artifactId>${xml(artifactId)}</artifactId>`,
      `      <version>${xml(version)}</version>`,
      '    </dependency>',
    ].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<project xmlns="http://maven.apache.org/POM/4.0.0">',
    '  <modelVersion>4.0.0</modelVersion>',
    '  <groupId>io.otel-harness.images</groupId>',
    '  <artifactId>jars</artifactId>',
    '  <version>0</version>',
    '  <packaging>pom</packaging>',
    '  <dependencies>',
    ...dependencies,
    '  </dependencies>',
    '</project>',
    '',
  ].join('\n');
}

/** `mvn` arguments that copy the artifacts (and their runtime dependencies unless not transitive) to `outputDir`. */
export function mavenArgs(recipe: MavenRecipe, localRepository: string, outputDir: string): string[] {
  return [
    '-B',
    '-q',
    `-Dmaven.repo.local=${localRepository}`,
    `${DEPENDENCY_PLUGIN}:copy-dependencies`,
    '-DincludeScope=runtime',
    `-DexcludeTransitive=${String(!recipe.transitive)}`,
    `-DoutputDirectory=${outputDir}`,
  ];
}

/** Cache key of a recipe: its coordinate list and whether dependencies come along. */
export function mavenCacheName(recipe: MavenRecipe): string {
  const key = JSON.stringify({ artifacts: recipe.artifacts, transitive: recipe.transitive, plugin: DEPENDENCY_PLUGIN });
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/**
 * Resolves Maven artifacts from Maven Central into one directory of jars with `mvn dependency:copy-dependencies`.
 * The local repository lives under the harness cache (kept between runs); the jars are cached by coordinate list.
 */
export async function buildFromMaven(recipe: MavenRecipe, ctx: RecipeContext): Promise<RecipeResult> {
  const mavenDir = join(ctx.toolsDir, 'maven');
  const dir = join(mavenDir, mavenCacheName(recipe));
  const jars = join(dir, 'jars');
  if (!existsSync(join(dir, 'resolved'))) {
    ctx.step(`resolving ${recipe.artifacts.join(', ')} from Maven Central`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(jars, { recursive: true });
    writeFileSync(join(dir, 'pom.xml'), renderPom(recipe.artifacts));
    await runCommand('mvn', mavenArgs(recipe, join(mavenDir, 'repository'), jars), {
      cwd: dir,
      env: ctx.env,
      onLine: ctx.line,
    });
    const copied = readdirSync(jars).filter((f) => f.endsWith('.jar'));
    if (copied.length < recipe.artifacts.length) {
      throw new Error(`mvn copied ${copied.length} jars for ${recipe.artifacts.length} artifacts into ${jars}`);
    }
    writeFileSync(join(dir, 'jars.txt'), copied.sort().join('\n') + '\n');
    await mkdir(join(dir, 'resolved'));
  }
  return { outputs: new Map([[recipe.output, jars]]), sourceDir: undefined };
}
