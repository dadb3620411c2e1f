/**
 * Benchmark: how sensitive a gate is on this machine, from real trials of one stack spec (an A/A gate's
 * trials.json, both arms the same spec). Every way of splitting the pool into two arms of `n` is an A/A
 * gate: the share that reports any regression is the false-positive rate. Multiplying one arm's figure of
 * a metric by (1 + shift) plants a regression of that size: the share of splits that report it is the
 * detection rate, and the smallest shift detected in ≥ 80 % of splits is the gate's sensitivity.
 *
 *   npm run gate -- --baseline stacks/gates/seed.yaml --candidate stacks/gates/seed.yaml --trials 5
 *   npm run bench:gate -- reports/<that run>/trials.json [n=5] ['otelcol CPU-s*,…' = every metric]
 *
 * The third argument gates only the metrics its patterns match (as `gate --gate-on`): a smaller Holm
 * family, so more power for those metrics.
 *
 * Prints per metric the noise (CV) and the smallest shift detected; writes reports/bench/gate-sensitivity-<date>.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { matchesPattern, metricOf, type GateTrial } from '../src/gate/gate.js';
import { compareMetrics, GATE_STATS_DEFAULTS, summarize } from '../src/gate/gate-stats.js';
import { packageRoot } from '../src/paths.js';

const [file, nArg, gateOnArg] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write(
    "usage: bench:gate -- <trials.json of an A/A gate> [trials per arm = 5] ['metric pattern,…' = '*']\n",
  );
  process.exit(2);
}
const trials = JSON.parse(readFileSync(file, 'utf8')) as GateTrial[];
const n = Number(nArg ?? '5');
if (!Number.isInteger(n) || n < 4 || trials.length < 2 * n) {
  process.stderr.write(`need at least ${2 * n} trials of one spec (have ${trials.length}) and n ≥ 4\n`);
  process.exit(2);
}
const gateOn = (gateOnArg ?? '*').split(',').map((p) => p.trim());
const names = [...new Set(trials.flatMap((t) => Object.keys(t.metrics)))]
  .filter((name) => trials.every((t) => t.metrics[name] !== undefined))
  .filter((name) => gateOn.some((p) => matchesPattern(name, p)))
  .sort();
if (names.length === 0) {
  process.stderr.write(`no metric of every trial matches '${gateOn.join(',')}'\n`);
  process.exit(2);
}
const metrics = names.map(metricOf);
const values = (idx: readonly number[], name: string) => idx.map((i) => trials[i]!.metrics[name]!);

/** Every split of the first 2n trials into two arms of n (each unordered pair of arms once). */
function splits(total: number, size: number): [number[], number[]][] {
  const out: [number[], number[]][] = [];
  const pick = (start: number, chosen: number[]) => {
    if (chosen.length === size) {
      if (!chosen.includes(0)) return; // each split once: arm A holds trial 0
      out.push([chosen, [...Array(total).keys()].filter((i) => !chosen.includes(i))]);
      return;
    }
    for (let i = start; i < total; i++) pick(i + 1, [...chosen, i]);
  };
  pick(0, []);
  return out;
}
const all = splits(2 * n, n);

// A/A: any metric called a regression.
let falsePositive = 0;
let inconclusive = 0;
for (const [a, b] of all) {
  const rows = compareMetrics(
    metrics,
    names.map((m) => values(a, m)),
    names.map((m) => values(b, m)),
  );
  if (rows.some((r) => r.verdict === 'regression')) falsePositive++;
  if (rows.some((r) => r.verdict === 'inconclusive')) inconclusive++;
}

// Sensitivity: a planted shift of one metric in arm B; detected when that metric is called a regression.
const SHIFTS = [0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5];
const sensitivity = names.map((name, k) => {
  const cv = summarize(values([...Array(2 * n).keys()], name)).cv;
  const detection = SHIFTS.map((shift) => {
    let found = 0;
    for (const [a, b] of all) {
      const rows = compareMetrics(
        metrics,
        names.map((m) => values(a, m)),
        names.map((m, j) => values(b, m).map((v) => (j === k ? v * (1 + shift) : v))),
      );
      if (rows[k]!.verdict === 'regression') found++;
    }
    return { shift, rate: found / all.length };
  });
  const smallest = detection.find((d) => d.rate >= 0.8)?.shift;
  return { metric: name, cv, smallest, detection };
});

