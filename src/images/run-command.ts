import { spawn } from 'node:child_process';
import { ExitCode, HarnessError } from '../harness-error.js';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called with each line of stderr and stdout as it arrives (progress). */
  onLine?: (line: string) => void;
  /** Capture stdout and return it (otherwise only its tail is kept for errors). */
  captureStdout?: boolean;
  signal?: AbortSignal;
}

const TAIL_LINES = 40;

/**
 * Runs a build tool (go, apt-get, dpkg-deb, ...). A non-zero exit becomes a HarnessError naming the command
 * and showing the tail of its output; a missing tool becomes one telling what to install.
 */
export function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: options.signal,
    });
    const tail: string[] = [];
    let stdout = '';
    const onData = (isStdout: boolean) => {
      let pending = '';
      return (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        if (isStdout && options.captureStdout === true) stdout += text;
        pending += text;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          tail.push(line);
          if (tail.length > TAIL_LINES) tail.shift();
          options.onLine?.(line);
        }
      };
    };
    child.stdout.on('data', onData(true));
    child.stderr.on('data', onData(false));
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(
          new HarnessError(`${command} is not installed (needed to build images)`, {
            code: 'TOOL_MISSING',
            exitCode: ExitCode.stackFailed,
            hint: toolHint(command),
          }),
        );
      } else {
        reject(err);
      }
    });
    child.on('close', (code, signal) => {
      if (code === 0) {
        resolve(stdout);
        return;
      }
      reject(
        new HarnessError(`${command} ${args.join(' ')} failed (${signal ?? `exit ${String(code)}`})`, {
          code: 'BUILD_COMMAND_FAILED',
          exitCode: ExitCode.stackFailed,
          details: tail.join('\n'),
        }),
      );
    });
  });
}

function toolHint(command: string): string {
  switch (command) {
    case 'go':
      return 'install Go 1.26 or newer (https://go.dev/dl) and make sure `go` is on PATH';
    case 'apt-get':
    case 'dpkg-deb':
      return 'building the busybox-based images needs a Debian or Ubuntu host (apt-get, dpkg-deb)';
    case 'apt-cache':
      return 'building Debian-based images needs a Debian or Ubuntu host (apt-cache, apt-get, dpkg-deb)';
    case 'mvn':
      return 'install Maven and a JDK (Debian: apt-get install maven), needed for the images built from Maven Central';
    default:
      return `install ${command}`;
  }
}
