import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ImageSpec } from '../../src/images/catalog-types.js';
import { loadCatalog } from '../../src/images/catalog.js';
import { renderDockerfile } from '../../src/images/dockerfile.js';
import { listTree } from '../../src/images/rootfs-archive.js';
import {
  accountFiles,
  isExcluded,
  parseOwner,
  planRootfs,
  type RootfsEntry,
  type TreeEntry,
} from '../../src/images/rootfs-plan.js';

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

const bare: ImageSpec = {
  files: [],
  dirs: [],
  accounts: [],
  busybox: false,
  certificates: false,
  user: undefined,
  workdir: undefined,
  env: {},
  expose: [],
  volumes: [],
  entrypoint: undefined,
  cmd: undefined,
};

// An unpacked Debian package set, as listTree reports it.
const debianTree: TreeEntry[] = [
  { type: 'directory', path: '', mode: 0o755 },
  { type: 'directory', path: 'lib64', mode: 0o755 },
  { type: 'symlink', path: 'lib64/ld-linux-x86-64.so.2', target: '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' },
  { type: 'directory', path: 'lib', mode: 0o755 },
  { type: 'directory', path: 'lib/x86_64-linux-gnu', mode: 0o755 },
  { type: 'file', path: 'lib/x86_64-linux-gnu/libc.so.6', mode: 0o755, hostPath: '/deb/lib/libc.so.6' },
  { type: 'directory', path: 'usr', mode: 0o755 },
  { type: 'directory', path: 'usr/sbin', mode: 0o755 },
  { type: 'file', path: 'usr/sbin/haproxy', mode: 0o755, hostPath: '/deb/usr/sbin/haproxy' },
  { type: 'directory', path: 'usr/share', mode: 0o755 },
  { type: 'directory', path: 'usr/share/doc', mode: 0o755 },
  { type: 'file', path: 'usr/share/doc/copyright', mode: 0o644, hostPath: '/deb/copyright' },
  { type: 'directory', path: 'usr/share/man', mode: 0o755 },
  { type: 'directory', path: 'usr/share/man/man1', mode: 0o755 },
  { type: 'directory', path: 'etc', mode: 0o755 },
  { type: 'directory', path: 'etc/haproxy', mode: 0o755 },
  { type: 'file', path: 'etc/passwd', mode: 0o600, hostPath: '/deb/etc/passwd' },
];
const treeSources = (tree: TreeEntry[]) => ({
  resolve: (from: string) => `/host/${from}`,
  listTree: (dir: string) => {
    if (dir !== '/host/build:rootfs') throw new Error(`unexpected tree ${dir}`);
    return tree;
  },
});

