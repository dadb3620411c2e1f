import { existsSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import createDebug from 'debug';
import type { DockerEngine } from '../../docker/docker-engine.js';
import { LABEL } from '../../docker/labels.js';

const debug = createDebug('otel-harness:cleanup');

export interface RemovedResources {
  containers: string[];
  networks: string[];
  volumes: string[];
  /** Host directories the harness made for a run's containers (the pod log files an agent read). */
  directories: string[];
}

/** The prefix of the host directories the harness makes for a run's containers (`--log-source file`). */
export const HOST_DIR_PREFIX = 'otel-harness-pods-';

function isGone(err: unknown): boolean {
  const status = (err as { statusCode?: number }).statusCode;
  return status === 404 || (status === 409 && /already in progress/.test(String((err as Error).message)));
}

/**
 * Removes every container, network and volume carrying the harness's run label — of one run, or of all
 * runs when `runId` is omitted. Containers go first (forced), then networks, then volumes. Safe to call
 * twice and concurrently with a boot that is being aborted.
 */
export async function removeHarnessResources(engine: DockerEngine, runId?: string): Promise<RemovedResources> {
  const filters = { label: [runId === undefined ? LABEL.run : `${LABEL.run}=${runId}`] };
  const { dockerode } = engine;
  const removed: RemovedResources = { containers: [], networks: [], volumes: [], directories: [] };

  const containers = await dockerode.listContainers({ all: true, filters });
  // Host directories mounted into them that the harness made (a run killed before it could remove them).
  const directories = new Set(
    containers.flatMap((c) =>
      (c.Mounts ?? [])
        .filter((m) => m.Type === 'bind' && basename(m.Source ?? '').startsWith(HOST_DIR_PREFIX))
        .map((m) => m.Source),
    ),
  );
  await Promise.all(
    containers.map(async (c) => {
      try {
        // A paused container (chaos, interrupted mid-fault) must be unpaused before it can be removed.
        if (c.State === 'paused')
          await dockerode
            .getContainer(c.Id)
            .unpause()
            .catch(() => undefined);
        await dockerode.getContainer(c.Id).remove({ force: true, v: true });
        removed.containers.push(c.Names[0]?.replace(/^\//, '') ?? c.Id);
      } catch (err) {
        if (!isGone(err)) throw err;
      }
    }),
  );

  const networks = await dockerode.listNetworks({ filters });
  for (const n of networks) {
    try {
      await dockerode.getNetwork(n.Id).remove();
      removed.networks.push(n.Name);
    } catch (err) {
      if (!isGone(err)) throw err;
    }
  }

  const { Volumes: volumes } = await dockerode.listVolumes({ filters });
  for (const v of volumes ?? []) {
    for (let attempt = 0; ; attempt++) {
      try {
        await dockerode.getVolume(v.Name).remove();
        removed.volumes.push(v.Name);
        break;
      } catch (err) {
        if (isGone(err)) break;
        // A volume can stay "in use" for a moment after its container is removed.
        if ((err as { statusCode?: number }).statusCode === 409 && attempt < 5) {
          await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
          continue;
        }
        throw err;
      }
    }
  }
  for (const dir of directories) {
    if (!existsSync(dir)) continue;
    rmSync(dir, { recursive: true, force: true });
    removed.directories.push(dir);
  }
  debug('removed %o', removed);
  return removed;
}
