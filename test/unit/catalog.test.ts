import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HarnessError } from '../../src/harness-error.js';
import { loadCatalog, localImageRef, parseCatalog, recipeOutputs, selectComponents } from '../../src/images/catalog.js';
import { refusedBuild } from '../../src/images/stack-images.js';
import { stacksDir } from '../../src/paths.js';

const catalog = loadCatalog();

function expectConfigError(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HarnessError);
    expect((err as HarnessError).exitCode).toBe(2);
    expect((err as HarnessError).message).toMatch(pattern);
    return;
  }
  throw new Error('expected a configuration error');
}

const minimal = (component: string) => `schemaVersion: 1\ncomponents:\n${component}`;
const goodComponent = `  c:
    description: d
    version: '1'
    upstream: x/c:1
    recipe: { kind: go-module, module: example.com/c, moduleVersion: v1.0.0, builds: [{ package: ./cmd/c, output: c }] }
    image: { files: [{ from: 'build:c', to: /c }], user: '1' }
    layout: { binary: /c, user: '1', ports: [1] }
`;

describe('catalog', () => {
  it('holds every Phase 1 component with a pinned version and upstream image', () => {
    for (const name of ['toolbox', 'otelcol', 'tempo', 'loki', 'prometheus', 'jaeger']) {
      const spec = catalog.components.get(name);
      expect(spec, name).toBeDefined();
      expect(spec?.upstream).toMatch(/^docker\.io\/[a-z0-9/_.-]+:[A-Za-z0-9._-]+$/);
      expect(spec?.upstream).not.toMatch(/:latest$/);
      expect(localImageRef(spec!)).toBe(`otel-harness/${name}:${spec!.version}`);
    }
  });

  it('pins every go-module recipe to an exact module version, with a sum where the checksum database cannot vouch', () => {
    for (const spec of catalog.components.values()) {
      if (spec.recipe.kind !== 'go-module') continue;
      expect(spec.recipe.moduleVersion).toMatch(/^v\d+\.\d+\.\d+/);
      if (!spec.recipe.checksumDatabase) expect(spec.recipe.sum).toMatch(/^h1:[A-Za-z0-9+/]+=*$/);
    }
  });

  it('keeps the OCB manifest on the catalog version of the collector', () => {
    const otelcol = catalog.components.get('otelcol')!;
    expect(otelcol.recipe.kind).toBe('ocb');
    if (otelcol.recipe.kind !== 'ocb') return;
    const manifest = parse(readFileSync(join(stacksDir(), otelcol.recipe.manifest), 'utf8')) as {
      dist: { version: string; name: string };
      [section: string]: unknown;
    };
    expect(manifest.dist.version).toBe(otelcol.version);
    expect(manifest.dist.name).toBe(otelcol.recipe.binary);
    expect(otelcol.recipe.builder).toBe(`go.opentelemetry.io/collector/cmd/builder@v${otelcol.version}`);
    const gomods = ['receivers', 'processors', 'exporters', 'extensions'].flatMap((s) =>
      (manifest[s] as { gomod: string }[]).map((c) => c.gomod),
    );
    const names = gomods.map((g) => g.split(' ')[0]!.split('/').pop());
    expect(names.sort()).toEqual(
      [
        'otlpreceiver',
        'kafkareceiver',
        'otlpexporter',
        'otlphttpexporter',
        'prometheusremotewriteexporter',
        'kafkaexporter',
        'debugexporter',
        'batchprocessor',
        'memorylimiterprocessor',
        'resourceprocessor',
        'tailsamplingprocessor',
        'filterprocessor',
        'healthcheckextension',
        'filestorage',
        'bearertokenauthextension',
      ].sort(),
    );
    for (const gomod of gomods) expect(gomod.endsWith(` v${otelcol.version}`), gomod).toBe(true);
  });

  it('makes each local image put the binary at the upstream path and run as the upstream user', () => {
    const expected: Record<string, { binary: string; user: string }> = {
      otelcol: { binary: '/otelcol-contrib', user: '10001:10001' },
      tempo: { binary: '/tempo', user: '10001:10001' },
      loki: { binary: '/usr/bin/loki', user: '10001' },
      prometheus: { binary: '/bin/prometheus', user: 'nobody' },
      jaeger: { binary: '/cmd/jaeger/jaeger-linux', user: '10001' },
    };
    for (const [name, want] of Object.entries(expected)) {
      const spec = catalog.components.get(name)!;
      expect(spec.layout.binary).toBe(want.binary);
      expect(spec.image.user).toBe(want.user);
      expect(spec.image.files.map((f) => f.to)).toContain(want.binary);
    }
  });

  it('lists the recipe outputs', () => {
    expect(recipeOutputs(catalog.components.get('prometheus')!.recipe)).toEqual(['prometheus', 'promtool']);
  });

  it('rejects an unknown component with the list of valid ones (exit 2)', () => {
    expectConfigError(
      () => selectComponents(catalog, ['otelcol', 'grafana']),
      /component is invalid, expected one of toolbox, otelcol, .*actual: 'grafana'/,
    );
    expect(selectComponents(catalog, []).length).toBe(catalog.components.size);
  });

  it('rejects malformed entries with the file and field in the message', () => {
    expectConfigError(() => parseCatalog('schemaVersion: 2\ncomponents: {}', 'cat.yaml'), /cat.yaml schemaVersion/);
    expectConfigError(
      () => parseCatalog(minimal(goodComponent.replace('kind: go-module', 'kind: make')), 'cat.yaml'),
      /components\.c\.recipe\.kind is invalid, expected ocb \| go-module \| debian/,
    );
    expectConfigError(
      () => parseCatalog(minimal(goodComponent.replace('builds:', 'checksumDatabase: false, builds:')), 'cat.yaml'),
      /recipe\.sum/,
    );
    expectConfigError(
      () => parseCatalog(minimal(goodComponent.replace("from: 'build:c'", "from: 'http://x'")), 'cat.yaml'),
      /image\.files\[0\]\.from/,
    );
    expectConfigError(
      () => parseCatalog(minimal(goodComponent.replace('binary: /c', 'binary: /d')), 'cat.yaml'),
      /layout\.binary/,
    );
    expectConfigError(
      () =>
        parseCatalog(
          minimal(goodComponent.replace("layout: { binary: /c, user: '1'", "layout: { binary: /c, user: '2'")),
          'cat.yaml',
        ),
      /image\.user/,
    );
    expectConfigError(
      () => parseCatalog(minimal(goodComponent.replace('output: c }', 'output: x }')), 'cat.yaml'),
      /recipe outputs/,
    );
    expect(parseCatalog(minimal(goodComponent), 'cat.yaml').components.get('c')?.recipe.kind).toBe('go-module');
  });

  it('turns a build of an asked-for version refused by the module proxy into exit 2 naming the module', () => {
    // The tail of `go build` for otelcol=0.156.0 on this machine's proxy.
    const failure = new HarnessError('go exited with code 1', {
      code: 'COMMAND_FAILED',
      exitCode: 3,
      details:
        'go: github.com/otel-harness/otelcol-harness imports\n' +
        '\tgithub.com/open-telemetry/opentelemetry-collector-contrib/receiver/kafkareceiver imports\n' +
        '\tgithub.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/azure: github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/azure@v0.156.0: reading https://proxy.golang.org/github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/azure/@v/v0.156.0.zip: 403 Forbidden\n' +
        '\tserver response: This module version is not available.',
    });
    const otelcol = { ...catalog.components.get('otelcol')!, version: '0.156.0' };
    const mapped = refusedBuild(failure, [otelcol]) as HarnessError;
    expect(mapped.exitCode).toBe(2);
    expect(mapped.message).toMatch(/--image otelcol.*0\.156\.0: the proxy refuses .*pkg\/translator\/azure@v0\.156\.0/);
    // Not an asked-for version, or another failure: passed through unchanged.
    expect(refusedBuild(failure, [])).toBe(failure);
    const other = new HarnessError('go exited with code 2', {
      code: 'COMMAND_FAILED',
      exitCode: 3,
      details: 'syntax error',
    });
    expect(refusedBuild(other, [otelcol])).toBe(other);
  });
});
