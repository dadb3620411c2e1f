import type { Signal } from '../load/ledger.js';
import type { SoakResult } from './result.js';

function align(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '))
    .join('\n');
}

/** The stdout table of a soak run. Pure. */
export function renderTable(r: SoakResult): string {
  const rows: string[][] = [
    ['SIGNAL', 'OFFERED/S', 'ACHIEVED/S', 'ACKED', 'REFUSED', 'FAILED', 'DROPPED', 'LOST', 'DUPS', 'P99 LATENCY'],
  ];
  for (const s of Object.keys(r.load.signals) as Signal[]) {
    const l = r.load.signals[s]!;
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
      v === undefined
        ? '-'
        : v.outcome.status === 'inconclusive'
          ? '?'
          : `${v.lost}${v.sample === undefined ? '' : '~'}`,
      v === undefined ? '-' : String(v.duplicates),
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
