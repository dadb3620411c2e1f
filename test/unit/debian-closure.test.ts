import { describe, expect, it } from 'vitest';
import {
  APT_CACHE_DEPENDS_ARGS,
  dependencyClosure,
  parseAptCacheDepends,
} from '../../src/images/recipes/debian-closure.js';
import { debianCacheName, packageVersions } from '../../src/images/recipes/debian.js';

// Trimmed from `apt-cache depends --recurse --no-recommends ... haproxy ca-certificates` on bookworm.
const APT_OUTPUT = `haproxy
  PreDepends: dpkg
  Depends: libc6
  Depends: libssl3
  Depends: libsystemd0
    libelogind0
  Depends: adduser
 |Depends: debconf
  Depends: <debconf-2.0>
    cdebconf
    debconf
dpkg
  PreDepends: libc6
  Depends: tar
libc6
  Depends: libgcc-s1
libssl3
  Depends: libc6
libsystemd0
  Depends: libc6
  Depends: libzstd1
libelogind0
  Depends: libc6
adduser
  Depends: passwd
debconf
  PreDepends: perl-base
cdebconf
  Depends: libc6
tar
  PreDepends: libc6
libgcc-s1
  Depends: gcc-12-base
  Depends: libc6
libzstd1
  Depends: libc6
passwd
  Depends: libc6
perl-base
gcc-12-base
init-system-helpers
 |Depends: usrmerge
  Depends: usr-is-merged
    usrmerge
usrmerge
  Depends: <perl:any>
    perl
usr-is-merged
perl
  Depends: perl-base
fontconfig-config
  Depends: <fonts-virtual>
    fonts-dejavu-core
    fonts-liberation
fonts-dejavu-core
fonts-liberation
<debconf-2.0>
<perl:any>
<fonts-virtual>
`;

describe('Debian dependency closure', () => {
  const graph = parseAptCacheDepends(APT_OUTPUT);

  it('asks apt-cache for Depends and Pre-Depends only, recursively', () => {
    expect(APT_CACHE_DEPENDS_ARGS).toEqual([
      'depends',
      '--recurse',
      '--no-recommends',
      '--no-suggests',
      '--no-conflicts',
      '--no-breaks',
      '--no-replaces',
      '--no-enhances',
    ]);
  });

  it('parses dependencies into groups of alternatives, virtual packages with their providers', () => {
    expect(graph.get('haproxy')).toEqual([
      [{ name: 'dpkg', virtual: false, providers: [] }],
      [{ name: 'libc6', virtual: false, providers: [] }],
      [{ name: 'libssl3', virtual: false, providers: [] }],
      [{ name: 'libsystemd0', virtual: false, providers: ['libelogind0'] }],
      [{ name: 'adduser', virtual: false, providers: [] }],
      [
        { name: 'debconf', virtual: false, providers: [] },
        { name: 'debconf-2.0', virtual: true, providers: ['cdebconf', 'debconf'] },
      ],
    ]);
    expect(graph.has('debconf-2.0')).toBe(false); // virtual stanzas are not packages
    expect(graph.get('perl-base')).toEqual([]);
  });

  it('takes the first real alternative, never a package that merely provides a real one', () => {
    const closure = dependencyClosure(graph, ['haproxy']);
    expect(closure).toEqual([
      'adduser',
      'debconf',
      'dpkg',
      'gcc-12-base',
      'haproxy',
      'libc6',
      'libgcc-s1',
      'libssl3',
      'libsystemd0',
      'libzstd1',
      'passwd',
      'perl-base',
      'tar',
    ]);
    expect(closure).not.toContain('libelogind0');
    expect(closure).not.toContain('cdebconf');
  });

  it('takes the first provider of a virtual-only dependency, and skips one nothing provides', () => {
    expect(dependencyClosure(graph, ['fontconfig-config'])).toEqual(['fontconfig-config', 'fonts-dejavu-core']);
    expect(dependencyClosure(graph, ['usrmerge'])).toEqual(['perl', 'perl-base', 'usrmerge']);
  });

  it('leaves excluded packages out with what only they pull in', () => {
    const closure = dependencyClosure(graph, ['haproxy'], ['dpkg', 'adduser', 'debconf']);
    expect(closure).toEqual(['gcc-12-base', 'haproxy', 'libc6', 'libgcc-s1', 'libssl3', 'libsystemd0', 'libzstd1']);
    // An excluded alternative satisfies its group: no fallback to the next one (cdebconf).
    expect(closure).not.toContain('cdebconf');
  });

  it('refuses a package apt-cache does not know', () => {
    expect(() => dependencyClosure(graph, ['no-such-package'])).toThrow(/knows no package 'no-such-package'/);
  });
});

describe('Debian package cache', () => {
  it('keeps the cache name of a plain package list, and keys a closure by its packages and exclusions', () => {
    expect(debianCacheName(['busybox-static'])).toBe('busybox-static');
    expect(debianCacheName(['a', 'b'], { dependencies: false })).toBe('a+b');
    const closure = debianCacheName(['haproxy'], { dependencies: true, exclude: ['dpkg', 'adduser'] });
    expect(closure).toMatch(/^haproxy\+deps-[0-9a-f]{12}$/);
    expect(debianCacheName(['haproxy'], { dependencies: true, exclude: ['adduser', 'dpkg'] })).toBe(closure);
    expect(debianCacheName(['haproxy'], { dependencies: true })).not.toBe(closure);
  });

  it('lists the downloaded versions from the file names', () => {
    expect(packageVersions(['libc6_2.36-9+deb12u10_amd64.deb', 'busybox-static_1%3a1.35.0-4+deb12u1_amd64.deb'])).toBe(
      'busybox-static 1:1.35.0-4+deb12u1\nlibc6 2.36-9+deb12u10\n',
    );
  });
});
