import { PassThrough } from 'node:stream';
import { expect } from 'vitest';
import { parseArgs } from '../../../src/cli/parse-args.js';
import { HarnessError } from '../../../src/harness-error.js';

/** The usage error (exit 2) `fn` throws; the test fails when it throws none, or another error. */
export function usageError(fn: () => unknown, what = 'a configuration error'): HarnessError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HarnessError);
    expect((err as HarnessError).exitCode).toBe(2);
    return err as HarnessError;
  }
  throw new Error(`expected ${what}`);
}

/** The message of the usage error `fn` throws. */
export function usage(fn: () => unknown): string {
  return usageError(fn).message;
}

/** The usage error of a command line (and environment) that must be refused. */
export function refused(argv: string[], env: NodeJS.ProcessEnv = {}): HarnessError {
  return usageError(() => parseArgs(argv, env), `${argv.join(' ')} to be refused`);
}

/** stdout and stderr for `main`, with what was written to each. */
export function captureIo() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return { io: { stdout, stderr }, out: () => out, err: () => err };
}
