import type { Signal } from '../load/ledger.js';
import { lostCell, type DuplicateFindings } from '../verify/verification.js';

import type { SoakResult } from './result.js';

function align(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '))
    .join('\n');
}

/**
 * Query-visible duplicates, else delivered-more-than-once from counters (`+n`, `≤+n` when only bounded),
 * else `n/a` (not observable).
 */
export function duplicatesCell(d: DuplicateFindings): string {
  if (d.queryVisible !== null && d.queryVisible > 0) return String(d.queryVisible);
  if (d.delivered !== null) return d.delivered === 0 ? '0' : `+${d.delivered}`;
  if (d.deliveredAtMost !== undefined) return `≤+${d.deliveredAtMost}`;
  return d.queryVisible === null ? 'n/a' : String(d.queryVisible);
}

/** The stdout table of a soak run. Pure. */
export function renderTable(r: SoakResult): string {
  const rows: string[][] = [
    ['SIGNAL', 'OFFERED/S', 'ACHIEVED/S', 'ACKED', 'REFUSED', 'FAILED', 'DROPPED', 'LOST', 'DUPS', 'P99 LATENCY'],
  ];
  const signals = new Set([...Object.keys(r.load.signals), ...Object.keys(r.verification.signals)] as Signal[]);
  for (const s of signals) {
    const l = r.load.signals[s] ?? {
      offeredRps: 0,
      achievedRps: 0,
      counts: { acknowledged: r.verification.signals[s]?.expected ?? 0, refused: 0, failed: 0, dropped: 0 },
    };
    const v = r.verification.signals[s];
    const c = r.latency[s];
    rows.push([
      s,
      l.offeredRps.toFixed(0),
      l.achievedRps.toFixed(0),
      String(l.counts.acknowledged),
      String(l.counts.refused),
      String(l.counts.failed),
      String(l.counts.dropped),
      v === undefined ? '-' : lostCell(v),
      v === undefined ? '-' : duplicatesCell(v.duplicates),
      c === undefined || c.found === 0 ? '-' : `${c.latencyMs.p99} ms`,
    ]);
  }
  const lines = [
    align(rows),
    '',
    `verdict: ${r.verdict.status.toUpperCase()} (exit ${r.verdict.exitCode}); limited by: ${r.limits.limitedBy}`,
  ];
  for (const reason of r.verdict.reasons) lines.push(`  - ${reason}`);
  return lines.join('\n') + '\n';
}
