import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDockerEngine, type DockerEngine } from '../../src/docker/docker-engine.js';
import { loadCatalog, localImageRef } from '../../src/images/catalog.js';
import type { ComponentSpec } from '../../src/images/catalog-types.js';
import { ImageBuilder } from '../../src/images/image-builder.js';
import { resolveImages } from '../../src/images/image-source.js';
import { cacheDir, stacksDir } from '../../src/paths.js';

/**
 * The default image source (auto): images already here, else the published image pulled, else built —
 * against a registry address on 127.0.0.1 that accepts connections and answers nothing (an air-gapped
 * machine's view of a registry), so nothing outside this machine is contacted.
 */
describe('image source auto', () => {
  let engine: DockerEngine;
  let server: Server;
  let registry: string;
  const sockets: Socket[] = [];
  let connections = 0;
  const made: string[] = [];

  beforeAll(async () => {
    engine = await connectDockerEngine();
    server = createServer((socket) => {
      connections++;
      sockets.push(socket); // held open, never answered
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    registry = `127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    for (const ref of made)
      await engine.dockerode
        .getImage(ref)
        .remove({ force: true })
        .catch(() => undefined);
  });

  function toolboxAs(tag: string, upstream: string): ComponentSpec {
    return { ...loadCatalog().components.get('toolbox')!, tag, upstream };
  }

  it('gives a pull up within seconds when the registry answers nothing, and builds the image here instead', async () => {
    const steps: string[] = [];
    const builder = new ImageBuilder(engine, {
      cacheDir: cacheDir(),
      stacksDir: stacksDir(),
      progress: { step: (c, m) => steps.push(`${c}: ${m}`), line: () => undefined },
    });
    const spec = toolboxAs('source-fallback', `${registry}/otel-harness-test/busybox:1.35.0`);
    made.push(localImageRef(spec));
    const started = Date.now();
    const [image] = await resolveImages(engine, builder, [spec], 'auto', {
      progress: { step: (c, m) => steps.push(`${c}: ${m}`), line: () => undefined },
      pullSilenceMs: 3_000,
    });
    expect(connections).toBeGreaterThan(0); // the engine did go to the registry
    expect(image).toEqual({
      component: 'toolbox',
      ref: 'otel-harness/toolbox:source-fallback',
      origin: 'local',
      built: true,
    });
    expect(steps).toContain(`toolbox: pulling ${spec.upstream}`);
    expect(steps.join('\n')).toMatch(
      new RegExp(`could not pull ${spec.upstream.replaceAll('.', '\\.')} \\(no answer within 3 s\\): building it here`),
    );
    // Given up at the silence limit, then a build of a few seconds (busybox from its Debian package).
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('takes a current local image, then a published image the engine already has, without asking a registry', async () => {
    const builder = new ImageBuilder(engine, {
      cacheDir: cacheDir(),
      stacksDir: stacksDir(),
      progress: { step: () => undefined, line: () => undefined },
    });
    const before = connections;
    const current = toolboxAs('source-fallback', `${registry}/otel-harness-test/busybox:absent`);
    const [local] = await resolveImages(engine, builder, [current], 'auto');
    expect(local).toMatchObject({ ref: 'otel-harness/toolbox:source-fallback', origin: 'local', built: false });
    // A published reference present in the engine (tagged here from the local image) is used as is.
    const present = `${registry}/otel-harness-test/busybox:present`;
    const [repo, tag] = [present.slice(0, present.lastIndexOf(':')), present.slice(present.lastIndexOf(':') + 1)];
    await engine.dockerode.getImage('otel-harness/toolbox:source-fallback').tag({ repo, tag });
    made.push(present);
    const [published] = await resolveImages(engine, builder, [toolboxAs('never-built', present)], 'auto');
    expect(published).toEqual({ component: 'toolbox', ref: present, origin: 'upstream', built: false });
    expect(connections).toBe(before);
  });
});
