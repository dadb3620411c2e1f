import { runTag, spanId, toHex, traceId } from '../../generators/index.js';
import { rangesSize, toRanges, type SeqRange } from '../load/ledger.js';
import type { Clock } from '../time/clock.js';
import { systemClock } from '../time/clock.js';
import type { TraceStore } from './trace-stores.js';
import { mapConcurrent, uniformSample, verdict, wilsonUpper95, type SignalVerification } from './verification.js';

export interface TraceExpectation {
  runId: string;
  spansPerTrace: number;
  /** Trace seqs the pipeline acknowledged. */
  acknowledged: SeqRange[];
  /** Trace seqs sent but not acknowledged (refused/failed): found ones are reported, not counted. */
  unacknowledged: SeqRange[];
  /** Check every trace up to this many; above it, a uniform sample of this size. */
  maxTraces: number;
  /** Exact span count from another source (Tempo TraceQL), used when only a sample was checked. */
  exactSpanCount?: number;
}

export interface TraceCheckOptions {
  concurrency: number;
  /** Re-check traces with missing spans this many times, `pauseMs` apart, before calling them lost. */
  rechecks: number;
  pauseMs: number;
  clock?: Clock;
  lostExampleLimit?: number;
  /** Called every 1000 traces checked. */
  progress?: (checked: number, total: number) => void;
}

/** The seq at position `index` of sorted ranges. */
function seqAt(ranges: readonly SeqRange[], index: number): number {
  let i = index;
  for (const r of ranges) {
    if (i < r.count) return r.first + i;
    i -= r.count;
  }
  throw new Error(`index ${index} beyond ranges`);
}

interface TraceFinding {
  seq: number;
  found: number;
  duplicates: number;
  missingIndexes: number[];
}

async function inspect(store: TraceStore, tag: Uint8Array, seq: number, spansPerTrace: number): Promise<TraceFinding> {
  const ids = await store.spanIds(toHex(traceId(tag, seq)));
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  const missingIndexes: number[] = [];
  let found = 0;
  let duplicates = 0;
  const expected = new Set<string>();
  for (let i = 0; i < spansPerTrace; i++) {
    const id = toHex(spanId(seq, i));
    expected.add(id);
    const n = counts.get(id) ?? 0;
    if (n === 0) missingIndexes.push(i);
    else {
      found++;
      duplicates += n - 1;
    }
  }
  // Spans with ids this trace never had: a backend that renames duplicate span ids (Jaeger's query
  // de-duplicator) returns a stored duplicate under a new id.
  for (const [id, n] of counts) if (!expected.has(id)) duplicates += n;
  return { seq, found, duplicates, missingIndexes };
}

/**
 * Looks up acknowledged traces by id (ids are derived from run and seq, so nothing was stored) and checks
 * each has every span. Loss is exact when every trace was checked; otherwise estimated from a uniform
 * sample, with the 95 % bound stated (and made exact by `exactSpanCount` when available).
 */
