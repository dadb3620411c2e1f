import type Dockerode from 'dockerode';
import { ExitCode, HarnessError } from '../harness-error.js';

interface BuildEvent {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** Runs a Docker image build from a context tar stream and resolves when the image is tagged. */
export async function dockerBuild(
  dockerode: Dockerode,
  context: NodeJS.ReadableStream,
  tag: string,
  onLine: (line: string) => void,
): Promise<void> {
  const stream = await dockerode.buildImage(context, { t: tag, rm: true, forcerm: true });
  const log: string[] = [];
  await new Promise<void>((resolve, reject) => {
    dockerode.modem.followProgress(
      stream,
      (err: Error | null, events: BuildEvent[]) => {
        const failure = err?.message ?? events.find((e) => e.error !== undefined)?.error;
        if (failure !== undefined) {
          reject(
            new HarnessError(`docker build of ${tag} failed: ${failure}`, {
              code: 'IMAGE_BUILD_FAILED',
              exitCode: ExitCode.stackFailed,
              details: log.slice(-30).join('\n'),
            }),
          );
        } else {
          resolve();
        }
      },
      (event: BuildEvent) => {
        for (const line of (event.stream ?? '').split('\n')) {
          if (line.trim() !== '') {
            log.push(line);
            onLine(line);
          }
        }
      },
    );
  });
}
