import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runTag, toHex, traceId } from '../../generators/index.js';
import { runReported, seqs } from './support/cli.js';
import { harnessLeftovers, NOTHING_LEFT } from './support/leftovers.js';

const SPANS_PER_TRACE = 5;

describe('exact verdicts at scale (Phase 1, Jaeger)', () => {
  it('finds a handful of spans lost among 500,000, chosen by a hash of the trace id, and names each one', async () => {
    // 10,000 spans/s for 50 s: 100,000 traces. The sparse-loss variant drops span 2 (soak-child-2) of every
    // trace whose SHA-256 of the hex trace id starts with fff (1 in 4,096, scattered) — a rule on the trace
    // id's hash and the span name, not on a sequence attribute.
    const run = await runReported([
      'soak',
      '--variant',
      'sparse-loss',
      '--signals',
      'traces',
      '--rate',
      '10000',
      '--duration',
      '50s',
    ]);
    const r = run.result();
    expect(r.partial, run.stderr).toBe(false);
    const acked = seqs(r.load.signals.traces!.idRanges.acknowledged);
    expect(acked.length * SPANS_PER_TRACE).toBeGreaterThanOrEqual(495_000);
    // The rule, evaluated independently of the verifier on every acknowledged trace's id.
    const tag = runTag(r.runId);
    const sha = (seq: number) =>
      createHash('sha256')
        .update(toHex(traceId(tag, seq)))
        .digest('hex');
    const hit = acked.filter((seq) => sha(seq).startsWith('fff'));
    // About 24 expected; fewer than 5 has a probability below 1e-6.
    expect(hit.length).toBeGreaterThanOrEqual(5);

    const v = r.verification.signals.traces!;
    expect(v.sample).toBeUndefined();
    expect(v.method).toContain(`all ${acked.length} acknowledged traces`);
    expect(v.lost).toBe(hit.length);
    expect(v.found).toBe(acked.length * SPANS_PER_TRACE - hit.length);
    expect(seqs(v.lostRanges)).toEqual(hit);
    expect(v.lostExamples.slice(0, 3)).toEqual(
      hit.slice(0, 3).map((seq) => `trace ${toHex(traceId(tag, seq))} (seq ${seq}): span 2 of 5 missing`),
    );
    expect(run.code, run.stderr).toBe(4);
    // The cause from the filter's own counters: it took in the hit spans (and any canary it matched) and
    // did not pass them on.
    expect(r.verdict.reasons).toHaveLength(1);
    const cause = new RegExp(
      `^traces lost in jaeger: ${hit.length} of ${acked.length * SPANS_PER_TRACE} — otelcol processor filter\\/sparse-loss: (\\d+) spans taken in and not passed on \\(its incoming − outgoing items, all traffic in the run's window\\); fix: check filter\\/sparse-loss's conditions: it drops what they match \\(limit ≤ 0 \\(0 items\\)\\)$`,
    ).exec(r.verdict.reasons[0]!);
    expect(cause, r.verdict.reasons[0]).not.toBeNull();
    expect(Number(cause![1])).toBeGreaterThanOrEqual(hit.length);
    expect(await harnessLeftovers(r.runId)).toEqual(NOTHING_LEFT);
  });
});
