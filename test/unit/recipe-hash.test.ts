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

describe('go-module recipe', () => {
  it('builds static, trimmed binaries with the upstream version flags', async () => {
    const { goBuildArgs, goBuildEnv } = await import('../../src/images/recipes/go-module.js');
    const prometheus = catalog.components.get('prometheus')!;
    if (prometheus.recipe.kind !== 'go-module') throw new Error('prometheus is a go-module recipe');
    expect(goBuildArgs(prometheus.recipe.builds[0]!, '/out/prometheus')).toEqual([
      'build',
      '-trimpath',
      '-ldflags=-s -w -X github.com/prometheus/common/version.Version=3.15.0',
      '-tags',
      'netgo',
      '-o',
      '/out/prometheus',
      './cmd/prometheus',
    ]);
    expect(goBuildEnv(prometheus.recipe, { GOPROXY: 'p' })).toMatchObject({
      CGO_ENABLED: '0',
      GOWORK: 'off',
      GOFLAGS: '-mod=mod',
    });
    expect(goBuildEnv(prometheus.recipe, {}).GONOSUMDB).toBeUndefined();
    const tempo = catalog.components.get('tempo')!;
    if (tempo.recipe.kind !== 'go-module') throw new Error('tempo is a go-module recipe');
    expect(goBuildEnv(tempo.recipe, { GONOSUMDB: 'example.com' }).GONOSUMDB).toBe(
      'example.com,github.com/grafana/tempo',
    );
  });
});

describe('recipe hash stability', () => {
  it('hashes an entry without trees, links or a stop signal exactly as before (the label of the toolbox image built from this entry)', async () => {
    const { parseCatalog } = await import('../../src/images/catalog.js');
    const text = `schemaVersion: 1
components:
  toolbox:
    description: busybox shell
    version: 1.35.0
    upstream: docker.io/library/busybox:1.35.0
    recipe: { kind: debian, packages: [busybox-static], files: [{ from: bin/busybox, to: busybox }] }
    image: { files: [{ from: 'build:busybox', to: /bin/busybox }], busybox: true, user: '0:0', cmd: [sh] }
    layout: { binary: /bin/busybox, user: '0:0', ports: [] }
`;
    const toolbox = parseCatalog(text, 'cat.yaml').components.get('toolbox')!;
    expect(recipeHash(toolbox, files('a'))).toBe('2a5122c9f21c3a6152a9025500318275906cafef80431d8ace7e7c2f0f617e13');
  });
});
