/**
 * Benchmark: how repeatable the capacity search is, and how long it takes. Runs the same search several
 * times, each on a freshly booted stack of the same definition, and prints each NDR interval, its
 * midpoint's spread around the mean, and each search's wall time (boot included).
 *
 *   npm run bench:capacity -- [searches=3] [capacity flags…]
 *   npm run bench:capacity -- 3 --phase 1 --collector-cpus 0.5 --trial 15s --confirm 40s
 *
 * Writes reports/bench/capacity-repeat-<date>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCapacity, type CapacityResult } from '../src/capacity/capacity.js';
import { parseArgs } from '../src/cli/parse-args.js';
import { newRunId } from '../src/docker/labels.js';
import { packageRoot } from '../src/paths.js';

const [countArg, ...flags] = process.argv.slice(2);
const searches = Number(countArg ?? '3');
if (!Number.isInteger(searches) || searches < 1) {
  process.stderr.write('usage: bench:capacity -- <searches ≥ 1> [capacity flags…]\n');
  process.exit(2);
}
const command = parseArgs(['capacity', ...flags], process.env);
if (command.name !== 'capacity') throw new Error('unreachable');
const { plan } = command;
const io = {
  progress: (m: string) => process.stderr.write(`  ${m}\n`),
  images: { step: () => undefined, line: () => undefined },
};

process.stderr.write(
  `${searches} searches, each on a fresh ${plan.stack.topology.describe(plan.stack.options, plan.stack.choice)}\n`,
);
const abort = new AbortController();
const interrupted = () => abort.abort(new Error('interrupted'));
process.once('SIGINT', interrupted).once('SIGTERM', interrupted);

const results: CapacityResult[] = [];
try {
  for (let i = 1; i <= searches; i++) {
    process.stderr.write(`search ${i} of ${searches}\n`);
    const { result, error } = await runCapacity(plan, newRunId(), io, abort.signal, 'bench');
    if (error !== undefined) throw error instanceof Error ? error : new Error(JSON.stringify(error));
    results.push(result);
    process.stderr.write(`search ${i}: ${result.headline}\n`);
  }
} finally {
  process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
}

const minutes = (r: CapacityResult) => (Date.parse(r.endedAt) - Date.parse(r.startedAt)) / 60_000;
const mids = results.map((r) =>
  r.ndr?.lowerRps !== undefined && r.ndr.upperRps !== undefined ? (r.ndr.lowerRps + r.ndr.upperRps) / 2 : undefined,
);
const known = mids.filter((m): m is number => m !== undefined);
const mean = known.reduce((a, b) => a + b, 0) / Math.max(1, known.length);
const rows = results.map((r, i) => ({
  search: i + 1,
  kind: r.ndr?.kind,
  lower: r.ndr?.lowerRps,
  upper: r.ndr?.upperRps,
  midpoint: mids[i],
  deviationPct: mids[i] === undefined ? undefined : ((mids[i] - mean) / mean) * 100,
  trials: r.trials.length,
  minutes: minutes(r),
  limitedBy: r.limitedBy.who,
  headline: r.headline,
}));
const header = 'search  NDR interval (items/s)   midpoint  vs mean  trials  minutes  limited by';
const lines = rows.map(
  (r) =>
    `${String(r.search).padEnd(6)}  ${`[${r.lower ?? '—'}, ${r.upper ?? '—'}] (${r.kind})`.padEnd(24)}  ${String(r.midpoint ?? '—').padStart(8)}  ${r.deviationPct === undefined ? '     —' : `${r.deviationPct >= 0 ? '+' : ''}${r.deviationPct.toFixed(1)} %`.padStart(7)}  ${String(r.trials).padStart(6)}  ${r.minutes.toFixed(1).padStart(7)}  ${r.limitedBy}`,
);
const spread = known.length > 0 ? ((Math.max(...known) - Math.min(...known)) / mean) * 100 : undefined;
process.stdout.write(
  [
    header,
    ...lines,
    '',
    `midpoints agree within ±${spread === undefined ? '—' : (spread / 2).toFixed(1)} % of their mean (${mean.toFixed(0)} items/s); max/min ${known.length > 0 ? (Math.max(...known) / Math.min(...known)).toFixed(3) : '—'}`,
    '',
  ].join('\n'),
);
const dir = join(packageRoot(), 'reports', 'bench');
mkdirSync(dir, { recursive: true });
const file = join(dir, `capacity-repeat-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ flags, rows, results }, null, 2));
process.stderr.write(`written: ${file}\n`);
