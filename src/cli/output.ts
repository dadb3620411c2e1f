import type { Writable } from 'node:stream';
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
    private readonly io: CliIo,
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
