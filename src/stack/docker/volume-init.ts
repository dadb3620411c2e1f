import type { DockerEngine } from '../../docker/docker-engine.js';
import { ExitCode, HarnessError } from '../../harness-error.js';

/** Shell script run by the toolbox image: hand each mounted volume to its service's user. */
export function volumeInitScript(volumes: readonly { owner: string }[]): string {
  return volumes.map((v, i) => `chown -R ${v.owner} /v/${i} && chmod u+rwx /v/${i}`).join(' && ');
}

/**
 * Named volumes mount root-owned unless the image already has the mount point (the collector and Jaeger
 * images do not), so services running as non-root could not write to them. Like a Kubernetes init
 * container, a one-shot toolbox container sets the owner before the services start. No network.
 */
export async function initVolumes(
  engine: DockerEngine,
  toolboxImage: string,
  volumes: readonly { volume: string; owner: string }[],
  labels: Record<string, string>,
): Promise<void> {
  const container = await engine.dockerode.createContainer({
    Image: toolboxImage,
    Cmd: ['sh', '-c', volumeInitScript(volumes)],
    User: '0:0',
    Labels: { ...labels, 'io.otel-harness.component': 'volume-init' },
    HostConfig: { Binds: volumes.map((v, i) => `${v.volume}:/v/${i}`), NetworkMode: 'none' },
  });
  try {
    await container.start();
    const result = (await container.wait()) as { StatusCode: number };
    if (result.StatusCode !== 0) {
      const logs = (await container.logs({ stdout: true, stderr: true })).toString('utf8');
      throw new HarnessError(`Preparing volumes failed (toolbox exit code ${result.StatusCode})`, {
        code: 'VOLUME_INIT_FAILED',
        exitCode: ExitCode.stackFailed,
        details: logs,
      });
    }
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
