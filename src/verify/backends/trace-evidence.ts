import { runTag, toHex, traceId } from '../../../generators/index.js';
import { rangesSize, type SeqRange } from '../../load/ledger.js';
import { RangeBuilder } from '../../load/seq-ranges.js';
import { systemClock } from '../../time/clock.js';
import { missingIsLoss, type TraceExpectation, type VerifyContext } from '../expectation.js';
import {
  mapConcurrent,
  notQueryVisible,
  uniformSample,
  verdict,
  wilsonUpper95,
  type SampleBound,
  type SamplingAccount,
  type SignalVerification,
  type VerifierOutcome,
} from '../verification.js';

/** What a backend returned for one trace of the run: copies of each span index, and spans it should not have. */
export interface TraceSpans {
  seq: number;
  /** counts[i]: stored copies of span i. */
  counts: Uint16Array;
  /** Spans under this trace id whose span id the run never sent (e.g. renamed duplicates). */
  foreign: number;
  /** Of its spans, those the backend stored under another trace id. */
  misfiled: number;
}

/**
 * Which reading of traces a lookup is: the first (`recheck` 0) or the n-th re-check of traces found
 * incomplete, and whether it is the last reading before the missing spans count as lost.
 */
export interface LookupPass {
  recheck: number;
  last: boolean;
}

/**
 * Looks up traces by seq; traces the backend does not have are simply absent from the answer. `checkTraces`
 * always says which reading it asks for (a lookup that reads the same way each time may ignore it).
 */
export type TraceLookup = (seqs: readonly number[], pass?: LookupPass) => Promise<TraceSpans[]>;

/** Span hex id → (seq, index) as derived by generators/ids.ts (6 bytes seq+1, 2 bytes index). */
export function spanOfHex(hex: string): { seq: number; index: number } | undefined {
  const h = hex.length === 16 ? hex : hex.padStart(16, '0');
  if (h.length !== 16) return undefined;
  const v = parseInt(h.slice(0, 12), 16);
  const index = parseInt(h.slice(12), 16);
  if (!Number.isFinite(v) || !Number.isFinite(index) || v < 1) return undefined;
  return { seq: v - 1, index };
}

/**
 * Adds one stored span, found under the trace id of `traceSeq`, to the tally of the trace its span id
 * belongs to: span ids encode (seq, index), so a span a backend filed under another trace id (Tempo's
 * 32-bit trace-id hash can merge two traces) still counts for its own trace, and is reported as misfiled.
 * Returns 'misfiled' for such a span, 'foreign' for a span id the run never sent.
 */
export function tally(
  bySeq: Map<number, TraceSpans>,
  traceSeq: number,
  spanHex: string,
  spansPerTrace: number,
): 'ok' | 'misfiled' | 'foreign' {
  const span = spanOfHex(spanHex);
  const seq = span === undefined || span.index >= spansPerTrace ? traceSeq : span.seq;
  let t = bySeq.get(seq);
  if (t === undefined) bySeq.set(seq, (t = { seq, counts: new Uint16Array(spansPerTrace), foreign: 0, misfiled: 0 }));
  if (span === undefined || span.index >= spansPerTrace) {
    t.foreign++;
    return 'foreign';
  }
  t.counts[span.index]! += 1;
  if (seq !== traceSeq) {
    t.misfiled++;
    return 'misfiled';
  }
  return 'ok';
}

/** The run's trace id (32 hex) of `seq`. */
export function traceHexOf(tag: Uint8Array, seq: number): string {
  return toHex(traceId(tag, seq));
}

export interface TraceCheckOptions {
  /** Traces per lookup call. */
  chunk: number;
  concurrency: number;
  /** Re-look-up incomplete traces this many times, `pauseMs` apart, before calling them lost. */
  rechecks: number;
  pauseMs: number;
  /** e.g. `trace by id (Jaeger /api/traces, 1,000 ids per request)`. */
  method: string;
  backend: string;
  /**
   * Whether the backend's answers can show a span stored twice (then counted from `counts`, described by
   * `note`), or not (`note` says why not).
   */
  duplicates: { visible: boolean; note: string };
  lostExampleLimit?: number;
}

interface Incomplete {
  seq: number;
  missing: number[];
}

