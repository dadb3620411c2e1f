import { posix } from 'node:path';
import type { ImageSpec, ImageTree } from './catalog-types.js';

/** One entry of the image's root filesystem archive. Ownership and modes are exact (ADD keeps them). */
export type RootfsEntry =
  | { type: 'directory'; path: string; uid: number; gid: number; mode: number }
  | { type: 'file'; path: string; uid: number; gid: number; mode: number; hostPath: string }
  | { type: 'content'; path: string; uid: number; gid: number; mode: number; content: string }
  | { type: 'symlink'; path: string; target: string };

/** One entry of a directory tree on the host; `path` is relative to the tree's root ('' is the root). */
export type TreeEntry =
  | { type: 'directory'; path: string; mode: number }
  | { type: 'file'; path: string; mode: number; hostPath: string }
  | { type: 'symlink'; path: string; target: string };

export interface RootfsSources {
  /** Absolute host path for a `build:`, `source:` or `file:` reference. */
  resolve(from: string): string;
  /** Everything under a host directory (for `trees`), parents before children. */
  listTree?(hostDir: string): TreeEntry[];
  /** Host path of a static busybox, when the spec asks for one. */
  busybox?: string;
  /** busybox applet names (`busybox --list`), linked into /bin. */
  busyboxApplets?: string[];
  /** Host path of the CA bundle, when the spec asks for certificates. */
  caCertificates?: string;
}

const NOBODY = 65534;

/** Parses `uid[:gid]`; a bare name is looked up among the accounts. */
export function parseOwner(owner: string | undefined, spec: ImageSpec): { uid: number; gid: number } {
  if (owner === undefined) return { uid: 0, gid: 0 };
  const [user, group] = owner.split(':');
  const lookup = (name: string | undefined, field: 'uid' | 'gid'): number | undefined => {
    if (name === undefined) return undefined;
    if (/^\d+$/.test(name)) return Number(name);
    if (name === 'root') return 0;
    if (name === 'nobody') return NOBODY;
    const account = spec.accounts.find((a) => a.name === name);
    if (account === undefined) throw new Error(`unknown account '${name}' in owner '${owner}'`);
    return account[field];
  };
  const uid = lookup(user, 'uid') ?? 0;
  return { uid, gid: lookup(group, 'gid') ?? uid };
}

function parseMode(mode: string | undefined, fallback: number): number {
  return mode === undefined ? fallback : parseInt(mode, 8);
}

/** /etc/passwd and /etc/group: root, nobody and the spec's accounts (upstream bases ship the same). */
export function accountFiles(spec: ImageSpec): { passwd: string; group: string } {
  const passwd = ['root:x:0:0:root:/root:/bin/sh', `nobody:x:${NOBODY}:${NOBODY}:nobody:/home:/bin/false`];
  const group = ['root:x:0:', `nobody:x:${NOBODY}:`];
  for (const a of spec.accounts) {
    passwd.push(`${a.name}:x:${a.uid}:${a.gid}:${a.name}:/home/${a.name}:/bin/false`);
    if (!group.some((g) => g.split(':')[2] === String(a.gid))) group.push(`${a.name}:x:${a.gid}:`);
  }
  return { passwd: passwd.join('\n') + '\n', group: group.join('\n') + '\n' };
}