describe('trees, links and stop signals', () => {
  it('merges an unpacked package tree into the root, without what is excluded', () => {
    const spec: ImageSpec = {
      ...bare,
      trees: [
        {
          from: 'build:rootfs',
          to: '/',
          exclude: ['usr/share/doc', 'usr/share/man', 'usr/sbin/haproxy'],
          owner: undefined,
        },
      ],
      files: [{ from: 'build:haproxy', to: '/usr/local/sbin/haproxy', owner: undefined, mode: undefined }],
    };
    const entries = planRootfs(spec, treeSources(debianTree));
    expect(find(entries, '/lib64/ld-linux-x86-64.so.2')).toEqual({
      type: 'symlink',
      path: '/lib64/ld-linux-x86-64.so.2',
      target: '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
    });
    expect(find(entries, '/lib/x86_64-linux-gnu/libc.so.6')).toMatchObject({
      type: 'file',
      uid: 0,
      mode: 0o755,
      hostPath: '/deb/lib/libc.so.6',
    });
    expect(find(entries, '/usr/share/doc')).toBeUndefined();
    expect(find(entries, '/usr/share/doc/copyright')).toBeUndefined();
    expect(find(entries, '/usr/share/man/man1')).toBeUndefined();
    expect(find(entries, '/usr/sbin/haproxy')).toBeUndefined();
    expect(find(entries, '/usr/share')).toMatchObject({ type: 'directory' });
    expect(find(entries, '/usr/local/sbin/haproxy')).toMatchObject({ hostPath: '/host/build:haproxy' });
    // What the spec itself says wins over the tree: the image's accounts, not the package's file.
    expect(find(entries, '/etc/passwd')).toMatchObject({ type: 'content', mode: 0o644 });
    expect(find(entries, '/')).toBeUndefined();
  });

  it('puts a subtree elsewhere, owned as asked', () => {
    const spec: ImageSpec = {
      ...bare,
      accounts: [{ name: 'appuser', uid: 1000, gid: 1000 }],
      trees: [{ from: 'build:rootfs', to: '/opt/x', exclude: ['usr', 'etc', 'lib*'], owner: 'appuser:appuser' }],
    };
    const entries = planRootfs(spec, treeSources(debianTree));
    expect(find(entries, '/opt/x')).toMatchObject({ type: 'directory', uid: 1000, gid: 1000, mode: 0o755 });
    expect(entries.filter((e) => e.path.startsWith('/opt/x/')).map((e) => e.path)).toEqual([]);
    expect(find(entries, '/opt')).toMatchObject({ uid: 0 });
  });

  it('matches exclusions by whole path segments, * within one segment', () => {
    expect(isExcluded('usr/share/doc', ['usr/share/doc'])).toBe(true);
    expect(isExcluded('usr/share/doc/libc6/copyright', ['usr/share/doc'])).toBe(true);
    expect(isExcluded('usr/share/doc-base', ['usr/share/doc'])).toBe(false);
    expect(isExcluded('usr/share/locale/de/LC_MESSAGES', ['usr/share/locale/*'])).toBe(true);
    expect(isExcluded('usr/share/locale', ['usr/share/locale/*'])).toBe(false);
    expect(isExcluded('lib/systemd/system/x.service', ['*/systemd'])).toBe(true);
    expect(isExcluded('usr/lib/x86_64-linux-gnu/libc.so.6', ['usr/lib/x86_64-linux-gnu/lib?.so.6'])).toBe(false);
  });

  it('adds symbolic links, and refuses entries under a link or a file', () => {
    const spec: ImageSpec = {
      ...bare,
      links: [{ path: '/opt/java/openjdk', target: '/usr/lib/jvm/java-17-openjdk-amd64' }],
    };
    expect(find(planRootfs(spec, treeSources(debianTree)), '/opt/java/openjdk')).toEqual({
      type: 'symlink',
      path: '/opt/java/openjdk',
      target: '/usr/lib/jvm/java-17-openjdk-amd64',
    });
    const under: ImageSpec = {
      ...spec,
      files: [{ from: 'file:x', to: '/opt/java/openjdk/release', owner: undefined, mode: undefined }],
      links: [],
      trees: [{ from: 'build:rootfs', to: '/', exclude: [], owner: undefined }],
      dirs: [{ path: '/lib64/ld-linux-x86-64.so.2', owner: undefined, mode: undefined }],
    };
    expect(() => planRootfs(under, treeSources(debianTree))).toThrow(/both a symlink and a directory/);
    const tree: TreeEntry[] = [...debianTree, { type: 'symlink', path: 'opt', target: 'usr/opt' }];
    expect(() =>
      planRootfs(
        { ...under, dirs: [], trees: [{ from: 'build:rootfs', to: '/', exclude: [], owner: undefined }] },
        treeSources(tree),
      ),
    ).toThrow(/parent \/opt is a symlink/);
  });

  it('refuses to plan trees without a way to list them', () => {
    const spec: ImageSpec = { ...bare, trees: [{ from: 'build:rootfs', to: '/', exclude: [], owner: undefined }] };
    expect(() => planRootfs(spec, { resolve: (from) => from })).toThrow(/trees/);
  });

  it('renders the stop signal before the user', () => {
    const text = renderDockerfile({ ...bare, stopSignal: 'SIGUSR1', user: 'haproxy' }, {});
    expect(text).toContain('STOPSIGNAL SIGUSR1\nUSER haproxy\n');
    expect(renderDockerfile(bare, {})).not.toContain('STOPSIGNAL');
  });
});

