import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { runTag, toHex, traceId, traceShapeDefaults, traceTraits } from '../../generators/index.js';
import {
  goDurationMs,
  probabilisticThreshold,
  samplingOracle,
  traceSamplingOf,
} from '../../src/verify/sampling/tail-sampling.js';

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
      {
        collectorVersion: '0.158.0',
      },
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
      reason: 'the collector: processor tail_sampling: policy type rate_limiting (policy r) cannot be predicted',
    });
    expect(samplingOracle(stringify({ service: { pipelines: { traces: { processors: ['batch'] } } } }), shape)).toEqual(
      { kind: 'none' },
    );
  });
});

/** Go's time.ParseDuration on these strings, in milliseconds (null: Go rejects the string). */
const goDurations = JSON.parse(
  readFileSync(join(import.meta.dirname, 'fixtures', 'go-parse-duration-vectors.json'), 'utf8'),
) as { milliseconds: Record<string, number | null> };

/** Decisions of Go's hash/fnv and float32 arithmetic as the probabilistic_sampler's hash_seed mode makes them. */
const hashSeedVectors = JSON.parse(
  readFileSync(join(import.meta.dirname, 'fixtures', 'probabilistic-sampler-hash-seed-vectors.json'), 'utf8'),
) as {
  runId: string;
  traces: number;
  cases: { hashSeed: number; percentage: number; sampledSeqs?: number[]; notSampledSeqs?: number[] }[];
};

const seqsUpTo = (n: number) => Array.from({ length: n }, (_, s) => s);
const keptSeqs = (keep: (seq: number) => boolean, n: number) => seqsUpTo(n).filter(keep);
const tracesConfig = (processors: Record<string, unknown>) =>
  stringify({
    processors,
    service: {
      pipelines: { traces: { receivers: ['otlp'], processors: Object.keys(processors), exporters: ['otlp'] } },
    },
  });
const predictOf = <T extends { kind: string }>(o: T): Extract<T, { kind: 'predict' }> => {
  if (o.kind !== 'predict') throw new Error(JSON.stringify(o));
  return o as Extract<T, { kind: 'predict' }>;
};

