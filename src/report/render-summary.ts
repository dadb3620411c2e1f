import type { StoreVerification } from '../verify/verification.js';
import type { Signal } from '../load/ledger.js';
import type { CollectorCounters } from '../observe/collector-metrics.js';
import { lostCell } from '../verify/verification.js';
import { duplicatesCell } from './render-table.js';
import type { SoakResult } from './result.js';

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** summary.md: the verdict first, then the evidence. Pure. */
export function renderSummary(r: SoakResult): string {
  const out: string[] = [];
  const status = r.verdict.status.toUpperCase();
  out.push(`# otel-harness soak ${r.runId}: ${status} (exit ${r.verdict.exitCode})`, '');
  if (r.partial) out.push('> **Partial result**: the run was interrupted or failed before verification finished.', '');
  for (const reason of r.verdict.reasons) out.push(`- ${reason}`);
  if (r.verdict.reasons.length > 0) out.push('');
  out.push(
    `${r.stack.title}; ${r.plan.driver} driver${r.plan.transport === undefined ? '' : ` (${r.plan.transport})`}${r.plan.payload === undefined ? '' : `, ${r.plan.payload} payload`}, ${r.plan.profile} profile, ${r.plan.profile === 'constant' ? '' : 'up to '}${fmt(r.plan.rateRps)} items/s offered for ${fmt(r.plan.durationMs / 1000)} s ` +
      `(${Object.entries(r.plan.signals)
        .map(([s, v]) => `${s} ${fmt(v)}/s`)
        .join(', ')}). Started ${r.startedAt}, ended ${r.endedAt}.`,
    '',
  );
  out.push(
    `**Limited by: ${r.limits.limitedBy}.**${r.limits.reasons.length > 0 ? ' ' + r.limits.reasons.join('; ') + '.' : ''}`,
    '',
  );

  const signals = Object.keys(r.load.signals) as Signal[];
  out.push('## Load and loss', '');
  out.push(
    table(
      [
        'signal',
        'offered/s',
        'achieved/s',
        'acknowledged',
        'refused',
        'failed',
        'dropped at generator',
        'backend',
        'found',
        'lost',
        'duplicates',
        'unacked but found',
      ],
      signals.map((s) => {
        const l = r.load.signals[s]!;
        const v = r.verification.signals[s];
        return [
          s,
          fmt(l.offeredRps),
          fmt(l.achievedRps),
          fmt(l.counts.acknowledged),
          fmt(l.counts.refused),
          fmt(l.counts.failed),
          fmt(l.counts.dropped),
          v?.backend ?? '-',
          v === undefined ? '-' : fmt(v.found),
          v === undefined ? '-' : `**${lostCell(v)}**${v.sample === undefined ? '' : ' (est.)'}`,
          v === undefined ? '-' : duplicatesCell(v.duplicates),
          v === undefined ? '-' : fmt(v.unacknowledgedFound),
        ];
      }),
    ),
    '',
  );
  for (const s of signals) {
    const v = r.verification.signals[s];
    if (v === undefined) continue;
    out.push(`### ${s} in ${v.backend}: ${v.outcome.status}`, '', `Method: ${v.method}.`);
    if (v.outcome.status !== 'pass')
      out.push('', `Outcome: ${v.outcome.status === 'fail' ? v.outcome.reason : v.outcome.reason}.`);
    const e = v.evidence;
    if (
      e !== undefined &&
      (e.absent > 0 || (e.givenUp ?? 0) > 0 || (e.causes.length > 0 && v.outcome.status !== 'pass'))
    ) {
      out.push(
        '',
        `Evidence: ${fmt(e.absent)} acknowledged absent; the collectors gave up ${e.givenUp === null ? 'an unknown number of' : fmt(e.givenUp)} item(s) on the way (their own counters, all traffic); ${e.pendingAtMost === null ? `what is still queued is not bounded (${e.pendingHow})` : `at most ${fmt(e.pendingAtMost)} still in the pipeline (${e.pendingHow})`}${e.lostAtLeast === null ? '' : `, so at least ${fmt(e.lostAtLeast)} lost`}${e.doomed > 0 ? `; ${fmt(e.doomed)} queued behind an error no retry fixes` : ''}.`,
      );
      for (const c of e.causes)
        out.push('', `- **${c.hop}**: ${c.reason}.${c.fix === undefined ? '' : ` **Fix:** ${c.fix}.`}`);
    }
    if (v.rejected > 0)
      out.push(
        '',
        `Declared rejected by the pipeline (OTLP partial success): ${fmt(v.rejected)}; of them absent: ${fmt(v.rejectedAbsent)} (loss the pipeline declared, apart from the silent loss above).`,
      );
    out.push(
      '',
      `Duplicates in query answers: ${v.duplicates.queryVisible === null ? v.duplicates.queryVisibleNote : `${fmt(v.duplicates.queryVisible)} (${v.duplicates.queryVisibleNote})`}.`,
    );
    out.push(
      '',
      `Delivered more than once: ${v.duplicates.delivered === null ? (v.duplicates.deliveredAtMost === undefined ? v.duplicates.deliveredNote : `${v.duplicates.deliveredNote}`) : `${fmt(v.duplicates.delivered)} (${v.duplicates.deliveredNote})`}.`,
    );
    if (v.sampling !== undefined) {
      const sm = v.sampling;
      out.push(
        '',
        sm.oracle === null
          ? `Sampling: not predictable — ${sm.note}; ${fmt(sm.absentUndecided)} acknowledged trace(s) absent, sampled out or lost.`
          : `Sampling (${sm.oracle}): ${fmt(sm.predictedKept)} acknowledged trace(s) predicted kept and verified above; ${fmt(sm.predictedDropped)} predicted dropped, of which ${fmt(sm.keptUnpredicted)} stored nonetheless${sm.keptUnpredicted > 0 ? ` (${fmt(sm.keptUnpredictedSpans)} spans: the sampler and the prediction disagree)` : ''}.`,
      );
    }
    if (v.crossCheck !== undefined)
      out.push(
        '',
        `Cross-check (${v.crossCheck.method}): ${v.crossCheck.value === null ? v.crossCheck.note : `${fmt(v.crossCheck.value)} against ${fmt(v.crossCheck.compared)} — ${v.crossCheck.agrees === true ? 'agrees' : `disagrees (${v.crossCheck.note})`}`}.`,
      );
    for (const note of v.notes) out.push('', note + '.');
    if (v.lostExamples.length > 0) {
      out.push(
        '',
        `Lost (first ${v.lostExamples.length}${v.lostRanges.length > 0 ? `, ${v.lostRanges.length} seq ranges in result.json` : ''}):`,
        '',
      );
      for (const e of v.lostExamples) out.push(`- ${e}`);
    }
    const figures = Object.entries(v.figures);
    if (figures.length > 0) out.push('', figures.map(([k, n]) => `${k} ${fmt(n)}`).join(', ') + '.');
    out.push('');
  }

  for (const o of r.observations ?? []) {
    out.push(`## ${o.title}`, '');
    for (const line of o.lines) out.push(`- ${line}`);
    out.push('');
  }

  if (r.chaos !== undefined) {
    const sec = (ms: number | undefined) => (ms === undefined ? '-' : `${fmt(ms / 1000, 1)} s`);
    out.push(`## Chaos (collector variant: ${r.chaos.variant})`, '');
    out.push(
      table(
        [
          'fault',
          'started',
          'lifted',
          'ready again',
          'recovered (traces / metrics / logs)',
          'queue peak',
          'queue drained after',
          'lost',
          'duplicates',
        ],
        r.chaos.faults.map((f) => {
          const rec = (['traces', 'metrics', 'logs'] as const).map((sig) => {
            const x = f.recovery[sig];
            return x === undefined ? '-' : x.seconds === undefined ? 'not recovered' : `${fmt(x.seconds, 0)} s`;
          });
          const lost = Object.entries(f.attributed)
            .map(([sig, a]) => `${sig} ${fmt(a.lost)}`)
            .join(', ');
          const dups = Object.entries(f.attributed)
            .map(([sig, a]) => `${sig} ${fmt(a.duplicates)}`)
            .join(', ');
          return [
            `\`${f.spec}\`${f.error === undefined ? '' : ` (failed: ${f.error})`}`,
            sec(f.startedAtMs),
            sec(f.endedAtMs),
            sec(f.readyAtMs),
            rec.join(' / '),
            fmt(f.queuePeak),
            f.queueDrainSeconds === undefined ? '-' : `${fmt(f.queueDrainSeconds, 0)} s`,
            lost === '' ? '0' : lost,
            dups === '' ? '0' : dups,
          ];
        }),
      ),
      '',
    );
    for (const f of r.chaos.faults) for (const e of f.explanations) out.push(`- ${e}`);
    const un = Object.entries(r.chaos.unattributed).filter(([, u]) => u.lost + u.duplicates > 0);
    if (un.length > 0)
      out.push(
        `- Not near any fault: ${un.map(([sig, u]) => `${sig} ${u.lost} lost, ${u.duplicates} duplicates`).join('; ')}.`,
      );
    out.push('');
  }

  const restarts = r.verification.storeRestarts ?? [];
  if (restarts.length > 0) {
    out.push('## Object storage (--verify-from-store)', '');
    const stored = Object.values(r.verification.signals).filter((v) => v?.fromStore !== undefined);
    out.push(
      table(
        [
          'signal',
          'backend',
          'bucket',
          'handover',
          'found before',
          'found in the store',
          'lost from the store',
          'restart',
          'written by the flush',
          'at the achieved rate',
        ],
        stored.map((v) => {
          const s = v.fromStore!;
          return [
            v.signal,
            s.service,
            s.bucket,
            restarts.find((x) => x.service === s.service)?.handover ?? '-',
            fmt(v.found),
            s.outcome.status === 'inconclusive' ? `? (${s.outcome.reason})` : fmt(s.found),
            s.outcome.status === 'inconclusive' ? '?' : s.lost > 0 ? `**${fmt(s.lost)}**` : '0',
            `${fmt(s.restartSeconds, 1)} s`,
            ...storedVolume(s, v.found, r.load.signals[v.signal]?.achievedRps),
          ];
        }),
      ),
      '',
    );
    for (const x of restarts) out.push(`- ${x.service}: ${x.steps.join('; ')}.`);
    for (const [name, t] of Object.entries(r.verification.storeTraffic ?? {})) {
      const shown = Object.entries(t).filter(([k, n]) => k.includes('{') && n !== 0);
      out.push(
        `- ${name} over the handover: ${shown.length === 0 ? 'no request' : shown.map(([k, n]) => `${k} ${k.startsWith('s3_bytes') ? `${fmt(n / 1_048_576, 2)} MiB` : fmt(n)}`).join(', ')}.`,
      );
    }
    out.push('');
  }

  const latency = Object.entries(r.latency);
  if (latency.length > 0) {
    out.push('## Write → queryable latency (canaries)', '');
    out.push(
      table(
        ['signal', 'backend', 'sent', 'found', 'timed out', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
        latency.map(([s, c]) => {
          const { p50, p90, p99, max } = c.latencyMs;
          return [s, c.backend, ...[c.sent, c.found, c.timedOut, p50, p90, p99, max].map((n) => fmt(n))];
        }),
      ),
      '',
    );
  }

  out.push('## Thresholds', '');
  out.push(
    r.thresholds.length === 0
      ? 'Not evaluated (partial run).'
      : table(
          ['threshold', 'limit', 'actual', 'result'],
          r.thresholds.map((t) => [t.name, t.limit, t.actual, t.pass ? 'pass' : `**fail** (exit ${t.exitCode})`]),
        ),
    '',
  );

  if (r.resources !== undefined) {
    out.push('## Resources', '');
    out.push(
      table(
        ['container', 'CPU mean % of a core', 'CPU max %', 'memory mean MiB', 'memory max MiB'],
        Object.entries(r.resources.containers).map(([c, u]) => [
          c,
          fmt(u.cpuMeanPct, 1),
          fmt(u.cpuMaxPct, 1),
          fmt(u.memoryMeanMiB),
          fmt(u.memoryMaxMiB),
        ]),
      ),
      '',
      `Machine: ${r.resources.host.cores} cores, ${fmt(r.resources.host.cpuMeanPct, 1)} % busy on average (max ${fmt(r.resources.host.cpuMaxPct, 1)} %). ` +
        `Generator (${r.resources.generator.processes.join(' + ')}): ${fmt(r.resources.generator.cpuMeanPct, 1)} % of a core on average (max ${fmt(r.resources.generator.cpuMaxPct, 1)} %), ${fmt(r.resources.generator.cpuSeconds, 1)} CPU s, ${fmt(r.resources.generator.memoryMaxMiB)} MiB.`,
      '',
    );
  }

  if (r.drain !== undefined) {
    out.push(
      '## Drain',
      '',
      r.drain.drained
        ? `Drained in ${fmt(r.drain.elapsedMs / 1000, 1)} s (collector idle at ${fmt((r.drain.collectorIdleAtMs ?? 0) / 1000, 1)} s, backends stable at ${fmt((r.drain.backendsStableAtMs ?? 0) / 1000, 1)} s).`
        : `Incomplete after ${fmt(r.drain.elapsedMs / 1000, 1)} s: ${r.drain.reason ?? ''}.`,
      ...(r.drain.unobservable.length > 0 ? ['', `Not observable: ${r.drain.unobservable.join('; ')}.`] : []),
      '',
    );
  }
  for (const [name, collector] of Object.entries(r.verification.collectors)) {
    out.push(`## Collector ${name}: self-metrics (deltas over the run, canaries included)`, '');
    out.push(
      table(
        [
          'signal',
          'receiver accepted',
          'receiver refused',
          'memory_limiter refused',
          'exporter sent',
          'send failed',
          'enqueue failed',
          'queue at end',
        ],
        Object.entries<CollectorCounters>(collector).map(([s, c]) => [
          s,
          fmt(c.receiverAccepted),
          fmt(c.receiverRefused),
          fmt(c.memoryLimiterRefused),
          fmt(c.exporterSent),
          fmt(c.exporterSendFailed),
          fmt(c.exporterEnqueueFailed),
          fmt(c.queueSize),
        ]),
      ),
      '',
      `Largest sending-queue size seen: ${fmt(r.verification.collectorQueuePeak)}.`,
      '',
    );
  }
  const digest = r.verification.collectorLog ?? [];
  if (digest.length > 0) {
    out.push('## Collector log: export failures and drops', '');
    out.push(
      table(
        ['count', 'component', 'message', 'error (example)'],
        digest.map((d) => [fmt(d.count), d.component, d.message, d.example.slice(0, 300).replaceAll('|', '\\|')]),
      ),
      '',
    );
  }
  const counters = Object.entries(r.verification.backendCounters).filter(([, v]) => v !== undefined);
  if (counters.length > 0) {
    out.push('## Silent-drop and ingest counters (deltas over the run)', '');
    for (const [component, values] of counters) {
      // Totals always; per-label breakdowns only where something happened.
      const shown = Object.entries(values!).filter(([k, n]) => !k.includes('{') || n !== 0);
      out.push(`- **${component}**: ${shown.map(([k, n]) => `${k} ${fmt(n)}`).join(', ')}`);
    }
    out.push('');
  }
  const ingest = Object.entries(r.verification.ingestBytes);
  if (ingest.length > 0) {
    out.push('## Ingest volume (the backends that size in bytes)', '');
    for (const [signal, b] of ingest) {
      const mib = b.bytes / 1_048_576;
      const perSecond = r.load.elapsedMs > 0 ? mib / (r.load.elapsedMs / 1000) : undefined;
      out.push(
        `- **${b.backend}** (${signal}): ${fmt(mib, 1)} MiB${perSecond === undefined ? '' : `, ${fmt(perSecond, 2)} MiB/s over the load`} — ${b.describe}`,
      );
    }
    out.push('');
  }
  out.push(`Every figure is in result.json (schema ${r.schemaVersion}, fields documented in docs/result.md).`, '');
  return out.join('\n');
}

/**
 * What the flush wrote into the bucket per item found before it, and that per day at the run's achieved rate:
 * a first sizing figure, before any compaction rewrites the blocks (and the first flush of a stack writes
 * its index files too).
 */
function storedVolume(s: StoreVerification, items: number, achievedRps: number | undefined): [string, string] {
  if (s.bucketBytes === undefined || s.bucketBytes === 0 || items === 0) return ['-', '-'];
  const perItem = s.bucketBytes / items;
  const perDay = achievedRps === undefined ? undefined : (perItem * achievedRps * 86_400) / 1e9;
  return [
    `${fmt(s.bucketBytes / 1_048_576, 2)} MiB (${fmt(perItem, 0)} B/item)`,
    perDay === undefined ? '-' : `${fmt(perDay, 1)} GB/day`,
  ];
}
