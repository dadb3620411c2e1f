import { connectDockerEngine } from '../../docker/docker-engine.js';
import { ExitCode } from '../../harness-error.js';
import { removeHarnessResources } from '../../stack/docker/cleanup.js';
import type { Command } from '../parse-args.js';
import type { Reporter } from '../output.js';

/** `down`: removes every labelled container, network and volume (of all runs, or one). */
export async function runDown(command: Extract<Command, { name: 'down' }>, reporter: Reporter): Promise<number> {
  const engine = await connectDockerEngine();
  const removed = await removeHarnessResources(engine, command.runId);
  const scope = command.runId === undefined ? 'all runs' : `run ${command.runId}`;
  reporter.out(
    `removed from ${scope}: ${removed.containers.length} containers, ${removed.networks.length} networks, ` +
      `${removed.volumes.length} volumes${removed.directories.length > 0 ? `, ${removed.directories.length} host directories` : ''}`,
  );
  for (const name of [...removed.containers, ...removed.networks, ...removed.volumes, ...removed.directories])
    reporter.out(`  ${name}`);
  return ExitCode.pass;
}
