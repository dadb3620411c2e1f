import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runTag, toHex, traceId, traceShapeDefaults, traceTraits } from '../../generators/index.js';
import { probabilisticThreshold, samplingOracle } from '../../src/verify/sampling/tail-sampling.js';

/** Decisions of the collector's own probabilistic policy (its Go code, run once on these trace ids). */
const vectors = JSON.parse(
  readFileSync(join(import.meta.dirname, 'fixtures', 'tail-sampling-vectors.json'), 'utf8'),
) as {
  runId: string;
  traces: number;
  cases: { salt: string; percentage: number; threshold: string; sampled: string[] }[];
};

const shape = { ...traceShapeDefaults(), slowDurationMs: 1_500 };
const config = (policies: unknown[], decisionWait = '10s') =>
  stringify({
    processors: { tail_sampling: { decision_wait: decisionWait, policies } },
    service: { pipelines: { traces: { receivers: ['kafka'], processors: ['tail_sampling'], exporters: ['otlp'] } } },
  });

describe('the tail-sampling oracle', () => {
  it("computes the probabilistic threshold as Go's big.Float does", () => {
    for (const c of vectors.cases)
      expect(probabilisticThreshold(c.percentage / 100).toString(), `${c.percentage}%`).toBe(c.threshold);
  });

  it('keeps exactly the traces the collector keeps, for each salt and percentage', () => {
    const tag = runTag(vectors.runId);
    for (const c of vectors.cases) {
      const oracle = samplingOracle(
        config([
          { name: 'p', type: 'probabilistic', probabilistic: { sampling_percentage: c.percentage, hash_salt: c.salt } },
        ]),
        shape,
      );
      if (oracle.kind !== 'predict') throw new Error(oracle.kind);
      const kept: string[] = [];
      for (let seq = 0; seq < vectors.traces; seq++) {
        const id = traceId(tag, seq);
        if (oracle.keep(seq, id)) kept.push(toHex(id));
      }
      expect(kept, `${c.salt || 'default salt'} ${c.percentage}%`).toEqual(c.sampled);
    }
    expect(vectors.cases.find((c) => c.percentage === 10 && c.salt === '')!.sampled.length).toBe(205); // about 10 %
  });

  it('keeps errors, slow traces (strictly above the threshold, in whole ms) and the probabilistic share', () => {
    const oracle = samplingOracle(
      config([
        { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
        { name: 'slow', type: 'latency', latency: { threshold_ms: 1000 } },
        { name: 'ten-percent', type: 'probabilistic', probabilistic: { sampling_percentage: 10 } },
      ]),
      shape,
    );
    if (oracle.kind !== 'predict') throw new Error(oracle.kind);
    expect(oracle.decisionWaitMs).toBe(10_000);
    const tag = runTag(vectors.runId);
    const tenPercent = new Set(vectors.cases.find((c) => c.percentage === 10 && c.salt === '')!.sampled);
    for (let seq = 0; seq < vectors.traces; seq++) {
      const id = traceId(tag, seq);
      const t = traceTraits(seq, shape);
      expect(oracle.keep(seq, id), `seq ${seq}`).toBe(t.error || t.slow || tenPercent.has(toHex(id)));
    }
    // A latency threshold equal to the duration does not keep it (exclusive since contrib v0.157).
    const atThreshold = samplingOracle(
      config([{ name: 's', type: 'latency', latency: { threshold_ms: 1500 } }]),
      shape,
    );
    if (atThreshold.kind !== 'predict') throw new Error(atThreshold.kind);
    const slow = Array.from({ length: vectors.traces }, (_, s) => s).find((s) => traceTraits(s, shape).slow)!;
    expect(atThreshold.keep(slow, traceId(tag, slow))).toBe(false);
  });

  it('drop policies win; unsupported policies make the oracle say why', () => {
    const dropAll = samplingOracle(
      config([
        { name: 'all', type: 'always_sample' },
        { name: 'none', type: 'drop', drop: { drop_sub_policy: [{ name: 'x', type: 'always_sample' }] } },
      ]),
      shape,
    );
    if (dropAll.kind !== 'predict') throw new Error(dropAll.kind);
    expect(dropAll.keep(1, traceId(runTag('r'), 1))).toBe(false);
    // A drop policy drops only what every one of its sub-policies samples: errors that are also slow.
    const dropSlowErrors = samplingOracle(
      config([
        { name: 'all', type: 'always_sample' },
        {
          name: 'slow-errors',
          type: 'drop',
          drop: {
            drop_sub_policy: [
              { name: 'e', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
              { name: 's', type: 'latency', latency: { threshold_ms: 1000 } },
            ],
          },
        },
      ]),
      shape,
    );
    if (dropSlowErrors.kind !== 'predict') throw new Error(dropSlowErrors.kind);
    const seqs = Array.from({ length: 100_000 }, (_, s) => s);
    const both = seqs.find((s) => traceTraits(s, shape).error && traceTraits(s, shape).slow)!;
    const errorOnly = seqs.find((s) => traceTraits(s, shape).error && !traceTraits(s, shape).slow)!;
    expect(dropSlowErrors.keep(both, traceId(runTag('r'), both))).toBe(false);
    expect(dropSlowErrors.keep(errorOnly, traceId(runTag('r'), errorOnly))).toBe(true);
    expect(
      samplingOracle(config([{ name: 'r', type: 'rate_limiting', rate_limiting: { spans_per_second: 10 } }]), shape),
    ).toEqual({
      kind: 'unsupported',
      reason: 'policy type rate_limiting (policy r) cannot be predicted',
    });
    expect(samplingOracle(stringify({ service: { pipelines: { traces: { processors: ['batch'] } } } }), shape)).toEqual(
      { kind: 'none' },
    );
  });
});
