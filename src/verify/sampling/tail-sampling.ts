import { runTag, traceId, type TraceShape } from '../../../generators/index.js';
import { seqsOf, type SeqRange } from '../../load/ledger.js';
import { collectorStages } from './collector-stages.js';
import { traceModel, type Stage, type TraceModel } from './trace-model.js';

export { fnv1a64, probabilisticThreshold } from './trace-id-hash.js';
export { goDurationMs } from '../../options/go-duration.js';

/**
 * The decisions of one collector configuration's traces pipeline on the generated traces, predicted exactly
 * from it: its tail_sampling (drop policies first; otherwise kept when a policy samples; policies
 * always_sample, status_code, latency, probabilistic and `and` of those), probabilistic_sampler (hash_seed
 * mode) and filter (span conditions that drop whole traces) processors, in order; a trace is kept when every
 * one keeps it. Anything else makes the oracle unavailable, with the reason.
 */
export type SamplingOracle =
  | { kind: 'none' }
  | { kind: 'predict'; describe: string; decisionWaitMs: number; keep(seq: number, traceId: Uint8Array): boolean }
  | { kind: 'unsupported'; reason: string };

/** What the oracle may know besides the configurations; each absent piece narrows what it predicts. */
export interface SamplingOptions {
  /**
   * The contrib collector version running the configurations (a version or an image reference ending in
   * it, e.g. `stack.describe().versions.otelcol`); the catalog's otelcol pin when absent, said in `describe`.
   */
  collectorVersion?: string;
  /** service.name of the generated traces, for filter conditions on it. */
  serviceName?: string;
  /** Run id of the generated traces (samplingOracle only: traceSamplingOf takes it as an argument). */
  runId?: string;
}

function predicted(stages: readonly Stage[], models: readonly TraceModel[]): SamplingOracle {
  if (stages.length === 0) return { kind: 'none' };
  const versions = [...new Set(models.filter((m) => m.versionUsed()).map((m) => m.version().text))];
  const rules = versions.length === 0 ? '' : `; rules of collector ${versions.join(', ')}`;
  return {
    kind: 'predict',
    describe: stages.map((s) => s.describe).join(' → ') + rules,
    decisionWaitMs: stages.reduce((sum, s) => sum + s.decisionWaitMs, 0),
    keep: (seq, id) => stages.every((s) => s.keep(seq, id)),
  };
}

/**
 * The oracle of a collector configuration's traces pipeline, for traces of `shape`; `none` when it drops no
 * trace (or the configuration is unknown).
 */
export function samplingOracle(
  collectorConfig: string | undefined,
  shape: TraceShape,
  options: SamplingOptions = {},
): SamplingOracle {
  if (collectorConfig === undefined) return { kind: 'none' };
  const model = traceModel(shape, options.runId, options.serviceName, options.collectorVersion);
  const c = collectorStages('the collector', collectorConfig, model, undefined);
  if ('unsupported' in c) return { kind: 'unsupported', reason: `${c.unsupported} cannot be predicted` };
  return predicted(c.stages, [model]);
}

/**
 * What the harness knows of the sampling between its acknowledgement and the trace backend: nothing
 * samples (`none`), a decision predicted per trace (`predict`), or sampling it cannot predict
 * (`unsupported`, with the reason: absent traces then cannot be told from dropped ones).
 */
export type TraceSampling =
  | { kind: 'none' }
  | { kind: 'predict'; describe: string; decisionWaitMs: number; keep(seq: number): boolean }
  | { kind: 'unsupported'; reason: string };

/** A collector on the traces' path (a StackEndpoints collector fits). */
export interface CollectorOnPath {
  /** e.g. 'gateway-1': names it in reasons. */
  name: string;
  /** e.g. 'gateway', 'processor': consecutive collectors of one role are one hop. */
  role: string;
  /** Its effective configuration (YAML); undefined when unknown. */
  config: string | undefined;
  /** The contrib version it runs, when known (else SamplingOptions.collectorVersion). */
  version?: string;
}

/**
 * The sampling of the run's traces (`runId`, `shape`) on their way through `collectors`, from the first hop
 * to the last: consecutive collectors of one role are the instances of a hop, and a trace passes exactly
 * one of them, so they must drop traces alike. A trace is expected when every stage of every hop keeps it.
 * A hop whose configurations are all unknown is taken to drop nothing (and to change spans, for filters
 * after it); one that mixes known dropping configurations with unknown ones cannot be predicted.
 * `collectors` may also be bare configurations (undefined: unknown), the instances of a single hop.
 */
export function traceSamplingOf(
  collectors: readonly (string | undefined)[] | readonly CollectorOnPath[],
  shape: TraceShape,
  runId: string,
  options: SamplingOptions = {},
): TraceSampling {
  const path: CollectorOnPath[] = collectors.map((c, i) =>
    typeof c === 'object' ? c : { name: `collector-${i + 1}`, role: 'collector', config: c },
  );
  const hops: CollectorOnPath[][] = [];
  for (const c of path) {
    const last = hops.at(-1);
    if (last !== undefined && last[0]!.role === c.role) last.push(c);
    else hops.push([c]);
  }
  const stages: Stage[] = [];
  const models: TraceModel[] = [];
  let rewrittenBy: string | undefined;
  for (const hop of hops) {
    const known = hop.filter((c) => c.config !== undefined);
    if (known.length === 0) {
      rewrittenBy ??= `${hop[0]!.role} (configuration unknown)`;
      continue;
    }
    const results = known.map((c) => {
      const model = traceModel(shape, runId, options.serviceName, c.version ?? options.collectorVersion);
      models.push(model);
      return collectorStages(c.name, c.config!, model, rewrittenBy);
    });
    const bad = results.find((r) => 'unsupported' in r);
    if (bad !== undefined && 'unsupported' in bad)
      return { kind: 'unsupported', reason: `${bad.unsupported} cannot be predicted` };
    const ok = results as Exclude<(typeof results)[number], { unsupported: string }>[];
    const first = ok[0]!;
    const drops = first.stages.length > 0;
    if (drops && known.length < hop.length)
      return {
        kind: 'unsupported',
        reason: `the ${hop[0]!.role} collectors drop traces but the configuration of ${hop
          .filter((c) => c.config === undefined)
          .map((c) => c.name)
          .join(', ')} is unknown`,
      };
    if (ok.some((r) => r.signature !== first.signature || r.stages.length > 0 !== drops))
      return { kind: 'unsupported', reason: `the ${hop[0]!.role} collectors drop traces with different settings` };
    stages.push(
      ...first.stages.map((s) => (hops.length > 1 ? { ...s, describe: `${hop[0]!.role} ${s.describe}` } : s)),
    );
    rewrittenBy = first.rewrittenBy;
  }
  const oracle = predicted(stages, models);
  if (oracle.kind !== 'predict') return oracle;
  const tag = runTag(runId);
  const id = new Uint8Array(16);
  return {
    kind: 'predict',
    describe: oracle.describe,
    decisionWaitMs: oracle.decisionWaitMs,
    keep: (seq) => oracle.keep(seq, traceId(tag, seq, id)),
  };
}

/** How many of the seqs in `ranges` the sampling keeps (all of them when nothing samples). */
export function keptCount(ranges: readonly SeqRange[], sampling: TraceSampling): number {
  let n = 0;
  if (sampling.kind !== 'predict') {
    for (const r of ranges) n += r.count;
    return n;
  }
  for (const seq of seqsOf(ranges)) if (sampling.keep(seq)) n++;
  return n;
}
