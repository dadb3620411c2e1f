import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { renderJunit, type JunitCase } from '../report/junit.js';
import { renderHtml, type ChartSpec, type HtmlReport } from '../report/render-html.js';
import type { GateResult } from './gate-result.js';
import { fmtP, type MetricComparison } from './gate-stats.js';

/** Writes result.json, trials.json, summary.md, junit.xml, benchmark.json and report.html; returns the folder. */
export function writeGateReport(result: GateResult, reportDir: string): string {
  const dir = resolve(reportDir, result.runId);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'result.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(dir, 'trials.json'), JSON.stringify(result.trials, null, 2) + '\n');
  writeFileSync(join(dir, 'summary.md'), renderGateSummary(result));
  writeFileSync(join(dir, 'junit.xml'), gateJunit(result));
  writeFileSync(join(dir, 'benchmark.json'), JSON.stringify(benchmarkJson(result), null, 2) + '\n');
  writeFileSync(join(dir, 'report.html'), renderHtml(gateHtml(result)));
  return dir;
}

function num(x: number): string {
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : a >= 1 ? x.toFixed(2) : x.toFixed(4);
}

const pct = (x: number | undefined, sign = true) =>
  x === undefined ? '?' : `${sign && x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;

/**
 * benchstat-style cells: `0.0412 ± 3 %`, the change with its interval, p, n, the verdict; `~` marks a change
 * not significant at `alpha` (the level of the look compared), `—` what was not measured or tested.
 */
export function comparisonRow(c: MetricComparison, alpha = 0.05): string[] {
  const spread = (cv: number) => `± ${(cv * 100).toFixed(0)} %`;
  const arm = (a: MetricComparison['baseline']) => (a.n === 0 ? '—' : `${num(a.median)} ${spread(a.cv)}`);
  const change =
    c.change === undefined
      ? '—'
      : `${pct(c.change)}${c.changeLow === undefined || c.changeHigh === undefined ? '' : ` [${pct(c.changeLow)}, ${pct(c.changeHigh)}]`}`;
  return [
    `${c.name} (${c.unit})`,
    arm(c.baseline),
    arm(c.candidate),
    c.verdict === 'pass' && c.pAdjusted >= alpha ? `~ ${change}` : change,
    c.unmeasured === undefined ? `p=${fmtP(c.pAdjusted)}` : 'p=—',
    `n=${c.baseline.n}+${c.candidate.n}`,
    c.gated === false ? `${c.verdict} (not gated)` : c.verdict,
  ];
}

const HEADER = ['metric', 'baseline', 'candidate', 'change [interval]', 'p (Holm)', 'n', 'verdict'];

/** The table printed on stdout: the headline first, then one aligned row per metric. */
/** The level the comparison was judged at: its look's share of --alpha. */
const levelOf = (r: GateResult) => r.look?.alpha ?? r.plan.options.alpha;

/** A trial's loss per signal: `traces 0 / 4000`, or `traces not verified (12 of 4000 absent, undecided)`. */
function lossCell(t: GateResult['trials'][number]): string {
  return Object.entries(t.loss)
    .map(([s, l]) =>
      l?.status === 'inconclusive'
        ? `${s} not verified (${l.undecided ?? '?'} of ${l.expected} absent, undecided)`
        : `${s} ${l?.lost ?? '?'} / ${l?.expected ?? '?'}`,
    )
    .join(', ');
}

export function renderGateTable(r: GateResult): string {
  const rows = [HEADER, ...r.comparison.map((c) => comparisonRow(c, levelOf(r)))];
  const widths = HEADER.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  return [
    r.headline,
    '',
    ...(r.comparison.length > 0 ? lines : ['no metric compared']),
    '',
    ...r.verdict.reasons.map((x) => `- ${x}`),
    '',
  ].join('\n');
}

function bootsOf(perBoot: number): string {
  return perBoot === 1
    ? 'every trial on a fresh stack'
    : `each boot of an arm's stack serves ${perBoot} trials, each its own load and run id`;
}