/** Whether `path` (relative to a tree) is one of the `exclude` patterns or under one; `*` stays within a segment. */
export function isExcluded(path: string, exclude: readonly string[]): boolean {
  return exclude.some((pattern) => {
    const source = pattern
      .replace(/\/+$/, '')
      .split('/')
      .map((segment) => segment.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*'))
      .join('/');
    return new RegExp(`^${source}(/|$)`).test(path);
  });
}

/** The entries a tree adds to the image: its content under `tree.to`, excluded paths left out, owned as asked. */
export function planTree(
  tree: ImageTree,
  entries: readonly TreeEntry[],
  owner: { uid: number; gid: number },
): RootfsEntry[] {
  const planned: RootfsEntry[] = [];
  for (const entry of entries) {
    if (entry.path !== '' && isExcluded(entry.path, tree.exclude)) continue;
    const path = posix.join(tree.to, entry.path);
    if (path === '/') continue;
    if (entry.type === 'symlink') planned.push({ type: 'symlink', path, target: entry.target });
    else if (entry.type === 'directory') planned.push({ type: 'directory', path, ...owner, mode: entry.mode });
    else planned.push({ type: 'file', path, ...owner, mode: entry.mode, hostPath: entry.hostPath });
  }
  return planned;
}

/**
 * Plans the root filesystem of a local image: parent directories first, then files, with the ownership
 * and modes the upstream image has. Trees are laid down first, so everything else the spec names wins
 * over what they hold. Pure, so the layout can be checked without building anything.
 */
export function planRootfs(spec: ImageSpec, sources: RootfsSources): RootfsEntry[] {
  const entries = new Map<string, RootfsEntry>();
  const ensureParents = (path: string): void => {
    const parent = posix.dirname(path);
    if (parent === '/') return;
    const existing = entries.get(parent);
    if (existing !== undefined) {
      if (existing.type !== 'directory') {
        throw new Error(`${path}: its parent ${parent} is a ${existing.type} in the image, not a directory`);
      }
      return;
    }
    ensureParents(parent);
    entries.set(parent, { type: 'directory', path: parent, uid: 0, gid: 0, mode: 0o755 });
  };
  const put = (entry: RootfsEntry): void => {
    ensureParents(entry.path);
    const existing = entries.get(entry.path);
    if (existing !== undefined && (existing.type === 'directory') !== (entry.type === 'directory')) {
      throw new Error(`${entry.path} is both a ${existing.type} and a ${entry.type} in the image`);
    }
    entries.set(entry.path, entry);
  };

  for (const tree of spec.trees ?? []) {
    if (sources.listTree === undefined) throw new Error('trees requested but no way to list them was provided');
    const listed = sources.listTree(sources.resolve(tree.from));
    for (const entry of planTree(tree, listed, parseOwner(tree.owner, spec))) put(entry);
  }

  const accounts = accountFiles(spec);
  put({ type: 'content', path: '/etc/passwd', uid: 0, gid: 0, mode: 0o644, content: accounts.passwd });
  put({ type: 'content', path: '/etc/group', uid: 0, gid: 0, mode: 0o644, content: accounts.group });
  put({ type: 'directory', path: '/tmp', uid: 0, gid: 0, mode: 0o1777 });

  if (spec.busybox) {
    if (sources.busybox === undefined) throw new Error('busybox requested but no busybox binary was provided');
    put({ type: 'file', path: '/bin/busybox', uid: 0, gid: 0, mode: 0o755, hostPath: sources.busybox });
    for (const applet of sources.busyboxApplets ?? []) {
      if (applet !== 'busybox') put({ type: 'symlink', path: `/bin/${applet}`, target: 'busybox' });
    }
  }
  if (spec.certificates) {
    if (sources.caCertificates === undefined) throw new Error('certificates requested but no CA bundle was provided');
    put({
      type: 'file',
      path: '/etc/ssl/certs/ca-certificates.crt',
      uid: 0,
      gid: 0,
      mode: 0o644,
      hostPath: sources.caCertificates,
    });
  }
  for (const dir of spec.dirs) {
    put({ type: 'directory', path: dir.path, ...parseOwner(dir.owner, spec), mode: parseMode(dir.mode, 0o755) });
  }
  for (const file of spec.files) {
    const executable = file.from.startsWith('build:');
    put({
      type: 'file',
      path: file.to,
      ...parseOwner(file.owner, spec),
      mode: parseMode(file.mode, executable ? 0o755 : 0o644),
      hostPath: sources.resolve(file.from),
    });
  }
  for (const link of spec.links ?? []) put({ type: 'symlink', path: link.path, target: link.target });
  // Directories before their contents; tar order is the creation order.
  return [...entries.values()].sort((a, b) => depth(a.path) - depth(b.path) || a.path.localeCompare(b.path));
}

function depth(path: string): number {
  return path.split('/').length;
}
