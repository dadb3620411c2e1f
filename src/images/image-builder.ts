import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DockerEngine } from '../docker/docker-engine.js';
import { ExitCode, HarnessError } from '../harness-error.js';
import { localImageRef, splitBuildReference } from './catalog.js';
import type { ComponentSpec, Recipe } from './catalog-types.js';
import { dockerBuild } from './docker-build.js';
import { renderDockerfile } from './dockerfile.js';
import { recipeHash } from './recipe-hash.js';
import { buildFromDebian, unpackDebianPackages } from './recipes/debian.js';
import { buildGoModule } from './recipes/go-module.js';
import { buildFromMaven } from './recipes/maven.js';
import { buildWithOcb } from './recipes/ocb.js';
import type { RecipeContext, RecipeResult } from './recipes/recipe-context.js';
import { buildContextStream, listTree, writeRootfsArchive } from './rootfs-archive.js';
import { planRootfs, type RootfsSources } from './rootfs-plan.js';
import { runCommand } from './run-command.js';

export const IMAGE_LABEL = {
  component: 'io.otel-harness.component',
  recipeHash: 'io.otel-harness.recipe-hash',
  goVersion: 'io.otel-harness.go-version',
  upstream: 'io.otel-harness.upstream',
  version: 'org.opencontainers.image.version',
} as const;

export interface ImageProgress {
  step(component: string, message: string): void;
  line(component: string, text: string): void;
}

export interface LocalImageStatus {
  component: string;
  ref: string;
  /** current: built from this recipe; stale: built from another one; missing: not built. */
  state: 'current' | 'stale' | 'missing';
  sizeBytes: number | undefined;
  createdAt: string | undefined;
}

export interface BuildOutcome {
  component: string;
  ref: string;
  cached: boolean;
  seconds: number;
}

const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const HEARTBEAT_MS = 30_000;

/** Builds local images of catalog components, cached by recipe hash. */
export class ImageBuilder {
  constructor(
    private readonly engine: DockerEngine,
    private readonly options: { cacheDir: string; stacksDir: string; progress: ImageProgress; env?: NodeJS.ProcessEnv },
  ) {}

  hashOf(spec: ComponentSpec): string {
    return recipeHash(spec, (file) => readFileSync(resolve(this.options.stacksDir, file), 'utf8'));
  }

