import { createReadStream, createWriteStream, lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pack, type Pack } from 'tar-stream';
import type { RootfsEntry, TreeEntry } from './rootfs-plan.js';

/**
 * Everything under `root` (itself first, as ''), parents before children, names sorted. Symlinks are kept as
 * links (never followed); modes are the files' own.
 */
export function listTree(root: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  const walk = (relative: string): void => {
    const hostPath = relative === '' ? root : join(root, relative);
    const stat = relative === '' ? statSync(hostPath) : lstatSync(hostPath);
    const mode = stat.mode & 0o7777;
    if (stat.isSymbolicLink()) {
      entries.push({ type: 'symlink', path: relative, target: readlinkSync(hostPath) });
    } else if (stat.isDirectory()) {
      entries.push({ type: 'directory', path: relative, mode });
      for (const name of readdirSync(hostPath).sort()) walk(relative === '' ? name : `${relative}/${name}`);
    } else if (stat.isFile()) {
      entries.push({ type: 'file', path: relative, mode, hostPath });
    }
    // Devices, sockets and fifos are not part of a package's files.
  };
  walk('');
  return entries;
}

function addFile(
  archive: Pack,
  name: string,
  hostPath: string,
  header: { uid: number; gid: number; mode: number },
): Promise<void> {
  const size = statSync(hostPath).size;
  return new Promise((resolve, reject) => {
    const entry = archive.entry({ name, size, type: 'file', ...header }, (err) => (err ? reject(err) : resolve()));
    createReadStream(hostPath).on('error', reject).pipe(entry);
  });
}

function addContent(archive: Pack, name: string, content: string | Buffer, header: object): Promise<void> {
  return new Promise((resolve, reject) => {
    archive.entry({ name, ...header }, content, (err) => (err ? reject(err) : resolve()));
  });
}

/** Writes the planned root filesystem as a tar archive (ownership and modes kept, mtime fixed). */
export async function writeRootfsArchive(entries: readonly RootfsEntry[], archivePath: string): Promise<void> {
  const archive = pack();
  const written = pipeline(archive, createWriteStream(archivePath));
  const mtime = new Date(0);
  for (const entry of entries) {
    const name = entry.path.replace(/^\//, '');
    switch (entry.type) {
      case 'directory':
        await addContent(archive, name + '/', '', {
          type: 'directory',
          uid: entry.uid,
          gid: entry.gid,
          mode: entry.mode,
          mtime,
        });
        break;
      case 'content':
        await addContent(archive, name, entry.content, {
          type: 'file',
          uid: entry.uid,
          gid: entry.gid,
          mode: entry.mode,
          mtime,
        });
        break;
      case 'symlink':
        await addContent(archive, name, '', { type: 'symlink', linkname: entry.target, mode: 0o777, mtime });
        break;
      case 'file':
        await addFile(archive, name, entry.hostPath, { uid: entry.uid, gid: entry.gid, mode: entry.mode });
        break;
    }
  }
  archive.finalize();
  await written;
}

/** The Docker build context: the Dockerfile and the rootfs archive, as one tar stream. */
export function buildContextStream(dockerfile: string, rootfsPath: string): Pack {
  const context = pack();
  void (async () => {
    try {
      await addContent(context, 'Dockerfile', dockerfile, { type: 'file', mode: 0o644 });
      await addFile(context, 'rootfs.tar', rootfsPath, { uid: 0, gid: 0, mode: 0o644 });
      context.finalize();
    } catch (err) {
      context.destroy(err as Error);
    }
  })();
  return context;
}