// Paired: a gate of --design paired holds pairs (both arms of a pair at the same moment). Every choice of
// n of its pairs is an A/A paired gate; planting a shift in the candidate of each pair measures detection —
// beside the unpaired splits above of the same trials, so both designs see the same machine and moments.
const pairIds = [...new Set(trials.flatMap((t) => (t.pair === undefined ? [] : [t.pair])))].filter(
  (p) =>
    trials.some((t) => t.pair === p && t.arm === 'baseline') &&
    trials.some((t) => t.pair === p && t.arm === 'candidate'),
);
const paired =
  pairIds.length < n
    ? undefined
    : (() => {
        // Every subset of n pairs, or 5,000 drawn at random (seeded) where there are more.
        const every = subsetsOf(pairIds.length, n, 5_000);
        const armValue = (p: number, arm: 'baseline' | 'candidate', name: string) =>
          trials.find((t) => t.pair === pairIds[p] && t.arm === arm)!.metrics[name]!;
        const stats = { ...GATE_STATS_DEFAULTS, design: 'paired' as const };
        /** How many choices report any regression, judged paired or (the pairing ignored) unpaired. */
        const regressionsAsRun = (design: 'paired' | 'unpaired') =>
          every.filter((sub) =>
            compareMetrics(
              metrics,
              names.map((m) => sub.map((p) => armValue(p, 'baseline', m))),
              names.map((m) => sub.map((p) => armValue(p, 'candidate', m))),
              { ...stats, design },
            ).some((r) => r.verdict === 'regression'),
          ).length;
        const fp = regressionsAsRun('paired');
        const rows = names.map((name, k) => {
          const logRatios = pairIds.map((_, p) =>
            Math.log(armValue(p, 'candidate', name) / armValue(p, 'baseline', name)),
          );
          const mean = logRatios.reduce((a, b) => a + b, 0) / logRatios.length;
          const sd = Math.sqrt(logRatios.reduce((a, b) => a + (b - mean) ** 2, 0) / (logRatios.length - 1));
          const detection = SHIFTS.map((shift) => {
            let found = 0;
            for (const sub of every) {
              const r = compareMetrics(
                metrics,
                names.map((m) => sub.map((p) => armValue(p, 'baseline', m))),
                names.map((m, j) => sub.map((p) => armValue(p, 'candidate', m) * (j === k ? 1 + shift : 1))),
                stats,
              );
              if (r[k]!.verdict === 'regression') found++;
            }
            return { shift, rate: found / every.length };
          });
          return { metric: name, pairNoise: sd, smallest: detection.find((d) => d.rate >= 0.8)?.shift, detection };
        });
        // The same choices judged unpaired (Mann-Whitney on the n baselines against the n candidates).
        const unpairedRegressions = regressionsAsRun('unpaired');
        return {
          pairs: pairIds.length,
          subsets: every.length,
          regressions: fp,
          unpairedRegressions,
          sensitivity: rows,
        };
      })();

/** Every subset of `size` of 0…total−1, or `cap` distinct ones drawn at random (seeded) when there are more. */
function subsetsOf(total: number, size: number, cap: number): number[][] {
  let count = 1;
  for (let i = 0; i < size; i++) count = (count * (total - i)) / (i + 1);
  if (count <= cap) {
    const out: number[][] = [];
    const pick = (start: number, chosen: number[]) => {
      if (chosen.length === size) return void out.push(chosen);
      for (let i = start; i < total; i++) pick(i + 1, [...chosen, i]);
    };
    pick(0, []);
    return out;
  }
  let state = 12345;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const seen = new Set<string>();
  const out: number[][] = [];
  while (out.length < cap) {
    const pool = [...Array(total).keys()];
    for (let i = 0; i < size; i++) {
      const j = i + Math.floor(next() * (total - i));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    const chosen = pool.slice(0, size).sort((a, b) => a - b);
    const key = chosen.join(',');
    if (!seen.has(key)) {
      seen.add(key);
      out.push(chosen);
    }
  }
  return out;
}

const minutes = trials.reduce((s, t) => s + t.elapsedMs, 0) / trials.length / 60_000;
const lines = [
  `${trials.length} trials of one spec; ${all.length} A/A splits of ${n}+${n}; gated: ${names.length} metrics (${gateOn.join(',')})`,
  `A/A: ${falsePositive} of ${all.length} gates report a regression (${((falsePositive / all.length) * 100).toFixed(1)} %); ${inconclusive} inconclusive`,
  `a ${n}+${n} gate takes about ${(minutes * 2 * n).toFixed(0)} minutes here (${minutes.toFixed(1)} min per trial)`,
  '',
  `${'metric'.padEnd(34)} ${'noise (CV)'.padStart(10)}  smallest shift found in ≥ 80 % of splits`,
  ...sensitivity.map(
    (s) =>
      `${s.metric.padEnd(34)} ${`${(s.cv * 100).toFixed(1)} %`.padStart(10)}  ${s.smallest === undefined ? `> ${SHIFTS.at(-1)! * 100} %` : `${s.smallest * 100} %`}  (${s.detection.map((d) => `${d.shift * 100}%:${Math.round(d.rate * 100)}`).join(' ')})`,
  ),
  '',
  ...(paired === undefined
    ? [`paired: no ${n} pairs in this file (a gate run with --design paired holds them)`]
    : [
        `paired, the same trials: ${paired.subsets} choices of ${n} of its ${paired.pairs} pairs; as run (an A/A gate: false positives; a real change: its detection): ${paired.regressions} report a regression (${((paired.regressions / paired.subsets) * 100).toFixed(1)} %)`,
        `the same choices judged unpaired (Mann-Whitney, the pairing ignored): ${paired.unpairedRegressions} report a regression (${((paired.unpairedRegressions / paired.subsets) * 100).toFixed(1)} %)`,
        `${'metric'.padEnd(34)} ${'pair noise'.padStart(10)}  smallest shift found in ≥ 80 % of choices`,
        ...paired.sensitivity.map(
          (s) =>
            `${s.metric.padEnd(34)} ${`${(s.pairNoise * 100).toFixed(1)} %`.padStart(10)}  ${s.smallest === undefined ? `> ${SHIFTS.at(-1)! * 100} %` : `${s.smallest * 100} %`}  (${s.detection.map((d) => `${d.shift * 100}%:${Math.round(d.rate * 100)}`).join(' ')})`,
        ),
      ]),
  '',
];
process.stdout.write(lines.join('\n'));
const dir = join(packageRoot(), 'reports', 'bench');
mkdirSync(dir, { recursive: true });
const out = join(dir, `gate-sensitivity-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(
  out,
  JSON.stringify(
    { file, n, gateOn, falsePositive, inconclusive, splits: all.length, minutes, sensitivity, paired },
    null,
    2,
  ),
);
process.stderr.write(`written: ${out}\n`);