/**
 * Checks every acknowledged trace (or, when `context.traceSample` asks for it, a uniform sample) through
 * `lookup`, chunk by chunk: a trace is complete when each of its spans is stored. Incomplete traces are
 * looked up again before they count as lost. Memory holds one chunk and the incomplete traces, never the
 * run. A sample can only pass when its 95 % upper bound × the population is within the loss budget, which
 * the caller checks from `sample.lostUpper95`.
 */
export async function checkTraces(
  exp: TraceExpectation,
  lookup: TraceLookup,
  context: VerifyContext,
  options: TraceCheckOptions,
): Promise<SignalVerification> {
  const clock = context.clock ?? systemClock;
  const K = exp.spansPerTrace;
  const population = rangesSize(exp.acknowledged);
  const sampled = context.traceSample !== undefined && context.traceSample < population;
  const seqList = sampled ? sampleSeqs(exp.acknowledged, population, context.traceSample!) : undefined;
  const unackTotal = rangesSize(exp.unacknowledged);

  let foundSpans = 0;
  let duplicateSpans = 0;
  let foreign = 0;
  let misfiled = 0;
  let unackFoundSpans = 0;
  let checked = 0;
  let incomplete: Incomplete[] = [];
  const duplicateSeqs: { seq: number; extra: number }[] = [];
  // Sampling: only traces whose absence would be loss are expected; the others are tallied apart.
  const sampling = exp.sampling ?? { kind: 'none' as const };
  const isLoss = missingIsLoss(exp);
  let expectedTraces = 0;
  let predictedDropped = 0;
  let absentUndecided = 0;
  let keptUnpredictedSpans = 0;
  const keptUnpredicted = new RangeBuilder();

  const inspect = (t: TraceSpans | undefined): number[] => {
    const missing: number[] = [];
    for (let i = 0; i < K; i++) if ((t?.counts[i] ?? 0) === 0) missing.push(i);
    return missing;
  };

  const total = (seqList?.length ?? population) + unackTotal;
  const first: LookupPass = { recheck: 0, last: options.rechecks === 0 };
  const processChunk = async (seqs: readonly number[], acked: boolean) => {
    const answer = new Map((await lookup(seqs, first)).map((t) => [t.seq, t]));
    for (const seq of seqs) {
      const t = answer.get(seq);
      let present = 0;
      let extra = 0;
      for (let i = 0; i < K; i++) {
        const n = t?.counts[i] ?? 0;
        if (n > 0) present++;
        if (n > 1) extra += n - 1;
      }
      if (!acked) {
        unackFoundSpans += present;
        continue;
      }
      if (!isLoss(seq, present > 0)) {
        if (sampling.kind === 'predict') {
          predictedDropped++;
          if (present > 0) {
            keptUnpredictedSpans += present;
            keptUnpredicted.add(seq);
          }
        } else absentUndecided++;
        continue;
      }
      expectedTraces++;
      foundSpans += present;
      foreign += t?.foreign ?? 0;
      misfiled += t?.misfiled ?? 0;
      if (extra > 0) {
        duplicateSpans += extra;
        duplicateSeqs.push({ seq, extra });
      }
      if (present < K) incomplete.push({ seq, missing: inspect(t) });
    }
    checked += seqs.length;
    context.progress(`traces: ${checked}/${total} checked in ${options.backend}`);
  };
  // Acknowledged traces (or the sample), then unacknowledged ones; chunks are made lazily, `concurrency`
  // lookups at a time.
  for (const [source, acked] of [
    [seqList ?? exp.acknowledged, true],
    [exp.unacknowledged, false],
  ] as const) {
    const next = chunksOf(source, options.chunk);
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        for (let c = next(); c !== undefined; c = next()) await processChunk(c, acked);
      }),
    );
  }

  // Re-check incomplete traces: eventually consistent stores may still be writing them.
  for (let attempt = 0; attempt < options.rechecks && incomplete.length > 0; attempt++) {
    await clock.sleep(options.pauseMs);
    const again: Incomplete[] = [];
    const groups: number[][] = [];
    for (let i = 0; i < incomplete.length; i += options.chunk)
      groups.push(incomplete.slice(i, i + options.chunk).map((x) => x.seq));
    const before = new Map(incomplete.map((x) => [x.seq, x]));
    const pass: LookupPass = { recheck: attempt + 1, last: attempt + 1 === options.rechecks };
    await mapConcurrent(groups, options.concurrency, async (seqs) => {
      const answer = new Map((await lookup(seqs, pass)).map((t) => [t.seq, t]));
      for (const seq of seqs) {
        // A span seen once stays found: only spans missing from every answer so far are still missing.
        const previously = before.get(seq)!.missing;
        const now = new Set(inspect(answer.get(seq)));
        const missing = previously.filter((i) => now.has(i));
        foundSpans += previously.length - missing.length;
        if (missing.length > 0) again.push({ seq, missing });
      }
    });
    incomplete = again.sort((a, b) => a.seq - b.seq);
  }
  incomplete.sort((a, b) => a.seq - b.seq);

  const tag = runTag(exp.runId);
  const limit = options.lostExampleLimit ?? 20;
  const absent = new RangeBuilder();
  let absentSpans = 0;
  const lostBySeq: Record<string, number> = {};
  for (const x of incomplete) {
    absent.add(x.seq);
    absentSpans += x.missing.length;
    lostBySeq[String(x.seq)] = x.missing.length;
  }
  const lostExamples = incomplete
    .slice(0, limit)
    .map(
      (x) =>
        `trace ${traceHexOf(tag, x.seq)} (seq ${x.seq}): span${x.missing.length > 1 ? 's' : ''} ${x.missing.join(', ')} of ${K} missing`,
    );
  const checkedTraces = seqList?.length ?? population;
  const expected =
    (sampled ? Math.round((expectedTraces / Math.max(1, checkedTraces)) * population) : expectedTraces) * K;
  const samplingAccount: SamplingAccount | undefined =
    sampling.kind === 'none'
      ? undefined
      : {
          oracle: sampling.kind === 'predict' ? sampling.describe : null,
          note:
            sampling.kind === 'predict'
              ? 'loss counts the traces predicted kept; every predicted-dropped trace checked was checked absent'
              : `absent traces are not counted as lost: ${sampling.reason}`,
          predictedKept: sampling.kind === 'predict' ? expectedTraces : 0,
          predictedDropped,
          keptUnpredicted: rangesSize(keptUnpredicted.ranges()),
          keptUnpredictedSpans,
          keptUnpredictedRanges: keptUnpredicted.ranges(),
          absentUndecided,
        };
  const duplicates = options.duplicates.visible
    ? {
        queryVisible: duplicateSpans,
        queryVisibleNote: options.duplicates.note,
        delivered: null,
        deliveredNote: 'not read',
        ranges: toRangesOf(duplicateSeqs.map((d) => d.seq)),
      }
    : notQueryVisible(options.duplicates.note);
  const notes: string[] = [];
  if (foreign > 0) notes.push(`${foreign} span(s) under the run's trace ids carry span ids the run never sent`);
  if (misfiled > 0)
    notes.push(
      `${misfiled} span(s) are stored under another trace id than their own (counted as found; a query by their own trace id misses them)`,
    );
  const figures: Record<string, number> = {
    tracesChecked: checkedTraces,
    tracesIncomplete: incomplete.length,
    ...(misfiled > 0 ? { misfiledSpans: misfiled } : {}),
  };
  if (samplingAccount !== undefined) {
    if (samplingAccount.oracle !== null) {
      figures.tracesPredictedKept = samplingAccount.predictedKept;
      figures.tracesPredictedDropped = predictedDropped;
      figures.tracesKeptUnpredicted = samplingAccount.keptUnpredicted;
      if (samplingAccount.keptUnpredicted > 0)
        notes.push(
          `${samplingAccount.keptUnpredicted} trace(s) (${keptUnpredictedSpans} spans) predicted dropped by ${samplingAccount.oracle} are stored: the sampler and the prediction disagree`,
        );
    } else {
      figures.tracesAbsentUndecided = absentUndecided;
      notes.push(
        `${absentUndecided} acknowledged trace(s) absent: sampled out or lost, it cannot be told (${samplingAccount.note})`,
      );
    }
  }
  const base = {
    signal: 'traces' as const,
    backend: options.backend,
    expected,
    rejected: 0,
    rejectedAbsent: 0,
    duplicates,
    unacknowledgedFound: unackFoundSpans,
    lostRanges: absent.ranges(),
    itemsBySeq: {
      lost: lostBySeq,
      duplicates: Object.fromEntries(duplicateSeqs.map((d) => [String(d.seq), d.extra])),
    },
    lostExamples,
    figures,
    notes,
    ...(samplingAccount === undefined ? {} : { sampling: samplingAccount }),
  };
  if (!sampled) {
    return {
      ...base,
      method: `${options.method}, all ${population} acknowledged traces, ${K} spans each${samplingAccount?.oracle == null ? '' : `, ${expectedTraces} predicted kept`}`,
      found: foundSpans,
      lost: absentSpans,
      outcome: samplingOutcome(verdict(expected, absentSpans, 'spans'), samplingAccount),
    };
  }
  const n = seqList!.length;
  const checkedSpans = n * K;
  const lostFraction = checkedSpans === 0 ? 0 : absentSpans / checkedSpans;
  const upper = wilsonUpper95(incomplete.length, n);
  const sample: SampleBound = {
    population,
    sampleSize: n,
    missingInSample: incomplete.length,
    estimatedLost: Math.round(lostFraction * expected),
    lostFractionUpper95: upper,
    lostUpper95: Math.ceil(upper * expected),
  };
  notes.push(
    `${n} of ${population} acknowledged traces checked (uniform sample, --verify-sample): ${incomplete.length} incomplete; ` +
      `at 95 % confidence at most ${(upper * 100).toFixed(3)} % of traces (${sample.lostUpper95} spans) are incomplete`,
  );
  return {
    ...base,
    method: `${options.method} on a uniform sample of ${n} of ${population} traces`,
    found: foundSpans,
    lost: sample.estimatedLost,
    sample,
    outcome: samplingOutcome(
      incomplete.length > 0
        ? verdict(expected, sample.estimatedLost, 'spans (estimated from the sample)')
        : // Clean sample: whether its bound fits the loss budget is the threshold's decision.
          { status: 'pass' },
      samplingAccount,
    ),
  };
}

