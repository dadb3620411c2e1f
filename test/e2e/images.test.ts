import { describe, expect, it } from 'vitest';
import { connectDockerEngine } from '../../src/docker/docker-engine.js';
import { loadCatalog, localImageRef } from '../../src/images/catalog.js';
import { IMAGE_LABEL } from '../../src/images/image-builder.js';
import { recipeHash } from '../../src/images/recipe-hash.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stacksDir } from '../../src/paths.js';

const catalog = loadCatalog();

/** `stat -c` of paths inside an image, run with the image's busybox or the toolbox's mounted in. */
async function statInImage(image: string, paths: string[]): Promise<Record<string, { owner: string; mode: string }>> {
  const { dockerode } = await connectDockerEngine();
  const toolbox = localImageRef(catalog.components.get('toolbox')!);
  // Copy the toolbox busybox into a throwaway container of the image under test, then stat from it.
  const helper = await dockerode.createContainer({
    Image: toolbox,
    Cmd: ['true'],
    Labels: { 'io.otel-harness.run': 'images-e2e' },
  });
  const target = await dockerode.createContainer({
    Image: image,
    Entrypoint: ['/.probe/busybox', 'stat', '-c', '%n %u:%g %a'],
    Cmd: paths,
    User: '0:0',
    Tty: true, // plain output, no multiplexed frames
    Labels: { 'io.otel-harness.run': 'images-e2e' },
  });
  try {
    const busybox = await helper.getArchive({ path: '/bin/busybox' });
    await target.putArchive(await repack(busybox), { path: '/' });
    await target.start();
    await target.wait();
    const out = (await target.logs({ stdout: true, stderr: true })).toString('utf8');
    const result: Record<string, { owner: string; mode: string }> = {};
    for (const line of out.split('\n')) {
      const m = /^(\S+) (\d+:\d+) (\d+)\r?$/.exec(line);
      if (m) result[m[1]!] = { owner: m[2]!, mode: m[3]! };
    }
    return result;
  } finally {
    await target.remove({ force: true, v: true }); // v: the image's VOLUME paths get anonymous volumes
    await helper.remove({ force: true, v: true });
  }
}

/** Moves the single-file archive `busybox` to `.probe/busybox`. */
async function repack(archive: NodeJS.ReadableStream): Promise<NodeJS.ReadableStream> {
  const tar = await import('tar-stream');
  const extract = tar.extract();
  const pack = tar.pack();
  extract.on('entry', (header, stream, next) => {
    stream.pipe(pack.entry({ ...header, name: '.probe/busybox' }, next));
  });
  extract.on('finish', () => pack.finalize());
  archive.pipe(extract);
  return pack as unknown as NodeJS.ReadableStream;
}

/** Runs `cmd` in a throwaway container of `image` (its own entrypoint unless one is given); exit code and output. */
async function runInImage(
  image: string,
  cmd: string[],
  entrypoint?: string[],
): Promise<{ exitCode: number; output: string; user: string }> {
  const { dockerode } = await connectDockerEngine();
  const container = await dockerode.createContainer({
    Image: image,
    Cmd: cmd,
    ...(entrypoint === undefined ? {} : { Entrypoint: entrypoint }),
    Tty: true,
    Labels: { 'io.otel-harness.run': 'images-e2e' },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const output = (await container.logs({ stdout: true, stderr: true })).toString('utf8');
    const info = await container.inspect();
    return { exitCode: StatusCode, output, user: info.Config.User };
  } finally {
    await container.remove({ force: true, v: true });
  }
}

describe('local images', () => {
  it('are current builds of the catalog recipes, labelled with their upstream image', async () => {
    const { dockerode } = await connectDockerEngine();
    for (const spec of catalog.components.values()) {
      const info = await dockerode.getImage(localImageRef(spec)).inspect();
      const hash = recipeHash(spec, (f) => readFileSync(join(stacksDir(), f), 'utf8'));
      expect(info.Config.Labels?.[IMAGE_LABEL.recipeHash], spec.name).toBe(hash);
      expect(info.Config.Labels?.[IMAGE_LABEL.upstream]).toBe(spec.upstream);
      expect(info.Config.User, spec.name).toBe(spec.layout.user === '0:0' ? '0:0' : spec.layout.user);
    }
  });

  it.each(['otelcol', 'tempo', 'loki', 'prometheus', 'jaeger'])(
    '%s has its binary, config and data dir where the upstream image has them, owned as upstream',
    async (name) => {
      const spec = catalog.components.get(name)!;
      const paths = [spec.layout.binary, ...spec.image.files.map((f) => f.to), ...spec.image.dirs.map((d) => d.path)];
      const stats = await statInImage(localImageRef(spec), [...new Set(paths)]);
      expect(stats[spec.layout.binary]?.mode).toBe('755');
      for (const dir of spec.image.dirs) {
        const owner =
          dir.owner === undefined ? '0:0' : dir.owner.includes(':') ? dir.owner : `${dir.owner}:${dir.owner}`;
        expect(stats[dir.path], dir.path).toEqual({ owner, mode: (dir.mode ?? '0755').replace(/^0/, '') });
      }
      for (const file of spec.image.files) expect(stats[file.to], file.to).toBeDefined();
    },
  );

  it('run dynamically linked programs from Debian packages without a base OS (haproxy with its Prometheus exporter, the JRE)', async () => {
    const haproxy = await runInImage(localImageRef(catalog.components.get('haproxy')!), ['haproxy', '-vv']);
    expect(haproxy.exitCode, haproxy.output).toBe(0);
    expect(haproxy.output).toMatch(/HAProxy version 2\.6\.12/);
    expect(haproxy.output).toContain('Built with the Prometheus exporter as a service');
    const kafka = catalog.components.get('kafka')!;
    const java = await runInImage(localImageRef(kafka), ['-c', 'id -un && java -version'], ['/bin/sh']);
    expect(java.exitCode, java.output).toBe(0);
    expect(java.output).toMatch(/^appuser\r?$/m);
    expect(java.output).toMatch(/openjdk version "17\./);
    const storage = await runInImage(
      localImageRef(kafka),
      ['-c', "java -cp '/opt/kafka/libs/*' kafka.tools.StorageTool random-uuid"],
      ['/bin/sh'],
    );
    expect(storage.exitCode, storage.output).toBe(0);
    expect(storage.output.trim()).toMatch(/^[A-Za-z0-9_-]{22}$/m);
  });

  it('stamp Mimir with the version, branch and revision of its upstream build', async () => {
    const mimir = await runInImage(localImageRef(catalog.components.get('mimir')!), ['-version']);
    expect(mimir.exitCode, mimir.output).toBe(0);
    expect(mimir.output).toContain('Mimir, version 3.0.5 (branch: main, revision: aced80d74930)');
  });
});
