import {
  fileLogLine,
  fixedIntervalClock,
  LogBatchBuilder,
  MetricBatchBuilder,
  TraceBatchBuilder,
  traceShapeDefaults,
  type RunIdentity,
  type TraceShape,
} from '../../generators/index.js';
import type { ContainerLogWriter } from '../load/files/container-log-writer.js';
import type { Signal } from '../load/ledger.js';
import type { OtlpClient } from '../load/otlp/transport.js';
import { Histogram, type Percentiles } from '../stats/histogram.js';
import type { SignalBackend } from './backends/backend.js';

export interface CanaryReport {
  backend: string;
  sent: number;
  acknowledged: number;
  /** Queryable before the timeout. */
  found: number;
  timedOut: number;
  /** Write (acknowledgement) → queryable, ms. */
  latencyMs: Percentiles;
}

interface Probe {
  signal: Signal;
  backend: string;
  send(n: number): Promise<boolean>;
  queryable(n: number): Promise<boolean>;
}

export interface CanaryTargets {
  client: OtlpClient;
  /** The backend of each signal to probe. */
  backends: readonly SignalBackend[];
  /**
   * `--log-source file`: log canaries are lines of a container log of their own (its container named as the
   * canary service), read by the same agent as the load's, so their latency is the files' path.
   */
  logFiles?: ContainerLogWriter;
}

/** Canary identity: a separate service and instance, so canaries never count in the run's verification. */
export function canaryIdentity(runId: string): RunIdentity {
  return { runId: `${runId}-canary`, serviceName: CANARY_SERVICE_NAME };
}

export const CANARY_SERVICE_NAME = 'otel-harness-canary';

/** The canary traces' shape: one span, no error, not slow. */
export function canaryTraceShape(): TraceShape {
  return { ...traceShapeDefaults(), spansPerTrace: 1, attributesPerSpan: 0, errorFraction: 0, slowFraction: 0 };
}

function probes(
  runId: string,
  targets: CanaryTargets,
  intervalMs: number,
  startMs: number,
  traceKeep: ((seq: number) => boolean) | undefined,
): Probe[] {
  const identity = canaryIdentity(runId);
  const timeOfTick = fixedIntervalClock(startMs, intervalMs);
  return targets.backends.map((backend): Probe => {
    const queryable = (n: number) => backend.canary.queryable(identity.runId, identity.serviceName, n, timeOfTick(n));
    const post = async (body: Uint8Array) =>
      (await targets.client.post(backend.signal, body)).outcome === 'acknowledged';
    if (backend.signal === 'traces') {
      const builder = new TraceBatchBuilder(identity, canaryTraceShape());
      // Behind a tail sampler, only canaries it is predicted to keep are sent: the n-th probe is the
      // n-th trace it keeps.
      const seqOf = new Map<number, number>();
      let next = 0;
      return {
        signal: 'traces',
        backend: backend.name,
        send: (n) => {
          let seq = next;
          while (traceKeep !== undefined && !traceKeep(seq)) seq++;
          next = seq + 1;
          seqOf.set(n, seq);
          return post(builder.build(seq, 1, Date.now()).body);
        },
        queryable: (n) =>
          backend.canary.queryable(identity.runId, identity.serviceName, seqOf.get(n) ?? n, timeOfTick(n)),
      };
    }
    if (backend.signal === 'logs') {
      const shape = { bodyBytes: 0, severityText: 'INFO', seqBlockSize: 1_000_000 } as const;
      const files = targets.logFiles;
      if (files !== undefined)
        return {
          signal: 'logs',
          backend: backend.name,
          send: (n) => {
            try {
              files.write(identity.runId, n, [fileLogLine(identity.runId, n, shape.bodyBytes, shape.seqBlockSize)]);
              return Promise.resolve(true);
            } catch {
              return Promise.resolve(false);
            }
          },
          queryable,
        };
      const builder = new LogBatchBuilder(identity, shape);
      return {
        signal: 'logs',
        backend: backend.name,
        send: (n) => post(builder.build(n, 1, Date.now()).body),
        queryable,
      };
    }
    const builder = new MetricBatchBuilder(identity, { series: 1, intervalMs }, timeOfTick);
    return { signal: 'metrics', backend: backend.name, send: (n) => post(builder.build(n, 1).body), queryable };
  });
}

/**
 * Sends one canary per signal every `intervalMs` until `signal` aborts, then waits for outstanding ones
 * (up to `timeoutMs` each). Each acknowledged canary is polled every `pollMs` until queryable.
 */
export async function runCanaries(
  runId: string,
  targets: CanaryTargets,
  options: {
    intervalMs: number;
    pollMs: number;
    timeoutMs: number;
    stop: AbortSignal;
    /** Ends the wait for outstanding canaries early: they count as timed out (a pipeline that stalled). */
    giveUp?: AbortSignal;
    /** Tail sampling's predicted decision for canary trace `seq` (canaryTraceShape), when traces are sampled. */
    traceKeep?: (seq: number) => boolean;
  },
): Promise<Partial<Record<Signal, CanaryReport>>> {
  const startMs = Date.now();
  const list = probes(runId, targets, options.intervalMs, startMs, options.traceKeep);
  const reports = new Map<Signal, CanaryReport & { hist: Histogram }>();
  for (const p of list) {
    reports.set(p.signal, {
      backend: p.backend,
      sent: 0,
      acknowledged: 0,
      found: 0,
      timedOut: 0,
      latencyMs: new Histogram().percentiles(),
      hist: new Histogram(),
    });
  }
  const pending: Promise<void>[] = [];
  const one = async (p: Probe, n: number) => {
    const r = reports.get(p.signal)!;
    r.sent++;
    let acked = false;
    try {
      acked = await p.send(n);
    } catch {
      acked = false;
    }
    if (!acked) return;
    r.acknowledged++;
    const ackedAt = Date.now();
    while (Date.now() - ackedAt < options.timeoutMs && options.giveUp?.aborted !== true) {
      try {
        if (await p.queryable(n)) {
          r.found++;
          r.hist.record(Date.now() - ackedAt);
          return;
        }
      } catch {
        // backend busy or restarting: keep polling until the timeout
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs));
    }
    r.timedOut++;
  };
  for (let n = 0; !options.stop.aborted; n++) {
    for (const p of list) pending.push(one(p, n));
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        options.stop.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, options.intervalMs);
      options.stop.addEventListener('abort', done, { once: true });
    });
  }
  await Promise.all(pending);
  const out: Partial<Record<Signal, CanaryReport>> = {};
  for (const [signal, r] of reports) {
    const { hist, ...rest } = r;
    out[signal] = { ...rest, latencyMs: hist.percentiles() };
  }
  return out;
}
