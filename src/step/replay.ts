import { withoutSecrets } from '../stack/collector-secrets.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configurationError } from '../harness-error.js';
import { Ledger, SIGNALS, type LedgerEntry, type Rejection, type Signal } from '../load/ledger.js';
import type { LoadSpec } from '../load/load-spec.js';
import type { StackEndpoints, StartedStack } from '../stack/stack.js';
import type { RunIdentity, TraceShape } from '../../generators/index.js';
import { traceSamplingOf, type CollectorOnPath, type TraceSampling } from '../verify/sampling/tail-sampling.js';

export const LEDGER_FILE = 'ledger.json';

/**
 * What `verify --run-id` needs to verify a finished run again: the ledger (every batch's seq range, outcome,
 * answer time and declared rejections), the load it came from, when it started, and where its backends are.
 */
export interface Replay {
  runId: string;
  loadStartMs: number;
  spec: LoadSpec;
  backends: StackEndpoints['backends'];
  itemsPerSeq: Record<Signal, number>;
  entries: Partial<Record<Signal, LedgerEntry[]>>;
  rejections: Partial<Record<Signal, Rejection[]>>;
  /** The collectors the run's items passed, in path order, and their version: what sampling they were under. */
  path?: SamplingPath;
}

/** The collectors between the load and the backends, in path order, with their configurations and version. */
export interface SamplingPath {
  collectors: CollectorOnPath[];
  collectorVersion: string | undefined;
}

/** The stack's collectors in path order (gateways before processors) and the collector version it runs. */
export function samplingPathOf(stack: Pick<StartedStack, 'endpoints' | 'describe'>): SamplingPath {
  const version = stack.describe().versions.otelcol;
  return {
    collectors: stack.endpoints().collectors.map((c) => ({ name: c.name, role: c.role, config: c.config })),
    collectorVersion: version !== undefined && /\d+\.\d+\.\d+/.test(version) ? version : undefined,
  };
}

/** What sampling and filtering along `path` keep of traces of `shape` sent as `identity`. */
export function samplingOf(path: SamplingPath, shape: TraceShape, identity: RunIdentity): TraceSampling {
  return traceSamplingOf(path.collectors, shape, identity.runId, {
    serviceName: identity.serviceName,
    ...(path.collectorVersion === undefined ? {} : { collectorVersion: path.collectorVersion }),
  });
}

export function replayOf(
  runId: string,
  ledger: Ledger,
  spec: LoadSpec,
  loadStartMs: number,
  backends: StackEndpoints['backends'],
  path?: SamplingPath,
): Replay {
  const signals = ledger.signals();
  return {
    // The collectors' configurations without their credentials: a replay is a file users share.
    ...(path === undefined
      ? {}
      : {
          path: {
            ...path,
            collectors: path.collectors.map((c) => ({
              ...c,
              config: c.config === undefined ? undefined : withoutSecrets(c.config),
            })),
          },
        }),
    runId,
    loadStartMs,
    spec,
    backends,
    itemsPerSeq: { traces: ledger.itemsPer('traces'), metrics: 1, logs: 1 },
    entries: Object.fromEntries(signals.map((s) => [s, [...ledger.entriesOf(s)]])),
    rejections: Object.fromEntries(signals.map((s) => [s, [...ledger.rejectionsApart(s)]])),
  };
}

export function writeReplay(dir: string, replay: Replay): void {
  writeFileSync(join(dir, LEDGER_FILE), JSON.stringify(replay));
}

/** Reads reports/<runId>/ledger.json back into a ledger. */
export function readReplay(reportDir: string, runId: string): { replay: Replay; ledger: Ledger } {
  const path = join(reportDir, runId, LEDGER_FILE);
  if (!existsSync(path))
    throw configurationError(
      '--run-id',
      `a run with ${join(reportDir, runId, LEDGER_FILE)} (written by soak, chaos or k6 runs)`,
      runId,
    );
  const replay = JSON.parse(readFileSync(path, 'utf8')) as Replay;
  const ledger = new Ledger(replay.itemsPerSeq);
  for (const s of SIGNALS) {
    for (const e of replay.entries[s] ?? []) ledger.record(s, e);
    for (const r of replay.rejections[s] ?? []) ledger.recordRejection(s, r);
  }
  return { replay, ledger };
}