export function renderGateSummary(r: GateResult): string {
  const o = r.plan.options;
  const out = [
    `# otel-harness gate ${r.runId}: ${r.headline}`,
    '',
    `- baseline: \`${r.plan.baseline.spec}\` — ${r.plan.baseline.title}`,
    `- candidate: \`${r.plan.candidate.spec}\` — ${r.plan.candidate.title}`,
    `- load: ${r.plan.rateRps} items/s (${r.plan.signals}) for ${r.plan.durationMs / 1000} s per trial, the first ${o.warmupMs / 1000} s left out of CPU and memory; ${bootsOf(o.trialsPerBoot ?? 1)}`,
    `- design: ${o.design ?? 'unpaired'} — ${o.designWhy ?? 'one trial at a time, arms interleaved (A B, B A, …)'}${o.design === 'paired' ? ` (each arm its own stack and backends, offered the full rate: ${2 * r.plan.rateRps} items/s in all while a pair runs)` : ''}`,
    ...(r.plan.knee === undefined
      ? []
      : [
          `- load from the knee: ${r.plan.knee.fraction} × the baseline's NDR lower end (${r.plan.knee.ndrLowerRps ?? 'not found'} items/s; capacity ${r.plan.knee.runId}, ${r.plan.knee.trials} trials in ${(r.plan.knee.elapsedMs / 60_000).toFixed(1)} min: ${r.plan.knee.headline})`,
        ]),
    `- statistics: ${o.design === 'paired' ? "one-sided Wilcoxon signed-rank (exact) on the pairs' log ratios ln(candidate / baseline)" : 'one-sided Mann-Whitney U (exact)'} toward "worse", Holm across the ${r.comparison.filter((c) => c.gated !== false && c.unmeasured === undefined).length} gated metrics at α ${o.auto ? `${levelOf(r).toPrecision(2)} (--trials auto: α ${o.alpha} spent over the looks after ${r.plan.looks.map((l) => l.trialsPerArm).join(', ')} trials per arm; this comparison is the look after ${r.look?.trialsPerArm ?? '?'})` : o.alpha}${o.gateOn.join(',') === '*' ? '' : ` (--gate-on ${o.gateOn.join(',')}; the other ${r.comparison.filter((c) => c.gated === false).length} reported, not gated)`}; change = ${o.design === 'paired' ? 'the Hodges-Lehmann centre of the log ratios (as a ratio − 1)' : 'Hodges-Lehmann shift / baseline median'} with its interval; tolerance ${(o.tolerance * 100).toFixed(0)} %; power figured for a ${(o.detect * 100).toFixed(0)} % regression`,
    `- verdict: ${r.verdict.status} (exit ${r.verdict.exitCode})`,
    ...(r.partial ? ['- **partial**: the gate did not finish; the trials below are what ran'] : []),
    '',
  ];
  if (r.verdict.reasons.length > 0) out.push('## Why', '', ...r.verdict.reasons.map((x) => `- ${x}`), '');
  if (r.comparison.length > 0) {
    out.push(
      '## Metrics',
      '',
      `| ${HEADER.join(' | ')} |`,
      `|${HEADER.map(() => '---').join('|')}|`,
      ...r.comparison.map((c) => `| ${comparisonRow(c, levelOf(r)).join(' | ')} |`),
      '',
      '`~`: no significant change. "± x %" is the run-to-run noise (coefficient of variation) of the arm' +
        (o.design === 'paired'
          ? `; the paired test sees only the pair-to-pair noise of the ratio (${r.comparison
              .filter((c) => c.pairNoise !== undefined && c.gated !== false)
              .map((c) => `${c.name} ${(c.pairNoise! * 100).toFixed(1)} %`)
              .join(', ')}).`
          : '.'),
      '',
    );
  }
  out.push(
    '## Trials',
    '',
    '| # | arm | pair | boot | run id | lost (per signal) | refused | minutes | notes |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const t of r.trials) {
    const loss = lossCell(t);
    out.push(
      `| ${t.n} | ${t.arm} | ${t.pair ?? '-'} | ${t.boot ?? 1} | ${t.runId} | ${loss || '-'} | ${t.refused} | ${(t.elapsedMs / 60_000).toFixed(1)} | ${t.notes.join('; ').replaceAll('|', '\\|')} |`,
    );
  }
  out.push(
    '',
    `Every figure is in result.json (schema ${r.schemaVersion}); each trial's raw figures in trials.json.`,
    '',
  );
  return out.join('\n');
}