describe('Phase 2 images', () => {
  // The unpacked closures, reduced to what the layouts rely on.
  const jre: TreeEntry[] = [
    { type: 'directory', path: '', mode: 0o755 },
    { type: 'directory', path: 'lib64', mode: 0o755 },
    { type: 'symlink', path: 'lib64/ld-linux-x86-64.so.2', target: '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' },
    { type: 'directory', path: 'usr', mode: 0o755 },
    { type: 'directory', path: 'usr/lib', mode: 0o755 },
    { type: 'directory', path: 'usr/lib/jvm', mode: 0o755 },
    { type: 'directory', path: 'usr/lib/jvm/java-17-openjdk-amd64', mode: 0o755 },
    { type: 'directory', path: 'usr/lib/jvm/java-17-openjdk-amd64/man', mode: 0o755 },
    { type: 'directory', path: 'usr/share', mode: 0o755 },
    { type: 'directory', path: 'usr/share/doc', mode: 0o755 },
    { type: 'directory', path: 'usr/share/doc/libc6', mode: 0o755 },
    { type: 'file', path: 'usr/share/doc/libc6/copyright', mode: 0o644, hostPath: '/jre/copyright' },
    { type: 'file', path: 'usr/share/doc/libc6/changelog.Debian.gz', mode: 0o644, hostPath: '/jre/changelog' },
  ];
  const jars: TreeEntry[] = [
    { type: 'directory', path: '', mode: 0o755 },
    { type: 'file', path: 'kafka_2.13-3.9.1.jar', mode: 0o644, hostPath: '/jars/kafka_2.13-3.9.1.jar' },
  ];
  const kafkaSources = {
    ...sources,
    listTree: (dir: string) => (dir === '/host/build/jre-rootfs' ? jre : jars),
  };

  it('lays Kafka out like apache/kafka: /opt/kafka owned by appuser, the JRE as /opt/java/openjdk, its launcher', () => {
    const entries = planRootfs(spec('kafka'), kafkaSources);
    expect(find(entries, '/opt/kafka/libs/kafka_2.13-3.9.1.jar')).toMatchObject({ uid: 1000, gid: 1000, mode: 0o644 });
    expect(find(entries, '/opt/kafka/libs')).toMatchObject({ type: 'directory', uid: 1000 });
    expect(find(entries, '/opt/kafka/config/log4j.properties')).toMatchObject({ uid: 1000, mode: 0o644 });
    expect(find(entries, '/etc/kafka/docker/run')).toMatchObject({ uid: 1000, gid: 1000, mode: 0o755 });
    expect(find(entries, '/var/lib/kafka/data')).toMatchObject({ uid: 1000, gid: 0, mode: 0o775 });
    expect(find(entries, '/opt/java/openjdk')).toMatchObject({
      type: 'symlink',
      target: '/usr/lib/jvm/java-17-openjdk-amd64',
    });
    expect(find(entries, '/opt/jmx-exporter/jmx_prometheus_javaagent.jar')).toMatchObject({
      mode: 0o644,
      hostPath: '/host/build/jmx-exporter/jmx_prometheus_javaagent-1.0.1.jar',
    });
    expect(find(entries, '/lib64/ld-linux-x86-64.so.2')).toMatchObject({ type: 'symlink' });
    expect(find(entries, '/usr/share/doc/libc6/copyright')).toBeDefined();
    expect(find(entries, '/usr/share/doc/libc6/changelog.Debian.gz')).toBeUndefined();
    expect(find(entries, '/usr/lib/jvm/java-17-openjdk-amd64/man')).toBeUndefined();
    expect(find(entries, '/bin/sh')).toMatchObject({ target: 'busybox' });
    expect(accountFiles(spec('kafka')).passwd).toContain('appuser:x:1000:1000:');
  });

  it('lays HAProxy out like the haproxy image: /usr/local, user 99, no Debian config or init files', () => {
    const rootfs: TreeEntry[] = [
      { type: 'directory', path: '', mode: 0o755 },
      { type: 'directory', path: 'etc', mode: 0o755 },
      { type: 'directory', path: 'etc/haproxy', mode: 0o755 },
      { type: 'file', path: 'etc/haproxy/haproxy.cfg', mode: 0o644, hostPath: '/deb/haproxy.cfg' },
      { type: 'directory', path: 'lib', mode: 0o755 },
      { type: 'directory', path: 'lib/x86_64-linux-gnu', mode: 0o755 },
      { type: 'file', path: 'lib/x86_64-linux-gnu/libc.so.6', mode: 0o755, hostPath: '/deb/libc.so.6' },
      { type: 'directory', path: 'usr', mode: 0o755 },
      { type: 'directory', path: 'usr/sbin', mode: 0o755 },
      { type: 'file', path: 'usr/sbin/haproxy', mode: 0o755, hostPath: '/deb/haproxy' },
    ];
    const errors: TreeEntry[] = [
      { type: 'directory', path: '', mode: 0o755 },
      { type: 'file', path: '503.http', mode: 0o644, hostPath: '/deb/503.http' },
    ];
    const entries = planRootfs(spec('haproxy'), {
      ...sources,
      listTree: (dir: string) => (dir === '/host/build/rootfs' ? rootfs : errors),
    });
    expect(find(entries, '/usr/local/sbin/haproxy')).toMatchObject({
      mode: 0o755,
      hostPath: '/host/build/rootfs/usr/sbin/haproxy',
    });
    expect(find(entries, '/usr/sbin/haproxy')).toBeUndefined();
    expect(find(entries, '/etc/haproxy/haproxy.cfg')).toBeUndefined();
    expect(find(entries, '/usr/local/etc/haproxy/errors/503.http')).toMatchObject({ hostPath: '/deb/503.http' });
    expect(find(entries, '/lib/x86_64-linux-gnu/libc.so.6')).toBeDefined();
    expect(find(entries, '/var/lib/haproxy')).toMatchObject({ uid: 99, gid: 99 });
    expect(find(entries, '/usr/local/bin/docker-entrypoint.sh')).toMatchObject({ mode: 0o755 });
    expect(renderDockerfile(spec('haproxy'), {})).toContain('STOPSIGNAL SIGUSR1\nUSER haproxy\n');
  });
});

