import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { lostCell } from '../verify/verification.js';
import { duplicatesCell } from './render-table.js';
import type { SoakResult } from './result.js';

/**
 * report.html: one self-contained file (uPlot, its stylesheet and the data inlined: nothing is fetched
 * when it is opened), a verdict table and charts. Charts are data, drawn in the page by uPlot.
 */

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  /** Right-hand axis (a second unit on the same chart). */
  right?: boolean;
}

export interface ChartSpec {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  rightLabel?: string;
  x: number[];
  series: ChartSeries[];
  /** Vertical markers (chaos faults), at x. */
  markers?: { x: number; label: string }[];
  /** A shaded x interval (the knee). */
  band?: { from: number; to: number; label: string };
  /** Points instead of lines (trials of a search). */
  points?: boolean;
}

export interface HtmlReport {
  title: string;
  /** First line, in large type: the verdict or the knee. */
  headline: string;
  status:
    'pass' | 'fail' | 'inconclusive' | 'interrupted' | 'error' | 'found' | 'below-range' | 'above-range' | 'unfinished';
  /** Label → value rows shown under the headline. */
  facts: [string, string][];
  /** Tables: a title, header cells and rows. */
  tables: { title: string; header: string[]; rows: string[][] }[];
  charts: ChartSpec[];
  notes: string[];
}

const require = createRequire(import.meta.url);

function asset(path: string): string {
  return readFileSync(require.resolve(path), 'utf8');
}