export function gateJunit(r: GateResult): string {
  const cases: JunitCase[] = [];
  const signals = [...new Set(r.trials.flatMap((t) => Object.keys(t.loss)))];
  for (const s of signals) {
    const candidate = r.trials.filter((t) => t.arm === 'candidate');
    const lost = candidate.reduce(
      (n, t) => n + (t.loss[s as 'traces']?.status === 'inconclusive' ? 0 : (t.loss[s as 'traces']?.lost ?? 0)),
      0,
    );
    const unverified = candidate.filter((t) => t.loss[s as 'traces']?.status === 'inconclusive').map((t) => t.n);
    cases.push({
      name: `candidate loses no ${s}`,
      classname: 'otel-harness.gate.loss',
      ...(lost > 0
        ? { failure: { message: `${lost} ${s} items lost in candidate trials`, type: 'failure' as const } }
        : unverified.length > 0
          ? {
              failure: {
                message: `${s} not verified in candidate trial ${unverified.join(', ')}`,
                type: 'inconclusive' as const,
              },
            }
          : {}),
    });
  }
  for (const c of r.comparison) {
    cases.push({
      name: `${c.name} not worse than ${(r.plan.options.tolerance * 100).toFixed(0)} %`,
      classname: 'otel-harness.gate.metrics',
      ...(c.gated === false
        ? {}
        : c.verdict === 'regression'
          ? { failure: { message: c.why, type: 'failure' as const } }
          : c.verdict === 'inconclusive'
            ? { failure: { message: c.why, type: 'inconclusive' as const } }
            : {}),
    });
  }
  if (r.verdict.status === 'error' || r.verdict.status === 'interrupted')
    cases.push({
      name: 'gate finished',
      classname: 'otel-harness.gate',
      error: { message: r.verdict.reasons[0] ?? '' },
    });
  return renderJunit({
    name: `gate ${r.runId}`,
    timestamp: r.startedAt,
    seconds: (Date.parse(r.endedAt) - Date.parse(r.startedAt)) / 1000,
    properties: { runId: r.runId, headline: r.headline, verdict: r.verdict.status },
    cases,
  });
}

/**
 * github-action-benchmark's custom format (`tool: customSmallerIsBetter`): one entry per metric, the
 * candidate's median, its noise as `range`, and a name unique per scenario and metric.
 */
export function benchmarkJson(
  r: GateResult,
): { name: string; unit: string; value: number; range: string; extra: string }[] {
  const scenario = `${basename(r.plan.candidate.spec).replace(/\.ya?ml$/, '')} @ ${r.plan.rateRps}/s ${r.plan.signals}`;
  return r.comparison
    .filter((c) => c.better === 'smaller' && c.candidate.n > 0)
    .map((c) => ({
      name: `${scenario}: ${c.name}`,
      unit: c.unit,
      value: Number(c.candidate.median.toPrecision(6)),
      range: `± ${(c.candidate.cv * 100).toFixed(1)}%`,
      extra: `baseline ${num(c.baseline.median)}; change ${pct(c.change)}; p ${fmtP(c.pAdjusted)}; n ${c.baseline.n}+${c.candidate.n}; ${c.verdict}`,
    }));
}

export function gateHtml(r: GateResult): HtmlReport {
  const charts: ChartSpec[] = r.comparison.map((c, i) => {
    const base = r.trials.filter((t) => t.arm === 'baseline');
    const cand = r.trials.filter((t) => t.arm === 'candidate');
    const rounds = Math.max(base.length, cand.length);
    const x = Array.from({ length: rounds }, (_, k) => k + 1);
    return {
      id: `chart-metric-${i}`,
      title: `${c.name}: ${c.verdict} (${pct(c.change)})`,
      xLabel: 'trial of the arm',
      yLabel: c.unit,
      x,
      series: [
        { label: 'baseline', values: x.map((k) => base[k - 1]?.metrics[c.name] ?? null) },
        { label: 'candidate', values: x.map((k) => cand[k - 1]?.metrics[c.name] ?? null) },
      ],
      points: true,
    };
  });
  const status =
    r.verdict.status === 'pass'
      ? 'pass'
      : r.verdict.status === 'inconclusive'
        ? 'inconclusive'
        : r.verdict.status === 'interrupted'
          ? 'interrupted'
          : r.verdict.status === 'error'
            ? 'error'
            : 'fail';
  return {
    title: `otel-harness gate ${r.runId}`,
    headline: r.headline,
    status,
    facts: [
      ['baseline', `${r.plan.baseline.spec} — ${r.plan.baseline.title}`],
      ['candidate', `${r.plan.candidate.spec} — ${r.plan.candidate.title}`],
      ['load', `${r.plan.rateRps} items/s (${r.plan.signals}), ${r.plan.durationMs / 1000} s per trial`],
      ['verdict', `${r.verdict.status} (exit ${r.verdict.exitCode})`],
    ],
    tables: [
      { title: 'Metrics', header: HEADER, rows: r.comparison.map((c) => comparisonRow(c, levelOf(r))) },
      {
        title: 'Trials',
        header: ['#', 'arm', 'run id', 'lost', 'refused'],
        rows: r.trials.map((t) => [String(t.n), t.arm, t.runId, lossCell(t), String(t.refused)]),
      },
    ],
    charts,
    notes: r.verdict.reasons,
  };
}