describe('listTree', () => {
  it('lists a host directory with modes, parents first, symlinks kept as links', () => {
    const root = mkdtempSync(join(tmpdir(), 'oh-tree-'));
    try {
      mkdirSync(join(root, 'lib/x86_64-linux-gnu'), { recursive: true });
      writeFileSync(join(root, 'lib/x86_64-linux-gnu/libc.so.6'), 'elf');
      chmodSync(join(root, 'lib/x86_64-linux-gnu/libc.so.6'), 0o755);
      mkdirSync(join(root, 'lib64'));
      symlinkSync('/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', join(root, 'lib64/ld-linux-x86-64.so.2'));
      writeFileSync(join(root, 'README'), 'x');
      chmodSync(join(root, 'README'), 0o644);
      const entries = listTree(root);
      expect(entries.map((e) => [e.type, e.path])).toEqual([
        ['directory', ''],
        ['file', 'README'],
        ['directory', 'lib'],
        ['directory', 'lib/x86_64-linux-gnu'],
        ['file', 'lib/x86_64-linux-gnu/libc.so.6'],
        ['directory', 'lib64'],
        ['symlink', 'lib64/ld-linux-x86-64.so.2'],
      ]);
      expect(entries[4]).toMatchObject({ mode: 0o755, hostPath: join(root, 'lib/x86_64-linux-gnu/libc.so.6') });
      expect(entries[6]).toMatchObject({ target: '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
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
