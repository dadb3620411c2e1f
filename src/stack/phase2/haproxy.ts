import { retryUntil } from '../../time/retry-until.js';
import { ReadinessError } from '../docker/http-readiness.js';

/** One row of HAProxy's stats CSV (`/stats;csv`): a frontend, a backend or one of its servers. */
export interface HaproxyRow {
  proxy: string;
  /** Server name, or FRONTEND / BACKEND for the proxy's own row. */
  server: string;
  /** UP, DOWN, MAINT, no check, OPEN, … */
  status: string;
  /** Cumulated sessions (connections or H2 streams) through the row. */
  sessions: number;
  /** Address of a server (`ip:port`), when HAProxy shows it. */
  address: string | undefined;
}

/** Parses the stats CSV; its header line (`# pxname,svname,…`) names the columns. */
export function parseHaproxyCsv(text: string): HaproxyRow[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0]?.replace(/^#\s*/, '').split(',') ?? [];
  const col = (name: string) => header.indexOf(name);
  const [px, sv, st, stot, addr] = ['pxname', 'svname', 'status', 'stot', 'addr'].map(col);
  if (px === undefined || px < 0 || sv! < 0 || st! < 0)
    throw new Error('not an HAProxy stats CSV (no pxname/svname/status columns)');
  return lines.slice(1).map((line) => {
    const f = line.split(',');
    return {
      proxy: f[px]!,
      server: f[sv!]!,
      status: f[st!] ?? '',
      sessions: Number(f[stot!] ?? 0) || 0,
      address: addr! >= 0 && f[addr!] !== '' ? f[addr!] : undefined,
    };
  });
}

/** Servers of `backend` that are UP (health checks passing). */
export function upServers(rows: readonly HaproxyRow[], backend: string): HaproxyRow[] {
  return rows.filter(
    (r) => r.proxy === backend && r.server !== 'BACKEND' && r.server !== 'FRONTEND' && r.status.startsWith('UP'),
  );
}

/**
 * Waits until HAProxy routes to `count` gateways on each backend (its DNS resolution of the gateways'
 * alias plus two passing health checks).
 */
export async function waitForUpServers(
  statsUrl: string,
  backends: readonly string[],
  count: number,
  options: { timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<number> {
  const outcome = await retryUntil(
    async () => {
      const r = await fetch(statsUrl, { signal: AbortSignal.timeout(2_000) });
      const rows = parseHaproxyCsv(await r.text());
      return backends.map((b) => ({ backend: b, up: upServers(rows, b).length }));
    },
    (counts) => counts.every((c) => c.up === count),
    {
      timeoutMs: options.timeoutMs,
      intervalMs: 500,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    },
  );
  if (outcome.status === 'done') return outcome.elapsedMs;
  throw new ReadinessError(
    `HAProxy to route to ${count} gateway(s) on ${backends.join(' and ')} (${statsUrl})`,
    outcome.elapsedMs,
    outcome.last === undefined
      ? String((outcome.lastError as Error | undefined)?.message ?? 'no answer')
      : outcome.last.map((c) => `${c.backend}: ${c.up} up`).join(', '),
  );
}
