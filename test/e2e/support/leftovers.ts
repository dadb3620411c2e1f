import { connectDockerEngine } from '../../../src/docker/docker-engine.js';
import { LABEL } from '../../../src/docker/labels.js';

/** Containers, networks and volumes still carrying the run label (of one run, or of any run). */
export async function harnessLeftovers(
  runId?: string,
): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
  const { dockerode } = await connectDockerEngine();
  const filters = { label: [runId === undefined ? LABEL.run : `${LABEL.run}=${runId}`] };
  const containers = await dockerode.listContainers({ all: true, filters });
  const networks = await dockerode.listNetworks({ filters });
  const volumes = (await dockerode.listVolumes({ filters })).Volumes ?? [];
  return {
    containers: containers.map((c) => c.Names.join(',')),
    networks: networks.map((n) => n.Name),
    volumes: volumes.map((v) => v.Name),
  };
}

export const NOTHING_LEFT = { containers: [], networks: [], volumes: [] };
