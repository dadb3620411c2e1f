import { randomBytes } from 'node:crypto';

/**
 * Labels on every container, network and volume the harness creates. `docker ps -a --filter
 * label=io.otel-harness.run` lists everything of every run; `=<runId>` one run.
 */
export const LABEL = {
  run: 'io.otel-harness.run',
  component: 'io.otel-harness.component',
  phase: 'io.otel-harness.phase',
} as const;

/**
 * `oh-YYYYMMDD-HHMMSS-<16 hex>` (UTC): sortable by start time and unique by 64 random bits (two runs
 * started in the same second collide with probability 2^-64), usable in Docker names and label values.
 */
export function newRunId(now: Date = new Date(), random: () => string = () => randomBytes(8).toString('hex')): string {
  const iso = now.toISOString();
  const date = iso.slice(0, 10).replaceAll('-', '');
  const time = iso.slice(11, 19).replaceAll(':', '');
  return `oh-${date}-${time}-${random()}`;
}

export function isRunId(value: string): boolean {
  return /^oh-\d{8}-\d{6}-[0-9a-f]{16}$/.test(value);
}