export async function verifyTraces(
  store: TraceStore,
  exp: TraceExpectation,
  options: TraceCheckOptions,
): Promise<SignalVerification> {
  const clock = options.clock ?? systemClock;
  const tag = runTag(exp.runId);
  const population = rangesSize(exp.acknowledged);
  const sampled = population > exp.maxTraces;
  const indexes = sampled
    ? uniformSample(population, exp.maxTraces, population ^ 0x7ace)
    : Array.from({ length: population }, (_, i) => i);
  const seqs = indexes.map((i) => seqAt(exp.acknowledged, i));

  let checked = 0;
  let findings = await mapConcurrent(seqs, options.concurrency, async (seq) => {
    const finding = await inspect(store, tag, seq, exp.spansPerTrace);
    if (++checked % 1000 === 0) options.progress?.(checked, seqs.length);
    return finding;
  });
  for (let attempt = 0; attempt < options.rechecks; attempt++) {
    const incomplete = findings.filter((f) => f.missingIndexes.length > 0);
    if (incomplete.length === 0) break;
    await clock.sleep(options.pauseMs);
    const again = await mapConcurrent(incomplete, options.concurrency, (f) =>
      inspect(store, tag, f.seq, exp.spansPerTrace),
    );
    const bySeq = new Map(again.map((f) => [f.seq, f]));
    findings = findings.map((f) => bySeq.get(f.seq) ?? f);
  }

  const checkedSpans = seqs.length * exp.spansPerTrace;
  const foundSpans = findings.reduce((n, f) => n + f.found, 0);
  const duplicates = findings.reduce((n, f) => n + f.duplicates, 0);
  const lostFindings = findings.filter((f) => f.missingIndexes.length > 0);
  const limit = options.lostExampleLimit ?? 20;
  const lostExamples = lostFindings
    .slice(0, limit)
    .map(
      (f) =>
        `trace ${toHex(traceId(tag, f.seq))} (seq ${f.seq}): span${f.missingIndexes.length > 1 ? 's' : ''} ${f.missingIndexes.join(', ')} of ${exp.spansPerTrace} missing`,
    );

  // Unacknowledged traces that arrived anyway (checked up to the same bound).
  const unackPopulation = rangesSize(exp.unacknowledged);
  const unackIdx = uniformSample(unackPopulation, Math.min(unackPopulation, exp.maxTraces), 0x5eed);
  const unackFindings = await mapConcurrent(
    unackIdx.map((i) => seqAt(exp.unacknowledged, i)),
    options.concurrency,
    (seq) => inspect(store, tag, seq, exp.spansPerTrace),
  );
  const unackFound = unackFindings.reduce((n, f) => n + f.found, 0);

  const expected = population * exp.spansPerTrace;
  const notes: string[] = [];
  const figures: Record<string, number> = { tracesChecked: seqs.length, tracesIncomplete: lostFindings.length };
  const base = {
    signal: 'traces' as const,
    backend: store.backend,
    expected,
    duplicates,
    unacknowledgedFound: unackFound,
    lostRanges: toRanges(lostFindings.map((f) => f.seq)),
    duplicateRanges: toRanges(findings.filter((f) => f.duplicates > 0).map((f) => f.seq)),
    itemsBySeq: {
      lost: Object.fromEntries(lostFindings.map((f) => [String(f.seq), f.missingIndexes.length])),
      duplicates: Object.fromEntries(
        findings.filter((f) => f.duplicates > 0).map((f) => [String(f.seq), f.duplicates]),
      ),
    },
    lostExamples,
    figures,
    notes,
  };
  if (!sampled) {
    return {
      ...base,
      method: `trace by id, all ${population} acknowledged traces, ${exp.spansPerTrace} spans each`,
      found: foundSpans,
      lost: expected - foundSpans,
      outcome: verdict(expected, foundSpans, 'spans'),
    };
  }
  const lostFraction = checkedSpans === 0 ? 0 : (checkedSpans - foundSpans) / checkedSpans;
  const sample = {
    population,
    sampleSize: seqs.length,
    missingInSample: lostFindings.length,
    estimatedLost: Math.round(lostFraction * expected),
    lostFractionUpper95: wilsonUpper95(lostFindings.length, seqs.length),
  };
  notes.push(
    `${seqs.length} of ${population} acknowledged traces checked by id (uniform sample): ${lostFindings.length} incomplete; ` +
      `at 95 % confidence at most ${(sample.lostFractionUpper95 * 100).toFixed(3)} % of traces are incomplete`,
  );
  if (exp.exactSpanCount !== undefined && unackPopulation === 0) {
    const found = Math.min(expected, exp.exactSpanCount);
    figures.exactSpanCount = exp.exactSpanCount;
    return {
      ...base,
      method: `TraceQL span count (exact) + trace by id on a ${seqs.length}-trace sample`,
      found,
      lost: expected - found,
      sample,
      outcome: verdict(expected, found, 'spans'),
    };
  }
  const found = expected - sample.estimatedLost;
  return {
    ...base,
    method: `trace by id on a uniform sample of ${seqs.length} of ${population} traces`,
    found,
    lost: sample.estimatedLost,
    sample,
    outcome:
      lostFindings.length === 0 ? { status: 'pass' } : verdict(expected, found, 'spans (estimated from the sample)'),
  };
}