/**
 * A clean verdict stays clean only if the sampling was predicted and the backend agreed with every
 * prediction: otherwise absence (or presence) cannot be read as the pipeline's doing.
 */
function samplingOutcome(outcome: VerifierOutcome, account: SamplingAccount | undefined): VerifierOutcome {
  if (account === undefined || outcome.status !== 'pass') return outcome;
  // Nothing absent: whatever the sampler would have decided, nothing was sampled out or lost.
  if (account.oracle === null && account.absentUndecided > 0)
    return {
      status: 'inconclusive',
      reason: `traces verified against acknowledgement only: ${account.absentUndecided} absent trace(s) may have been sampled out (${account.note.replace(/^absent traces are not counted as lost: /, '')}); every trace found is complete`,
    };
  if (account.keptUnpredicted > 0)
    return {
      status: 'inconclusive',
      reason: `${account.keptUnpredicted} trace(s) predicted dropped by the tail sampler are stored (${account.keptUnpredictedSpans} spans): the sampler and its prediction disagree, so predicted-kept absences cannot be trusted either`,
    };
  return outcome;
}

function sampleSeqs(ranges: readonly SeqRange[], population: number, n: number): number[] {
  const idx = uniformSample(population, n, population ^ 0x7ace);
  const out: number[] = [];
  let r = 0;
  let before = 0;
  for (const i of idx) {
    while (i >= before + ranges[r]!.count) before += ranges[r++]!.count;
    out.push(ranges[r]!.first + (i - before));
  }
  return out;
}

/** A pull-based chunker over seq ranges or a seq list: memory for one chunk at a time. */
function chunksOf(source: readonly SeqRange[] | readonly number[], size: number): () => number[] | undefined {
  if (source.length > 0 && typeof source[0] === 'number') {
    const list = source as readonly number[];
    let i = 0;
    return () => (i < list.length ? list.slice(i, (i += size)) : undefined);
  }
  const ranges = source as readonly SeqRange[];
  let r = 0;
  let seq = ranges[0]?.first ?? 0;
  return () => {
    const out: number[] = [];
    while (out.length < size && r < ranges.length) {
      const range = ranges[r]!;
      if (seq >= range.first + range.count) {
        r++;
        seq = ranges[r]?.first ?? 0;
        continue;
      }
      out.push(seq++);
    }
    return out.length > 0 ? out : undefined;
  };
}

function toRangesOf(sortedSeqs: number[]): SeqRange[] {
  const b = new RangeBuilder();
  for (const s of [...sortedSeqs].sort((a, z) => a - z)) b.add(s);
  return b.ranges();
}
