import { readFileSync } from 'node:fs';
import { pack } from 'tar-stream';
import type { DockerEngine } from '../docker/docker-engine.js';
import { LABEL } from '../docker/labels.js';
import { ExitCode, HarnessError } from '../harness-error.js';
import { unknownComponentsHint } from '../images/collector-components.js';
import { containerLogLines } from '../observe/collector-log.js';

// The upstream collector image is built FROM scratch: it has no /tmp, so the file goes under the root.
const CONFIG_DIR = 'otel-harness-validate';

/**
 * Checks a user's collector configuration with the collector's own `validate` command, in the collector
 * image that will run it, before anything of the stack starts. A configuration the collector rejects is a
 * configuration error (exit 2) carrying the collector's message.
 */
export function validateCollectorConfig(engine: DockerEngine, image: string, file: string): Promise<void> {
  return validateInImage(engine, image, file, {
    cmd: (path) => ['validate', `--config=${path}`],
    who: "the collector's validate command",
    hint: unknownComponentsHint,
  });
}

/** The same for a Promtail configuration (`--log-agent promtail`), with Promtail's `-check-syntax`. */
export function validatePromtailConfig(engine: DockerEngine, image: string, file: string): Promise<void> {
  return validateInImage(engine, image, file, {
    cmd: (path) => [`-config.file=${path}`, '-check-syntax'],
    who: "Promtail's -check-syntax",
    hint: () => undefined,
  });
}

async function validateInImage(
  engine: DockerEngine,
  image: string,
  file: string,
  how: { cmd: (path: string) => string[]; who: string; hint: (lines: string[]) => string | undefined },
): Promise<void> {
  const { dockerode } = engine;
  const archive = pack();
  archive.entry({ name: `${CONFIG_DIR}/`, type: 'directory', mode: 0o755 });
  archive.entry({ name: `${CONFIG_DIR}/config.yaml`, mode: 0o644 }, readFileSync(file));
  archive.finalize();
  const container = await dockerode.createContainer({
    Image: image,
    Cmd: how.cmd(`/${CONFIG_DIR}/config.yaml`),
    Labels: { [LABEL.run]: 'validate', [LABEL.component]: 'collector-validate' },
    HostConfig: { NetworkMode: 'none' },
  });
  try {
    await dockerode.getContainer(container.id).putArchive(archive as unknown as NodeJS.ReadableStream, { path: '/' });
    await container.start();
    const result = (await container.wait()) as { StatusCode: number };
    if (result.StatusCode !== 0) {
      const lines = await containerLogLines(dockerode, container.id);
      const hint = how.hint(lines);
      throw new HarnessError(`Configuration: --collector-config ${file} is invalid: ${how.who} rejected it`, {
        code: 'CONFIGURATION',
        exitCode: ExitCode.usage,
        details: lines.slice(-15).join('\n'),
        ...(hint === undefined ? {} : { hint }),
      });
    }
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
