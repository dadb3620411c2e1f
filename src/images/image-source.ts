import type { DockerEngine } from '../docker/docker-engine.js';
import { localImageRef } from './catalog.js';
import type { ComponentSpec } from './catalog-types.js';
import type { ImageBuilder } from './image-builder.js';

export const IMAGE_SOURCES = ['local', 'upstream', 'auto'] as const;
export type ImageSource = (typeof IMAGE_SOURCES)[number];

export interface ResolvedImage {
  component: string;
  ref: string;
  origin: 'local' | 'upstream';
  /** local only: built during this call (false: reused from cache). */
  built: boolean;
}

/**
 * Picks the image of each component:
 *  - local: the image built here, built now if missing or made from another recipe;
 *  - upstream: the published image (pulled by the engine when absent);
 *  - auto: the local image if one exists, else upstream.
 */
export async function resolveImages(
  engine: DockerEngine,
  builder: ImageBuilder,
  specs: readonly ComponentSpec[],
  source: ImageSource,
): Promise<ResolvedImage[]> {
  const resolved: ResolvedImage[] = [];
  for (const spec of specs) {
    if (source === 'upstream') {
      resolved.push({ component: spec.name, ref: spec.upstream, origin: 'upstream', built: false });
    } else if (source === 'auto') {
      const present = await imageExists(engine, localImageRef(spec));
      resolved.push(
        present
          ? { component: spec.name, ref: localImageRef(spec), origin: 'local', built: false }
          : { component: spec.name, ref: spec.upstream, origin: 'upstream', built: false },
      );
    } else {
      const outcome = await builder.ensure(spec);
      resolved.push({ component: spec.name, ref: outcome.ref, origin: 'local', built: !outcome.cached });
    }
  }
  return resolved;
}

async function imageExists(engine: DockerEngine, ref: string): Promise<boolean> {
  try {
    await engine.dockerode.getImage(ref).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}
