import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/images/catalog.js';
import { recipeHash, stacksFilesOf } from '../../src/images/recipe-hash.js';

const catalog = loadCatalog();
const otelcol = catalog.components.get('otelcol')!;
const files = (content: string) => (path: string) => `${path}:${content}`;

describe('recipeHash', () => {
  it('is stable for the same recipe and files', () => {
    expect(recipeHash(otelcol, files('a'))).toBe(recipeHash(otelcol, files('a')));
    expect(recipeHash(otelcol, files('a'))).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes when a file the build reads changes (the OCB manifest, baked-in configs)', () => {
    expect(stacksFilesOf(otelcol)).toEqual(['otelcol/default-config.yaml', 'otelcol/manifest.yaml']);
    expect(recipeHash(otelcol, files('a'))).not.toBe(recipeHash(otelcol, files('b')));
  });

  it('changes when the recipe, the image spec or the version changes', () => {
    const base = recipeHash(otelcol, files('a'));
    expect(recipeHash({ ...otelcol, version: '0.0.1' }, files('a'))).not.toBe(base);
    expect(recipeHash({ ...otelcol, image: { ...otelcol.image, user: '0' } }, files('a'))).not.toBe(base);
    expect(
      recipeHash({ ...otelcol, recipe: { ...otelcol.recipe, binary: 'x' } as typeof otelcol.recipe }, files('a')),
    ).not.toBe(base);
  });

  it('differs between components', () => {
    const loki = catalog.components.get('loki')!;
    expect(recipeHash(loki, files('a'))).not.toBe(recipeHash(otelcol, files('a')));
  });
});
