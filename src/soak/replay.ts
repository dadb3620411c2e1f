import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configurationError } from '../harness-error.js';
import { Ledger, SIGNALS, type LedgerEntry, type Rejection, type Signal } from '../load/ledger.js';
import type { LoadSpec } from '../load/load-spec.js';
import type { StackEndpoints } from '../stack/stack.js';

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
}

export function replayOf(
  runId: string,
  ledger: Ledger,
  spec: LoadSpec,
  loadStartMs: number,
  backends: StackEndpoints['backends'],
): Replay {
  const signals = ledger.signals();
  return {
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