  async status(spec: ComponentSpec): Promise<LocalImageStatus> {
    const ref = localImageRef(spec);
    try {
      const info = await this.engine.dockerode.getImage(ref).inspect();
      const built = info.Config.Labels?.[IMAGE_LABEL.recipeHash];
      return {
        component: spec.name,
        ref,
        state: built === this.hashOf(spec) ? 'current' : 'stale',
        sizeBytes: info.Size,
        createdAt: info.Created,
      };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) {
        return { component: spec.name, ref, state: 'missing', sizeBytes: undefined, createdAt: undefined };
      }
      throw err;
    }
  }

  /** Builds the image unless a current one exists (or `force`). */
  async ensure(spec: ComponentSpec, force = false): Promise<BuildOutcome> {
    const started = Date.now();
    const ref = localImageRef(spec);
    if (!force && (await this.status(spec)).state === 'current') {
      return { component: spec.name, ref, cached: true, seconds: 0 };
    }
    const { progress } = this.options;
    let current = 'starting';
    let stepStarted = Date.now();
    const heartbeat = setInterval(() => {
      const elapsed = Math.round((Date.now() - stepStarted) / 1000);
      progress.step(spec.name, `${current} (still working, ${elapsed}s)`);
    }, HEARTBEAT_MS);
    heartbeat.unref();
    let rootfsPath: string | undefined;
    const ctx: RecipeContext = {
      spec,
      workDir: join(this.options.cacheDir, 'build', `${spec.name}-${spec.tag ?? spec.version}`),
      toolsDir: join(this.options.cacheDir, 'tools'),
      stacksDir: this.options.stacksDir,
      env: this.options.env ?? process.env,
      step: (message) => {
        current = message;
        stepStarted = Date.now();
        progress.step(spec.name, message);
      },
      line: (text) => progress.line(spec.name, text),
    };
    try {
      await mkdir(ctx.workDir, { recursive: true });
      const result = await runRecipe(spec.recipe, ctx);
      ctx.step('assembling the image filesystem');
      const sources = await this.rootfsSources(spec, result, ctx);
      // Per process: two builds of the same component must not stream each other's half-written archive.
      rootfsPath = join(ctx.workDir, `rootfs-${process.pid}.tar`);
      await writeRootfsArchive(planRootfs(spec.image, sources), rootfsPath);
      const labels = {
        [IMAGE_LABEL.component]: spec.name,
        [IMAGE_LABEL.recipeHash]: this.hashOf(spec),
        [IMAGE_LABEL.goVersion]: await goVersion(ctx.env),
        [IMAGE_LABEL.upstream]: spec.upstream,
        [IMAGE_LABEL.version]: spec.version,
      };
      ctx.step(`docker build ${ref}`);
      const context = buildContextStream(renderDockerfile(spec.image, labels), rootfsPath);
      await dockerBuild(this.engine.dockerode, context as unknown as NodeJS.ReadableStream, ref, ctx.line);
    } finally {
      clearInterval(heartbeat);
      // The archive is only the build context (up to a few hundred MB); the image holds its content.
      if (rootfsPath !== undefined) await rm(rootfsPath, { force: true });
    }
    return { component: spec.name, ref, cached: false, seconds: (Date.now() - started) / 1000 };
  }

  private async rootfsSources(spec: ComponentSpec, result: RecipeResult, ctx: RecipeContext): Promise<RootfsSources> {
    const sources: RootfsSources = {
      resolve: (from) => {
        const [kind, ...rest] = from.split(':');
        const path = rest.join(':');
        let resolved: string | undefined;
        if (kind === 'build') {
          const ref = splitBuildReference(from);
          const output = result.outputs.get(ref.output);
          resolved = output === undefined || ref.path === '' ? output : join(output, ref.path);
        } else if (kind === 'source' && result.sourceDir !== undefined) resolved = join(result.sourceDir, path);
        else if (kind === 'file') resolved = join(this.options.stacksDir, path);
        if (resolved === undefined || !existsSync(resolved)) {
          throw new Error(`${spec.name}: image file '${from}' does not exist after the build (${String(resolved)})`);
        }
        return resolved;
      },
      listTree,
    };
    if (spec.image.busybox) {
      const root = await unpackDebianPackages(['busybox-static'], ctx.toolsDir, ctx);
      sources.busybox = join(root, 'bin', 'busybox');
      const list = await runCommand(sources.busybox, ['--list'], { captureStdout: true });
      sources.busyboxApplets = list.split('\n').filter((s) => /^[a-z0-9_.[-]+$/.test(s));
    }
    if (spec.image.certificates) {
      if (!existsSync(CA_BUNDLE)) {
        throw new HarnessError(`${CA_BUNDLE} is missing (the ${spec.name} image carries the host's CA bundle)`, {
          code: 'CA_BUNDLE_MISSING',
          exitCode: ExitCode.stackFailed,
          hint: 'install the ca-certificates package',
        });
      }
      sources.caCertificates = CA_BUNDLE;
    }
    return sources;
  }
}

/** Runs a recipe; the parts of a combined one in order, their outputs merged. */
async function runRecipe(recipe: Recipe, ctx: RecipeContext): Promise<RecipeResult> {
  switch (recipe.kind) {
    case 'ocb':
      return buildWithOcb(recipe, ctx);
    case 'go-module':
      return buildGoModule(recipe, ctx);
    case 'debian':
      return buildFromDebian(recipe, ctx);
    case 'maven':
      return buildFromMaven(recipe, ctx);
    case 'combined': {
      const outputs = new Map<string, string>();
      let sourceDir: string | undefined;
      for (const part of recipe.parts) {
        const result = await runRecipe(part, ctx);
        for (const [name, path] of result.outputs) outputs.set(name, path);
        sourceDir ??= result.sourceDir;
      }
      return { outputs, sourceDir };
    }
  }
}

let goVersionCache: string | undefined;

async function goVersion(env: NodeJS.ProcessEnv): Promise<string> {
  goVersionCache ??= (await runCommand('go', ['env', 'GOVERSION'], { env, captureStdout: true })).trim();
  return goVersionCache;
}
