import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HarnessError } from '../../src/harness-error.js';
import {
  loadCatalog,
  localImageRef,
  parseCatalog,
  recipeOutputs,
  selectComponents,
  splitBuildReference,
} from '../../src/images/catalog.js';
import type { ImageBuilder } from '../../src/images/image-builder.js';
import { resolveImages } from '../../src/images/image-source.js';
import { refusedBuild } from '../../src/images/stack-images.js';
import { specWithManifest } from '../../src/images/versioned.js';
import { stacksDir } from '../../src/paths.js';
import { scratchDir } from '../support/scratch.js';

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
        'filelogreceiver',
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
      kafka: { binary: '/etc/kafka/docker/run', user: 'appuser' },
      haproxy: { binary: '/usr/local/sbin/haproxy', user: 'haproxy' },
      mimir: { binary: '/bin/mimir', user: '0:0' },
    };
    for (const [name, want] of Object.entries(expected)) {
      const spec = catalog.components.get(name)!;
      expect(spec.layout.binary).toBe(want.binary);
      expect(spec.image.user).toBe(want.user);
      expect(spec.image.files.map((f) => f.to)).toContain(want.binary);
    }
  });

  it('pins the Phase 2 components: Kafka from Maven jars on a Debian JRE, HAProxy and Mimir', () => {
    const kafka = catalog.components.get('kafka')!;
    expect(kafka.recipe.kind).toBe('combined');
    if (kafka.recipe.kind !== 'combined') return;
    const [jre, libs, agent] = kafka.recipe.parts;
    expect(jre).toMatchObject({ kind: 'debian', packages: ['openjdk-17-jre-headless'], dependencies: true });
    expect(libs).toMatchObject({
      kind: 'maven',
      artifacts: ['org.apache.kafka:kafka_2.13:3.9.1', 'org.slf4j:slf4j-reload4j:1.7.36'],
      transitive: true,
    });
    expect(agent).toMatchObject({ kind: 'maven', transitive: false });
    expect(kafka.layout).toMatchObject({ dataDir: '/var/lib/kafka/data', ports: [9092, 9093, 9404, 19092] });
    const haproxy = catalog.components.get('haproxy')!;
    expect(haproxy.recipe).toMatchObject({ kind: 'debian', packages: ['haproxy'], dependencies: true });
    expect(haproxy.image.stopSignal).toBe('SIGUSR1');
    expect(haproxy.image.accounts).toEqual([{ name: 'haproxy', uid: 99, gid: 99 }]);
    const mimir = catalog.components.get('mimir')!;
    expect(mimir.recipe).toMatchObject({
      kind: 'go-module',
      module: 'github.com/grafana/mimir',
      moduleVersion: 'v1.3.1-0.20260423142704-aced80d74930',
      checksumDatabase: true,
    });
    if (mimir.recipe.kind === 'go-module') expect(mimir.recipe.builds[0]!.tags).toEqual(['netgo', 'stringlabels']);
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

  it("builds a collector from the user's manifest here, never pulling the published image in its place", async () => {
    const otelcol = catalog.components.get('otelcol')!;
    const dir = scratchDir('manifest-');
    const manifest = join(dir, 'ocb.yaml');
    writeFileSync(manifest, `dist:\n  name: otelcol\n  version: ${otelcol.version}\n`);
    const spec = specWithManifest(otelcol, manifest, dir);
    expect(spec.published).toBe(false);
    expect(spec.tag).toMatch(new RegExp(`^${otelcol.version.replaceAll('.', '\\.')}-manifest-[0-9a-f]{12}$`));
    // With the default source (auto) and no image here, the builder is asked; the engine never is.
    const ensured: string[] = [];
    const builder = {
      status: () => Promise.resolve({ state: 'missing' }),
      ensure: (s: { tag?: string }) => {
        ensured.push(s.tag ?? '');
        return Promise.resolve({ ref: `otel-harness/otelcol:${s.tag}`, cached: false });
      },
    } as unknown as ImageBuilder;
    const noEngine = new Proxy({}, { get: () => expect.unreachable('the engine was asked for a pull') });
    const [image] = await resolveImages(noEngine as never, builder, [spec], 'auto');
    expect(image).toEqual({
      component: 'otelcol',
      ref: `otel-harness/otelcol:${spec.tag}`,
      origin: 'local',
      built: true,
    });
    expect(ensured).toEqual([spec.tag]);
    writeFileSync(manifest, 'dist:\n  name: otelcol\n  version: 0.1.0\n');
    expectConfigError(() => specWithManifest(otelcol, manifest, dir), /--otelcol-manifest dist.version is invalid/);
  });

  it('parses a Debian dependency closure, Maven jars and both combined, with trees, links and a stop signal', () => {
    const component = `  j:
    description: d
    version: '1'
    upstream: x/j:1
    recipe:
      kind: combined
      parts:
        - kind: debian
          packages: [openjdk-17-jre-headless]
          dependencies: true
          excludePackages: [debconf]
          files: [{ from: ., to: rootfs }]
        - { kind: maven, artifacts: ['g:a:1', 'g:b:2'], output: jars }
        - { kind: maven, artifacts: ['g:agent:1'], transitive: false, output: agent }
    image:
      files:
        - { from: file:run.sh, to: /run }
        - { from: 'build:agent/agent-1.jar', to: /opt/agent.jar, mode: '0644' }
      trees:
        - { from: 'build:rootfs', to: /, exclude: [usr/share/doc] }
        - { from: 'build:jars', to: /opt/app/libs, owner: '1000:1000' }
      links: [{ path: /opt/java, target: /usr/lib/jvm/java-17-openjdk-amd64 }]
      stopSignal: SIGUSR1
      user: '1000'
    layout: { binary: /run, user: '1000', ports: [1] }
`;
    const spec = parseCatalog(minimal(component), 'cat.yaml').components.get('j')!;
    expect(spec.recipe).toEqual({
      kind: 'combined',
      parts: [
        {
          kind: 'debian',
          packages: ['openjdk-17-jre-headless'],
          dependencies: true,
          excludePackages: ['debconf'],
          files: [{ from: '.', to: 'rootfs' }],
        },
        { kind: 'maven', artifacts: ['g:a:1', 'g:b:2'], transitive: true, output: 'jars' },
        { kind: 'maven', artifacts: ['g:agent:1'], transitive: false, output: 'agent' },
      ],
    });
    expect(recipeOutputs(spec.recipe)).toEqual(['rootfs', 'jars', 'agent']);
    expect(spec.image.trees).toEqual([
      { from: 'build:rootfs', to: '/', exclude: ['usr/share/doc'], owner: undefined },
      { from: 'build:jars', to: '/opt/app/libs', exclude: [], owner: '1000:1000' },
    ]);
    expect(spec.image.links).toEqual([{ path: '/opt/java', target: '/usr/lib/jvm/java-17-openjdk-amd64' }]);
    expect(spec.image.stopSignal).toBe('SIGUSR1');
    expect(splitBuildReference('build:agent/agent-1.jar')).toEqual({ output: 'agent', path: 'agent-1.jar' });
    expect(splitBuildReference('build:jars')).toEqual({ output: 'jars', path: '' });
  });

  it('serialises entries without the new fields exactly as before (recipe hashes of built images stay valid)', () => {
    const toolbox = catalog.components.get('toolbox')!;
    expect(Object.keys(toolbox.recipe)).toEqual(['kind', 'packages', 'files']);
    for (const spec of catalog.components.values()) {
      if (spec.image.trees === undefined) expect(Object.keys(spec.image)).not.toContain('trees');
      if (spec.image.links === undefined) expect(Object.keys(spec.image)).not.toContain('links');
      if (spec.image.stopSignal === undefined) expect(Object.keys(spec.image)).not.toContain('stopSignal');
    }
    expect(Object.keys(parseCatalog(minimal(goodComponent), 'cat.yaml').components.get('c')!.image)).toEqual([
      'files',
      'dirs',
      'accounts',
      'busybox',
      'certificates',
      'user',
      'workdir',
      'env',
      'expose',
      'volumes',
      'entrypoint',
      'cmd',
    ]);
  });

  it('rejects malformed Debian, Maven and combined recipes and image trees', () => {
    const withRecipe = (recipe: string, image = "{ files: [{ from: 'build:c', to: /c }], user: '1' }") =>
      minimal(goodComponent.replace(/recipe: .*\n/, `recipe: ${recipe}\n`).replace(/image: .*\n/, `image: ${image}\n`));
    expectConfigError(
      () =>
        parseCatalog(
          withRecipe('{ kind: debian, packages: [x], excludePackages: [y], files: [{ from: x, to: c }] }'),
          'cat.yaml',
        ),
      /recipe\.excludePackages.*dependencies: true/,
    );
    expectConfigError(
      () => parseCatalog(withRecipe("{ kind: maven, artifacts: ['g:a'], output: c }"), 'cat.yaml'),
      /recipe\.artifacts is invalid, expected group:artifact:version/,
    );
    expectConfigError(
      () => parseCatalog(withRecipe('{ kind: maven, artifacts: [], output: c }'), 'cat.yaml'),
      /at least one artifact/,
    );
    expectConfigError(
      () =>
        parseCatalog(
          withRecipe(
            "{ kind: combined, parts: [{ kind: maven, artifacts: ['g:a:1'], output: c }, { kind: maven, artifacts: ['g:b:1'], output: c }] }",
          ),
          'cat.yaml',
        ),
      /recipe\.parts is invalid, expected distinct output names/,
    );
    expectConfigError(
      () => parseCatalog(withRecipe('{ kind: combined, parts: [{ kind: combined, parts: [] }] }'), 'cat.yaml'),
      /a single recipe inside a combined one/,
    );
    const maven = "{ kind: maven, artifacts: ['g:a:1'], output: c }";
    expectConfigError(
      () =>
        parseCatalog(
          withRecipe(
            maven,
            "{ files: [{ from: 'build:c/a.jar', to: /c }], trees: [{ from: 'file:x', to: / }], user: '1' }",
          ),
          'cat.yaml',
        ),
      /image\.trees\[0\]\.from/,
    );
    expectConfigError(
      () =>
        parseCatalog(
          withRecipe(
            maven,
            "{ files: [{ from: 'build:c/a.jar', to: /c }], trees: [{ from: 'build:d', to: / }], user: '1' }",
          ),
          'cat.yaml',
        ),
      /image\.trees is invalid, expected one of the recipe outputs \(c\)/,
    );
    expectConfigError(
      () =>
        parseCatalog(
          withRecipe(
            maven,
            "{ files: [{ from: 'build:c', to: /c }], trees: [{ from: 'build:c', to: /, exclude: [../etc] }], user: '1' }",
          ),
          'cat.yaml',
        ),
      /exclude/,
    );
    expectConfigError(
      () =>
        parseCatalog(
          withRecipe(maven, "{ files: [{ from: 'build:c', to: /c }], stopSignal: usr1, user: '1' }"),
          'cat.yaml',
        ),
      /stopSignal/,
    );
    expect(
      parseCatalog(
        withRecipe(maven, "{ files: [{ from: 'build:c/a.jar', to: /c }], user: '1' }"),
        'cat.yaml',
      ).components.get('c')?.recipe.kind,
    ).toBe('maven');
  });
});