describe('the tail-sampling oracle, per contrib source', () => {
  it('status_code keeps a trace when any of its spans has a listed code', () => {
    const tag = runTag('r');
    const unset = [{ name: 'unset', type: 'status_code', status_code: { status_codes: ['UNSET'] } }];
    const oneSpan = { ...shape, spansPerTrace: 1, errorFraction: 0.3 };
    const single = predictOf(samplingOracle(config(unset), oneSpan));
    // A one-span error trace has no UNSET span; every other trace has one.
    expect(keptSeqs((s) => single.keep(s, traceId(tag, s)), 200)).toEqual(
      seqsUpTo(200).filter((s) => !traceTraits(s, oneSpan).error),
    );
    expect(seqsUpTo(200).some((s) => traceTraits(s, oneSpan).error)).toBe(true);
    // With children (always UNSET) every trace has an UNSET span.
    const fiveSpans = { ...oneSpan, spansPerTrace: 5 };
    const multi = predictOf(samplingOracle(config(unset), fiveSpans));
    expect(keptSeqs((s) => multi.keep(s, traceId(tag, s)), 200)).toHaveLength(200);
    // No generated span is OK.
    const ok = predictOf(
      samplingOracle(config([{ name: 'ok', type: 'status_code', status_code: { status_codes: ['OK'] } }]), fiveSpans),
    );
    expect(keptSeqs((s) => ok.keep(s, traceId(tag, s)), 200)).toEqual([]);
  });

  it('with sample_on_first_match, drop policies still come first and policies after always_sample never run', () => {
    const tag = runTag('r');
    const withOption = (policies: unknown[]) =>
      stringify({
        processors: { tail_sampling: { decision_wait: '10s', sample_on_first_match: true, policies } },
        service: { pipelines: { traces: { processors: ['tail_sampling'] } } },
      });
    // A policy the oracle cannot predict is never evaluated after always_sample.
    const unreachable = predictOf(
      samplingOracle(
        withOption([
          { name: 'all', type: 'always_sample' },
          { name: 'r', type: 'rate_limiting', rate_limiting: { spans_per_second: 10 } },
        ]),
        shape,
      ),
    );
    expect(keptSeqs((s) => unreachable.keep(s, traceId(tag, s)), 100)).toHaveLength(100);
    expect(unreachable.describe).toMatch(/r \(rate_limiting, never evaluated\).*sample_on_first_match/);
    // Before it, the same policy is evaluated, so it must be predicted.
    expect(
      samplingOracle(
        withOption([
          { name: 'r', type: 'rate_limiting', rate_limiting: { spans_per_second: 10 } },
          { name: 'all', type: 'always_sample' },
        ]),
        shape,
      ).kind,
    ).toBe('unsupported');
    // A drop policy listed after the first sampling policy still drops: the processor evaluates drops first.
    const policies = [
      { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
      { name: 'ten', type: 'probabilistic', probabilistic: { sampling_percentage: 10 } },
      {
        name: 'no-slow',
        type: 'drop',
        drop: { drop_sub_policy: [{ name: 's', type: 'latency', latency: { threshold_ms: 1000 } }] },
      },
    ];
    const first = predictOf(samplingOracle(withOption(policies), shape));
    const all = predictOf(samplingOracle(config(policies), shape));
    const n = 5_000;
    const firstKept = keptSeqs((s) => first.keep(s, traceId(tag, s)), n);
    expect(firstKept).toEqual(keptSeqs((s) => all.keep(s, traceId(tag, s)), n));
    expect(firstKept.some((s) => traceTraits(s, shape).slow)).toBe(false);
    // …and it mattered: without it some slow traces are sampled.
    const noDrop = predictOf(samplingOracle(withOption(policies.slice(0, 2)), shape));
    expect(seqsUpTo(n).some((s) => traceTraits(s, shape).slow && noDrop.keep(s, traceId(tag, s)))).toBe(true);
  });

  it("compares latency with the rule of the collector's version, the catalog's pin when it is unknown", () => {
    const tag = runTag('r');
    const slow = seqsUpTo(10_000).find((s) => traceTraits(s, shape).slow)!; // 1500 ms
    const keeps = (latency: object, collectorVersion?: string) =>
      predictOf(
        samplingOracle(config([{ name: 'l', type: 'latency', latency }]), shape, {
          ...(collectorVersion === undefined ? {} : { collectorVersion }),
        }),
      ).keep(slow, traceId(tag, slow));
    // threshold_ms alone: inclusive up to v0.156, exclusive from v0.157 (contrib#49595).
    expect(keeps({ threshold_ms: 1500 }, '0.156.0')).toBe(true);
    expect(keeps({ threshold_ms: 1500 }, 'v0.155.1')).toBe(true);
    expect(keeps({ threshold_ms: 1500 }, 'docker.io/otel/opentelemetry-collector-contrib:0.156.0')).toBe(true);
    expect(keeps({ threshold_ms: 1500 }, '0.157.0')).toBe(false);
    expect(keeps({ threshold_ms: 1499 }, '0.157.0')).toBe(true);
    // With upper_threshold_ms: threshold_ms < d ≤ upper_threshold_ms in every version.
    for (const v of ['0.150.0', '0.158.0']) {
      expect(keeps({ threshold_ms: 1500, upper_threshold_ms: 2000 }, v)).toBe(false);
      expect(keeps({ threshold_ms: 1000, upper_threshold_ms: 1500 }, v)).toBe(true);
      expect(keeps({ threshold_ms: 1000, upper_threshold_ms: 1499 }, v)).toBe(false);
    }
    // Unknown: the catalog pins 0.158.0, and the description says whose rule it used.
    expect(keeps({ threshold_ms: 1500 })).toBe(false);
    const described = samplingOracle(config([{ name: 'l', type: 'latency', latency: { threshold_ms: 1 } }]), shape);
    expect(predictOf(described).describe).toMatch(
      /rules of collector 0\.158\.0 \(the catalog's pin: the running version is unknown\)/,
    );
    const given = samplingOracle(config([{ name: 'l', type: 'latency', latency: { threshold_ms: 1 } }]), shape, {
      collectorVersion: '0.156.0',
    });
    expect(predictOf(given).describe).toMatch(/rules of collector 0\.156\.0$/);
  });

  it('reads decision_wait as Go does', () => {
    for (const [text, ms] of Object.entries(goDurations.milliseconds))
      expect(goDurationMs(text), `'${text}'`).toBe(ms ?? undefined);
    expect(goDurationMs(90_000_000_000)).toBe(90_000); // a YAML integer is nanoseconds
    const wait = (decisionWait: string) =>
      samplingOracle(config([{ name: 'a', type: 'always_sample' }], decisionWait), shape);
    expect(predictOf(wait('1m30s')).decisionWaitMs).toBe(90_000);
    expect(predictOf(wait('1m30s')).describe).toMatch(/decision_wait 90 s/);
    expect(predictOf(wait('1h0m0.5s')).decisionWaitMs).toBe(3_600_500);
    expect(predictOf(wait('1500ms')).decisionWaitMs).toBe(1_500);
    expect(wait('1d')).toEqual({
      kind: 'unsupported',
      reason: "the collector: processor tail_sampling: decision_wait '1d' is not a Go duration cannot be predicted",
    });
  });
});

describe('the trace-sampling oracle of a whole path', () => {
  const sampler = (percentage: number, hashSeed: number, extra: object = {}) => ({
    probabilistic_sampler: { sampling_percentage: percentage, hash_seed: hashSeed, ...extra },
  });

  it("predicts the probabilistic_sampler's hash_seed decisions as Go makes them", () => {
    const all = seqsUpTo(hashSeedVectors.traces);
    for (const c of hashSeedVectors.cases) {
      const s = predictOf(
        traceSamplingOf([tracesConfig(sampler(c.percentage, c.hashSeed))], shape, hashSeedVectors.runId),
      );
      const expected = c.sampledSeqs ?? all.filter((x) => !c.notSampledSeqs!.includes(x));
      expect(
        keptSeqs((x) => s.keep(x), hashSeedVectors.traces),
        `${c.percentage}% seed ${c.hashSeed}`,
      ).toEqual(expected);
    }
    // The mode applies when none is set and when it is named; the others are not predicted.
    expect(traceSamplingOf([tracesConfig(sampler(10, 1, { mode: 'hash_seed' }))], shape, 'r').kind).toBe('predict');
    expect(traceSamplingOf([tracesConfig(sampler(10, 1, { mode: 'proportional' }))], shape, 'r')).toEqual({
      kind: 'unsupported',
      reason: 'collector-1: processor probabilistic_sampler: mode proportional cannot be predicted',
    });
    expect(traceSamplingOf([tracesConfig(sampler(10, 1))], shape, 'r', { collectorVersion: '0.110.0' }).kind).toBe(
      'unsupported',
    );
  });

  it('keeps a trace only when every hop keeps it: gateways, then processors', () => {
    const c = hashSeedVectors.cases.find((x) => x.percentage === 33.3 && x.hashSeed === 22)!;
    const gateway = tracesConfig({ memory_limiter: {}, ...sampler(33.3, 22), batch: {} });
    const processor = tracesConfig({
      tail_sampling: {
        decision_wait: '5s',
        policies: [{ name: 'errors-or-slow', type: 'latency', latency: { threshold_ms: 1000 } }],
      },
    });
    const path = [
      { name: 'gateway-1', role: 'gateway', config: gateway },
      { name: 'gateway-2', role: 'gateway', config: gateway },
      { name: 'processor-1', role: 'processor', config: processor },
      { name: 'processor-2', role: 'processor', config: processor },
    ];
    const s = predictOf(traceSamplingOf(path, shape, hashSeedVectors.runId, { collectorVersion: '0.158.0' }));
    expect(keptSeqs((x) => s.keep(x), hashSeedVectors.traces)).toEqual(
      c.sampledSeqs!.filter((x) => traceTraits(x, shape).slow),
    );
    expect(s.decisionWaitMs).toBe(5_000);
    expect(s.describe).toMatch(/^gateway probabilistic_sampler: .* → processor tail_sampling: /);
    // Instances of one hop that drop differently, or whose configuration is partly unknown, cannot be predicted.
    const other = tracesConfig(sampler(10, 22));
    expect(
      traceSamplingOf([path[0]!, { ...path[1]!, config: other }, path[2]!], shape, 'r', {
        collectorVersion: '0.158.0',
      }),
    ).toEqual({ kind: 'unsupported', reason: 'the gateway collectors drop traces with different settings' });
    expect(traceSamplingOf([path[0]!, { ...path[1]!, config: undefined }, path[2]!], shape, 'r')).toEqual({
      kind: 'unsupported',
      reason: 'the gateway collectors drop traces but the configuration of gateway-2 is unknown',
    });
  });

  it('predicts filters that drop whole traces and names the ones it cannot', () => {
    const filter = (span: string[], name = 'filter/x') =>
      tracesConfig({ [name]: { error_mode: 'propagate', traces: { span } } });
    const identity = { serviceName: 'otel-harness-soak' };
    const bySeq = predictOf(
      traceSamplingOf([filter(['IsMatch(attributes["otel_harness.seq"], "^[0-9]*7$")'])], shape, 'r', identity),
    );
    expect(keptSeqs((x) => bySeq.keep(x), 100)).toEqual(seqsUpTo(100).filter((s) => s % 10 !== 7));
    const byRun = predictOf(
      traceSamplingOf(
        [
          filter([
            'resource.attributes["service.name"] == "otel-harness-soak" and attributes["otel_harness.seq"] == "3"',
          ]),
        ],
        shape,
        'r',
        identity,
      ),
    );
    expect(keptSeqs((x) => byRun.keep(x), 10)).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9]);
    // A condition that holds for no generated span drops nothing: the costly-filter variant's hashes.
    const costly = parse(readFileSync(join(process.cwd(), 'stacks/phase1/variants/costly-filter.yaml'), 'utf8')) as {
      merge: { processors: Record<string, { traces: { span: string[] } }> };
    };
    const costlySpan = costly.merge.processors['filter/costly']!.traces.span;
    expect(costlySpan).toHaveLength(16);
    expect(traceSamplingOf([filter(costlySpan, 'filter/costly')], shape, 'r')).toEqual({ kind: 'none' });
    const costlyAfterTransform = tracesConfig({ transform: {}, 'filter/costly': { traces: { span: costlySpan } } });
    expect(traceSamplingOf([costlyAfterTransform], shape, 'r')).toEqual({ kind: 'none' });
    // The sparse-loss variant's filter drops one span of some traces: loss, not a sampler's decision.
    const sparse = 'name == "soak-child-2" and IsMatch(SHA256(trace_id.string), "^fff")';
    const path = [
      { name: 'gateway-1', role: 'gateway', config: filter([sparse], 'filter/sparse-loss') },
      { name: 'processor-1', role: 'processor', config: undefined },
    ];
    expect(traceSamplingOf(path, shape, 'r')).toEqual({
      kind: 'unsupported',
      reason: `gateway-1: processor filter/sparse-loss: a condition that can drop part of a trace, '${sparse}', cannot be predicted`,
    });
    // Resource attributes the oracle does not know, and conditions after a processor that may change spans.
    expect(traceSamplingOf([filter(['resource.attributes["service.name"] == "x"'])], shape, 'r').kind).toBe(
      'unsupported',
    );
    const afterTransform = tracesConfig({
      transform: {},
      'filter/x': { traces: { span: ['attributes["otel_harness.seq"] == "3"'] } },
    });
    expect(traceSamplingOf([afterTransform], shape, 'r')).toEqual({
      kind: 'unsupported',
      reason:
        'collector-1: processor filter/x: \'attributes["otel_harness.seq"] == "3"\' reads spans after collector-1 transform, which may change them cannot be predicted',
    });
  });
});
