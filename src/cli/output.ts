import type { Writable } from 'node:stream';
import { ExitCode, HarnessError } from '../harness-error.js';
import type { ImageProgress } from '../images/image-builder.js';

/** Where the CLI writes: human progress to stderr, results (tables, JSON) to stdout. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
}

export const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr };

/** Progress on stderr, each line stamped with the seconds since the command started. */
export class Reporter {
  private readonly started = Date.now();

  constructor(
    readonly io: CliIo,
    private readonly verbose = false,
  ) {}

  progress(message: string): void {
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1).padStart(6);
    this.io.stderr.write(`[${seconds}s] ${message}\n`);
  }

  images(): ImageProgress {
    return {
      step: (component, message) => this.progress(`image ${component}: ${message}`),
      line: (component, text) => {
        if (this.verbose) this.io.stderr.write(`  ${component} | ${text}\n`);
      },
    };
  }

  out(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : text + '\n');
  }

  err(text: string): void {
    this.io.stderr.write(text.endsWith('\n') ? text : text + '\n');
  }
}

/** Renders rows as an aligned text table. Pure. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '-';
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
}

/** Prints an error (message, hint, details) and returns its exit code: HarnessError → its code, else 1. */
export function reportError(err: unknown, io: CliIo): number {
  if (err instanceof HarnessError) {
    io.stderr.write(`error: ${err.message}\n`);
    if (err.hint !== undefined) io.stderr.write(`hint: ${err.hint}\n`);
    if (err.details !== undefined && err.details.trim() !== '') io.stderr.write(`${err.details.trimEnd()}\n`);
    return err.exitCode;
  }
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
  io.stderr.write(`internal error (please report it): ${stack}\n`);
  return ExitCode.internal;
}