function esc(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

/** JSON safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const STYLE = `
:root { --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); margin: 0; background: #f6f8fa; }
main { max-width: 1180px; margin: 0 auto; padding: 24px; }
h1 { font-size: 18px; margin: 0 0 4px; color: var(--muted); font-weight: 500; }
.headline { font-size: 24px; font-weight: 600; margin: 0 0 16px; padding: 12px 16px; border-radius: 6px; background: #fff; border-left: 6px solid var(--muted); }
.headline.pass, .headline.found, .headline.above-range { border-color: var(--ok); }
.headline.fail, .headline.error, .headline.below-range { border-color: var(--bad); }
.headline.inconclusive, .headline.interrupted, .headline.unfinished { border-color: var(--warn); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; background: #fff; padding: 12px 16px; border-radius: 6px; margin: 0 0 16px; }
dt { color: var(--muted); } dd { margin: 0; }
section { background: #fff; border-radius: 6px; padding: 12px 16px; margin: 0 0 16px; }
h2 { font-size: 15px; margin: 0 0 8px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 500; }
td.bad { color: var(--bad); font-weight: 600; } td.ok { color: var(--ok); } td.warn { color: var(--warn); font-weight: 600; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.chart { background: #fff; border-radius: 6px; padding: 8px; min-height: 320px; }
.chart h3 { font-size: 14px; margin: 4px 8px; }
.empty { color: var(--muted); padding: 8px; }
ul.notes { margin: 0; padding-left: 20px; }
@media (max-width: 900px) { .charts { grid-template-columns: 1fr; } }
`;

const PALETTE = [
  '#0969da',
  '#cf222e',
  '#1a7f37',
  '#9a6700',
  '#8250df',
  '#bf3989',
  '#0a3069',
  '#57606a',
  '#e16f24',
  '#116329',
];

/** The page's own script: one uPlot per chart, markers and the band drawn in a draw hook. */
const DRAW = `
(function () {
  var charts = JSON.parse(document.getElementById('chart-data').textContent);
  var palette = ${JSON.stringify(PALETTE)};
  charts.forEach(function (c) {
    var el = document.getElementById(c.id);
    if (!el) return;
    if (c.x.length === 0) { el.insertAdjacentHTML('beforeend', '<div class="empty">no data</div>'); return; }
    var series = [{ label: c.xLabel }];
    c.series.forEach(function (s, i) {
      series.push({
        label: s.label, stroke: palette[i % palette.length], width: 2, scale: s.right ? 'right' : 'y',
        points: c.points ? { show: true, size: 8, fill: palette[i % palette.length] } : { show: false },
        paths: c.points ? function () { return null; } : undefined,
      });
    });
    var axes = [{ label: c.xLabel }, { label: c.yLabel, scale: 'y' }];
    if (c.rightLabel) axes.push({ label: c.rightLabel, scale: 'right', side: 1, grid: { show: false } });
    var hooks = { draw: [function (u) {
      var ctx = u.ctx, top = u.bbox.top, height = u.bbox.height;
      ctx.save();
      if (c.band) {
        var x0 = u.valToPos(c.band.from, 'x', true), x1 = u.valToPos(c.band.to, 'x', true);
        ctx.fillStyle = 'rgba(26,127,55,0.15)'; ctx.fillRect(x0, top, Math.max(2, x1 - x0), height);
        ctx.fillStyle = '#1a7f37'; ctx.font = '12px sans-serif'; ctx.fillText(c.band.label, x0 + 4, top + 14);
      }
      (c.markers || []).forEach(function (m) {
        var x = u.valToPos(m.x, 'x', true);
        ctx.strokeStyle = '#cf222e'; ctx.setLineDash([4, 3]); ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + height); ctx.stroke();
        ctx.setLineDash([]); ctx.fillStyle = '#cf222e'; ctx.font = '12px sans-serif'; ctx.fillText(m.label, x + 3, top + 28);
      });
      ctx.restore();
    }] };
    var width = Math.max(320, el.clientWidth - 16);
    new uPlot({ width: width, height: 260, series: series, axes: axes, hooks: hooks,
      scales: { x: { time: false }, y: { range: function (u, min, max) { return [Math.min(0, min), max > 0 ? max * 1.05 : 1]; } } },
      legend: { live: true } }, [c.x].concat(c.series.map(function (s) { return s.values; })), el);
  });
  document.body.setAttribute('data-charts-drawn', String(charts.length));
})();
`;

export function renderHtml(report: HtmlReport): string {
  const facts = report.facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('');
  const tables = report.tables
    .map(
      (t) =>
        `<section><h2>${esc(t.title)}</h2><table><thead><tr>${t.header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${t.rows
          .map((r) => `<tr>${r.map((cell) => cellHtml(cell)).join('')}</tr>`)
          .join('')}</tbody></table></section>`,
    )
    .join('\n');
  const charts = report.charts
    .map((c) => `<div class="chart" id="${esc(c.id)}"><h3>${esc(c.title)}</h3></div>`)
    .join('\n');
  const notes =
    report.notes.length === 0
      ? ''
      : `<section><h2>Notes</h2><ul class="notes">${report.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul></section>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(report.title)}</title>
<style>${asset('uplot/dist/uPlot.min.css')}</style>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${esc(report.title)}</h1>
<p class="headline ${esc(report.status)}">${esc(report.headline)}</p>
<dl>${facts}</dl>
${tables}
<div class="charts">
${charts}
</div>
${notes}
</main>
<script id="chart-data" type="application/json">${scriptJson(report.charts)}</script>
<script>${asset('uplot/dist/uPlot.iife.min.js')}</script>
<script>${DRAW}</script>
</body>
</html>
`;
}

/** A cell whose text starts with ✓, ✗ or ? is coloured (pass, fail, undecided). */
function cellHtml(cell: string): string {
  const cls = cell.startsWith('✗')
    ? ' class="bad"'
    : cell.startsWith('✓')
      ? ' class="ok"'
      : cell.startsWith('?')
        ? ' class="warn"'
        : '';
  return `<td${cls}>${esc(cell)}</td>`;
}

const mark = (pass: boolean, inconclusive?: boolean) => (pass ? '✓' : inconclusive === true ? '?' : '✗');

/** The report of a soak, chaos run or verification. */
export function htmlOfRun(result: SoakResult): HtmlReport {
  const charts: ChartSpec[] = [];
  const bucketS = result.timeline.bucketMs / 1000;
  const signals = Object.entries(result.timeline.signals);
  const length = Math.max(0, ...signals.map(([, s]) => s.acknowledged.length));
  const seconds = Array.from({ length }, (_, i) => i * bucketS);
  const markers = (result.chaos?.faults ?? [])
    .filter((f) => f.startedAtMs !== undefined)
    .map((f) => ({ x: f.startedAtMs! / 1000, label: f.spec }));
  charts.push({
    id: 'chart-rate',
    title: 'Offered and acknowledged items/s',
    xLabel: 's into the load',
    yLabel: 'items/s',
    x: seconds,
    series: signals.flatMap(([signal, s]) => [
      {
        label: `${signal} offered`,
        values: seconds.map((t) =>
          t * 1000 < result.plan.durationMs ? (result.plan.signals[signal as 'traces'] ?? 0) : null,
        ),
      },
      {
        label: `${signal} acknowledged`,
        values: pad(
          s.acknowledged.map((v) => v / bucketS),
          length,
        ),
      },
      {
        label: `${signal} not acknowledged`,
        values: pad(
          s.notAcknowledged.map((v) => v / bucketS),
          length,
        ),
      },
    ]),
    markers,
  });
  const queue = result.timeline.queue;
  const lag = result.observations.find((o) => o.name === 'kafka-lag');
  const lagNames = lag === undefined ? [] : [...new Set(lag.series.flatMap((p) => Object.keys(p.values)))];
  charts.push({
    id: 'chart-queue',
    title: lag === undefined ? 'Collector sending queue' : 'Collector sending queue and Kafka consumer lag',
    xLabel: 's into the load',
    yLabel: 'batches queued',
    ...(lag === undefined ? {} : { rightLabel: 'messages behind' }),
    ...mergeSeries([
      { label: 'sending queue (all collectors)', points: queue.map((q) => [q.tMs / 1000, q.size] as [number, number]) },
      ...lagNames.map((name) => ({
        label: `lag ${name}`,
        right: true,
        points: (lag?.series ?? []).map((p) => [p.atMs / 1000, p.values[name] ?? 0] as [number, number]),
      })),
    ]),
    markers,
  });
  const timeline = result.resources?.timeline ?? [];
  const names = [...new Set(timeline.flatMap((p) => Object.keys(p.components)))].sort();
  const t = timeline.map((p) => p.tMs / 1000);
  charts.push({
    id: 'chart-cpu',
    title: 'CPU per container, generator and machine',
    xLabel: 's into the load',
    yLabel: '% of one core',
    x: t,
    series: [
      ...names.map((n) => ({ label: n, values: timeline.map((p) => p.components[n]?.[0] ?? null) })),
      { label: 'generator', values: timeline.map((p) => p.generatorCpuPct) },
      { label: 'machine (% of all cores)', values: timeline.map((p) => p.hostCpuPct) },
    ],
    markers,
  });
  charts.push({
    id: 'chart-memory',
    title: 'Memory per container',
    xLabel: 's into the load',
    yLabel: 'MiB',
    x: t,
    series: names.map((n) => ({ label: n, values: timeline.map((p) => p.components[n]?.[1] ?? null) })),
    markers,
  });
  const latency = Object.entries(result.latency);
  const pct = ['p50', 'p90', 'p99', 'max'] as const;
  charts.push({
    id: 'chart-latency',
    title: 'Write → queryable latency (canaries), percentiles',
    xLabel: 'percentile (50, 90, 99, 100 = max)',
    yLabel: 'ms',
    x: [50, 90, 99, 100],
    series: latency.map(([signal, c]) => ({
      label: `${signal} (${c.backend})`,
      values: pct.map((p) => c.latencyMs[p]),
    })),
    points: true,
  });
  const verification = Object.values(result.verification.signals);
  return {
    title: `otel-harness ${result.command} ${result.runId}`,
    headline:
      result.verdict.status === 'pass'
        ? `PASS: every acknowledged item verified (${verification.map((v) => `${v.signal} ${v.found}/${v.expected}`).join(', ')})`
        : `${result.verdict.status.toUpperCase()}: ${result.verdict.reasons[0] ?? ''}`,
    status: result.verdict.status,
    facts: [
      ['stack', result.stack.title || result.plan.topology],
      [
        'load',
        `${Object.entries(result.plan.signals)
          .map(([s, r]) => `${s} ${r}/s`)
          .join(
            ', ',
          )} for ${result.plan.durationMs / 1000} s (${result.plan.driver}${result.plan.transport === undefined ? '' : `, ${result.plan.transport}`})`,
      ],
      [
        'limited by',
        `${result.limits.limitedBy}${result.limits.reasons.length > 0 ? `: ${result.limits.reasons.join('; ')}` : ''}`,
      ],
      ['exit code', String(result.verdict.exitCode)],
      ['started', result.startedAt],
    ],
    tables: [
      {
        title: 'Verdict',
        header: ['', 'check', 'actual', 'limit'],
        rows: result.thresholds.map((x) => [mark(x.pass, x.inconclusive), x.name, x.actual, x.limit]),
      },
      {
        title: 'Verification',
        header: ['signal', 'backend', 'expected', 'found', 'lost', 'duplicates', 'method'],
        rows: verification.map((v) => [
          v.signal,
          v.backend,
          String(v.expected),
          String(v.found),
          `${v.outcome.status === 'fail' ? '✗ ' : ''}${lostCell(v)}`,
          duplicatesCell(v.duplicates),
          v.method,
        ]),
      },
      ...(result.chaos === undefined
        ? []
        : [
            {
              title: 'Faults',
              header: ['fault', 'at', 'explanations'],
              rows: result.chaos.faults.map((f) => [
                f.spec,
                f.startedAtMs === undefined ? 'not started' : `${(f.startedAtMs / 1000).toFixed(1)} s`,
                f.explanations.join(' '),
              ]),
            },
          ]),
      ...(verification.some((v) => v.fromStore !== undefined)
        ? [
            {
              title: 'Object storage (--verify-from-store)',
              header: ['signal', 'backend', 'bucket', 'found before', 'found in the store', 'lost from the store'],
              rows: verification.flatMap((v) =>
                v.fromStore === undefined
                  ? []
                  : [
                      [
                        v.signal,
                        v.fromStore.service,
                        v.fromStore.bucket,
                        String(v.found),
                        v.fromStore.outcome.status === 'inconclusive' ? '?' : String(v.fromStore.found),
                        `${v.fromStore.lost > 0 ? '✗ ' : ''}${v.fromStore.outcome.status === 'inconclusive' ? '?' : v.fromStore.lost}`,
                      ],
                    ],
              ),
            },
          ]
        : []),
    ],
    charts,
    notes: verification.flatMap((v) => v.notes.map((n) => `${v.signal}: ${n}`)),
  };
}

function pad(values: number[], length: number): (number | null)[] {
  return Array.from({ length }, (_, i) => values[i] ?? null);
}

/** Series sampled at different times, on one shared x axis (null where a series has no reading). */
export function mergeSeries(input: { label: string; right?: boolean; points: [number, number][] }[]): {
  x: number[];
  series: ChartSeries[];
} {
  const x = [...new Set(input.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(x.map((v, i) => [v, i]));
  const series = input.map((s) => {
    const values: (number | null)[] = x.map(() => null);
    for (const [px, py] of s.points) values[index.get(px)!] = py;
    return { label: s.label, values, ...(s.right === true ? { right: true } : {}) };
  });
  return { x, series };
}
