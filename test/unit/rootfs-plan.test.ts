import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/images/catalog.js';
import { renderDockerfile } from '../../src/images/dockerfile.js';
import { accountFiles, parseOwner, planRootfs, type RootfsEntry } from '../../src/images/rootfs-plan.js';

const catalog = loadCatalog();
const spec = (name: string) => catalog.components.get(name)!.image;
const sources = {
  resolve: (from: string) => `/host/${from.replace(':', '/')}`,
  busybox: '/host/busybox',
  busyboxApplets: ['busybox', 'sh', 'wget', 'chown'],
  caCertificates: '/host/ca.crt',
};
const find = (entries: RootfsEntry[], path: string) => entries.find((e) => e.path === path);

describe('planRootfs', () => {
  it("reproduces the upstream Loki image's paths, owners and modes", () => {
    const entries = planRootfs(spec('loki'), sources);
    expect(find(entries, '/usr/bin/loki')).toMatchObject({
      type: 'file',
      uid: 0,
      gid: 0,
      mode: 0o755,
      hostPath: '/host/build/loki',
    });
    expect(find(entries, '/etc/loki/local-config.yaml')).toMatchObject({ uid: 10001, gid: 10001, mode: 0o644 });
    expect(find(entries, '/loki')).toMatchObject({ type: 'directory', uid: 10001, gid: 10001 });
    expect(find(entries, '/loki/rules-temp')).toMatchObject({ type: 'directory', uid: 10001 });
    expect(find(entries, '/usr/bin')).toMatchObject({ type: 'directory', uid: 0, mode: 0o755 });
    expect(find(entries, '/bin/sh')).toBeUndefined(); // distroless upstream: no shell
  });

  it('creates every directory before what it contains', () => {
    const entries = planRootfs(spec('prometheus'), sources);
    const index = new Map(entries.map((e, i) => [e.path, i]));
    for (const entry of entries) {
      const parent = entry.path.slice(0, entry.path.lastIndexOf('/'));
      if (parent !== '') expect(index.get(parent)!, entry.path).toBeLessThan(index.get(entry.path)!);
    }
  });

  it('gives busybox-based images their applets, and Tempo its private data dir', () => {
    const prometheus = planRootfs(spec('prometheus'), sources);
    expect(find(prometheus, '/bin/sh')).toEqual({ type: 'symlink', path: '/bin/sh', target: 'busybox' });
    expect(find(prometheus, '/bin/busybox')).toMatchObject({ type: 'file', hostPath: '/host/busybox' });
    expect(find(prometheus, '/prometheus')).toMatchObject({ uid: 65534, gid: 65534, mode: 0o775 });
    const tempo = planRootfs(spec('tempo'), sources);
    expect(find(tempo, '/var/tempo')).toMatchObject({ uid: 10001, gid: 10001, mode: 0o700 });
    expect(find(tempo, '/etc/ssl/certs/ca-certificates.crt')).toMatchObject({ hostPath: '/host/ca.crt' });
  });

  it('refuses to plan busybox or certificates without their sources', () => {
    expect(() => planRootfs(spec('prometheus'), { resolve: sources.resolve })).toThrow(/busybox/);
    expect(() => planRootfs(spec('tempo'), { resolve: sources.resolve })).toThrow(/CA bundle/);
  });
});

describe('accounts and owners', () => {
  it('writes root, nobody and the image accounts', () => {
    const { passwd, group } = accountFiles(spec('tempo'));
    expect(passwd.split('\n')).toContain('tempo:x:10001:10001:tempo:/home/tempo:/bin/false');
    expect(passwd).toMatch(/^root:x:0:0:/);
    expect(group).toContain('nobody:x:65534:');
  });

  it('parses numeric, named and partial owners', () => {
    expect(parseOwner('10001:10001', spec('tempo'))).toEqual({ uid: 10001, gid: 10001 });
    expect(parseOwner('10001', spec('tempo'))).toEqual({ uid: 10001, gid: 10001 });
    expect(parseOwner('nobody', spec('prometheus'))).toEqual({ uid: 65534, gid: 65534 });
    expect(parseOwner('tempo', spec('tempo'))).toEqual({ uid: 10001, gid: 10001 });
    expect(parseOwner(undefined, spec('tempo'))).toEqual({ uid: 0, gid: 0 });
    expect(() => parseOwner('ghost', spec('tempo'))).toThrow(/unknown account/);
  });
});

describe('renderDockerfile', () => {
  it("carries the upstream Prometheus image's runtime settings", () => {
    const text = renderDockerfile(spec('prometheus'), { 'io.otel-harness.component': 'prometheus' });
    expect(text.split('\n')).toEqual([
      'FROM scratch',
      'ADD rootfs.tar /',
      'WORKDIR /prometheus',
      'EXPOSE 9090',
      'VOLUME ["/prometheus"]',
      'USER nobody',
      'ENTRYPOINT ["/bin/prometheus"]',
      'CMD ["--config.file=/etc/prometheus/prometheus.yml","--storage.tsdb.path=/prometheus"]',
      'LABEL io.otel-harness.component="prometheus"',
      '',
    ]);
  });

  it('sets the environment of the Jaeger image', () => {
    expect(renderDockerfile(spec('jaeger'), {})).toContain('ENV JAEGER_LISTEN_HOST="0.0.0.0"');
  });
});
