import type Dockerode from 'dockerode';
import { getContainerRuntimeClient, type ContainerRuntimeClient } from 'testcontainers';
import { ExitCode, HarnessError } from '../harness-error.js';

export interface DockerEngine {
  runtime: ContainerRuntimeClient;
  dockerode: Dockerode;
  serverVersion: number;
}

export const ENGINE_HINT =
  'start the Docker engine: `bash scripts/docker-engine.sh` (installs Debian docker.io if absent and starts dockerd), ' +
  'or point DOCKER_HOST at a running engine';

/**
 * The harness cleans up after itself (labels, finally-blocks, signal handlers), and the Ryuk reaper
 * image cannot be pulled offline, so Ryuk stays off unless the user turned it on explicitly.
 */
export function disableReaperUnlessSet(env: NodeJS.ProcessEnv = process.env): void {
  env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
}

let connected: Promise<DockerEngine> | undefined;

/** Connects once per process, through testcontainers' runtime strategies (DOCKER_HOST, socket, ...). */
export function connectDockerEngine(): Promise<DockerEngine> {
  disableReaperUnlessSet();
  connected ??= connect().catch((err: unknown) => {
    connected = undefined;
    throw err;
  });
  return connected;
}

async function connect(): Promise<DockerEngine> {
  let runtime: ContainerRuntimeClient;
  try {
    runtime = await getContainerRuntimeClient();
  } catch (err) {
    throw new HarnessError('Docker engine is unreachable: ' + (err instanceof Error ? err.message : String(err)), {
      code: 'ENGINE_UNREACHABLE',
      exitCode: ExitCode.stackFailed,
      hint: ENGINE_HINT,
      cause: err,
    });
  }
  // testcontainers keeps its dockerode instance on the Docker container client.
  const dockerode = (runtime.container as unknown as { dockerode?: Dockerode }).dockerode;
  if (dockerode === undefined) {
    throw new HarnessError('The container runtime is not Docker (no Docker API client available)', {
      code: 'ENGINE_UNSUPPORTED',
      exitCode: ExitCode.stackFailed,
      hint: ENGINE_HINT,
    });
  }
  return { runtime, dockerode, serverVersion: runtime.info.containerRuntime.serverVersion };
}
