import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DockerEngine } from '../docker/docker-engine.js';
import { configurationError, HarnessError } from '../harness-error.js';
import { cacheDir, stacksDir } from '../paths.js';
import { loadCatalog, selectComponents } from './catalog.js';
import type { ComponentSpec } from './catalog-types.js';
import { ImageBuilder, type ImageProgress } from './image-builder.js';
import { resolveImages, type ImageSource } from './image-source.js';
import { isImageReference, specAtVersion, specWithManifest } from './versioned.js';

export interface StackImages {
  /** Component → image reference to run. */
  images: Map<string, string>;
  /** Component → version that runs. */
  versions: Record<string, string>;
  /** sha256 of the collector's OCB manifest when built here. */
  manifestHash: string | undefined;
}

/**
 * The images of a stack's components: the catalog's pins, moved to other versions or replaced by image
 * references with `overrides` (`--image`), the collector built from `manifest` (`--otelcol-manifest`);
 * built here when the source is local and they are missing (cached by recipe).
 */
export async function resolveStackImages(
  engine: DockerEngine,
  definition: { services: readonly { component: string }[] },
  options: {
    source: ImageSource;
    overrides: Readonly<Record<string, string>>;
    manifest: string | undefined;
    progress: ImageProgress;
    say: (message: string) => void;
  },
): Promise<StackImages> {
  const catalog = loadCatalog();
  const names = [...new Set(['toolbox', ...definition.services.map((s) => s.component)])];
  for (const component of Object.keys(options.overrides)) {
    if (!names.includes(component)) {
      throw configurationError(
        '--image',
        `a component of this stack (${names.filter((n) => n !== 'toolbox').join(', ')})`,
        component,
      );
    }
  }
  const specs: ComponentSpec[] = [];
  const asked: ComponentSpec[] = [];
  const references = new Map<string, string>();
  for (const base of selectComponents(catalog, names)) {
    const override = options.overrides[base.name];
    if (override !== undefined && isImageReference(override)) {
      references.set(base.name, override);
      continue;
    }
    let spec = override === undefined ? base : await specAtVersion(base, override, stacksDir(), cacheDir());
    if (base.name === 'otelcol' && options.manifest !== undefined)
      spec = specWithManifest(spec, options.manifest, cacheDir());
    if (spec !== base) {
      options.say(`image ${spec.name}: ${spec.tag ?? spec.version} (asked for)`);
      asked.push(spec);
    }
    specs.push(spec);
  }
  const builder = new ImageBuilder(engine, {
    cacheDir: cacheDir(),
    stacksDir: stacksDir(),
    progress: options.progress,
  });
  const resolved = await resolveImages(engine, builder, specs, options.source, { progress: options.progress }).catch(
    (err: unknown) => {
      throw refusedBuild(err, asked);
    },
  );
  const images = new Map(resolved.map((r) => [r.component, r.ref]));
  for (const [component, ref] of references) images.set(component, ref);
  const versions: Record<string, string> = {};
  for (const s of specs) if (s.name !== 'toolbox') versions[s.name] = s.tag ?? s.version;
  for (const [component, ref] of references) versions[component] = ref;
  const otelcol = specs.find((s) => s.name === 'otelcol');
  const manifestHash =
    otelcol?.recipe.kind === 'ocb'
      ? createHash('sha256')
          .update(readFileSync(resolve(stacksDir(), otelcol.recipe.manifest), 'utf8'))
          .digest('hex')
      : undefined;
  return { images, versions, manifestHash };
}

/**
 * Checks `--image` overrides without building anything: each names a component of the catalog, and each
 * version (not an image reference) is one the Go module proxy serves — the check a boot would make first,
 * for commands that must refuse a bad spec before any stack starts (gate). Exit 2 otherwise.
 */
export async function checkImageOverrides(overrides: Readonly<Record<string, string>>): Promise<void> {
  const catalog = loadCatalog();
  const known = [...catalog.components.keys()].filter((n) => n !== 'toolbox');
  for (const [component, value] of Object.entries(overrides)) {
    const base = catalog.components.get(component);
    if (base === undefined || component === 'toolbox')
      throw configurationError('--image', `a component of the catalog (${known.join(', ')})`, component);
    if (!isImageReference(value)) await specAtVersion(base, value, stacksDir(), cacheDir());
  }
}

/**
 * A build of an asked-for version (`--image`, `--otelcol-manifest`) that failed because the module proxy
 * refused one of its modules (403) → a configuration error (exit 2) naming the module; anything else as is.
 */
export function refusedBuild(err: unknown, asked: readonly ComponentSpec[]): unknown {
  if (!(err instanceof HarnessError) || asked.length === 0) return err;
  const text = `${err.message}\n${err.details ?? ''}`;
  const refused = /([\w./-]+@v[\w.+-]+): reading https?:\/\/\S+: 403/.exec(text);
  if (refused === null) return err;
  return configurationError(
    `--image ${asked.map((s) => s.name).join(', ')}`,
    'a release whose every module (dependencies included) the Go module proxy serves',
    `${asked.map((s) => s.tag ?? s.version).join(', ')}: the proxy refuses ${refused[1]}`,
  );
}
