import { createHash } from 'node:crypto';
import type { ComponentSpec } from './catalog-types.js';

/** Bumped whenever the way images are assembled changes, so every cached image is rebuilt once. */
export const IMAGE_FORMAT = 1;

/**
 * Identity of a local image: the catalog entry (recipe, image spec, version) plus the content of every
 * stacks/ file it uses. Equal hashes mean the cached image is what a fresh build would make.
 * The Go toolchain version is recorded in the image's labels but is not part of the hash.
 */
export function recipeHash(spec: ComponentSpec, readStacksFile: (relativePath: string) => string): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ format: IMAGE_FORMAT, name: spec.name, version: spec.version }));
  // How other versions map to module versions does not change this build.
  hash.update(JSON.stringify({ ...spec.recipe, moduleVersionOf: undefined }));
  hash.update(JSON.stringify(spec.image));
  for (const file of stacksFilesOf(spec)) {
    hash.update(`\0${file}\0`);
    hash.update(readStacksFile(file));
  }
  return hash.digest('hex');
}

/** stacks/-relative files a component's build reads. */
export function stacksFilesOf(spec: ComponentSpec): string[] {
  const files = spec.image.files.filter((f) => f.from.startsWith('file:')).map((f) => f.from.slice('file:'.length));
  if (spec.recipe.kind === 'ocb') files.push(spec.recipe.manifest);
  return files.sort();
}
