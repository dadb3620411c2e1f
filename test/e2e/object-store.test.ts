import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Signal } from '../../src/load/ledger.js';
import type { SoakResult } from '../../src/report/result.js';
import { runReported } from './support/cli.js';
import { harnessLeftovers, NOTHING_LEFT } from './support/leftovers.js';

const RUN = [
  'soak',
  '--storage',
  's3',
  '--traces',
  'tempo',
  '--verify-from-store',
  '--rate',
  '600',
  '--duration',
  '10s',
];

function stored(r: SoakResult, signal: Signal) {
  const v = r.verification.signals[signal];
  expect(v?.fromStore, `${signal} verified from the store`).toBeDefined();
  return { v: v!, s: v!.fromStore! };
}

describe('Tempo and Loki on an S3 store (SeaweedFS), verified from the store after their ingesters hand over', () => {
  it('the store down under load, then flushed to, restarted with no local state and read from their buckets: every item found again, exactly (exit 0)', async () => {
    // object-store-outage in short: the ingesters keep taking writes while the store is away.
    const run = await runReported([...RUN, '--chaos', 'outage:object-store@2s+5s']);
    expect(run.code, run.stderr).toBe(0);
    const r = run.result();
    expect(r.stack.title).toMatch(/storage: S3, tempo-traces, loki-data/);
    expect(r.chaos!.faults.map((f) => [f.spec, f.error])).toEqual([['outage:object-store@2s+5s', undefined]]);
    for (const signal of ['traces', 'logs'] as const) {
      const { v, s } = stored(r, signal);
      const acked = r.load.signals[signal]!.counts.acknowledged;
      expect(acked).toBeGreaterThan(0);
      expect(v).toMatchObject({ expected: acked, found: acked, lost: 0 });
      expect(s).toMatchObject({ found: acked, lost: 0, lostRanges: [], outcome: { status: 'pass' } });
    }
    // The store's own counters: the flush wrote objects into both buckets.
    const traffic = r.verification.storeTraffic!['object-store']!;
    expect(traffic['s3_requests{type=PUT}']).toBeGreaterThan(0);
    expect(traffic['s3_bytes_received{bucket=tempo-traces}']).toBeGreaterThan(0);
    expect(traffic['s3_bytes_received{bucket=loki-data}']).toBeGreaterThan(0);
    expect(r.verification.storeRestarts!.map((x) => [x.service, x.bucket, x.handover])).toEqual([
      ['tempo', 'tempo-traces', 'flush'],
      ['loki', 'loki-data', 'flush'],
    ]);
    // Prometheus keeps its data on its volume: said, not verified twice.
    expect(r.verification.signals.metrics!.notes.join(' ')).toMatch(/not verified from the object store/);
    expect(readFileSync(join(run.dir, r.runId, 'summary.md'), 'utf8')).toMatch(
      /## Object storage \(--verify-from-store\)/,
    );
    expect(await harnessLeftovers(r.runId)).toEqual(NOTHING_LEFT);
  });

  it('killed without a flush, every item that lived only in an ingester is lost from the store: exactly all, named (exit 4)', async () => {
    const run = await runReported([...RUN, '--store-handover', 'kill']);
    expect(run.code, run.stderr).toBe(4);
    const r = run.result();
    for (const signal of ['traces', 'logs'] as const) {
      const { v, s } = stored(r, signal);
      const acked = r.load.signals[signal]!.counts.acknowledged;
      // Found before the kill, absent after — read twice more, 10 s apart: a short run's data is all
      // still in the ingesters' WAL.
      expect(s.found).toBe(0);
      expect(s.lost).toBe(acked);
      expect(v.lost).toBe(acked);
      expect(v.outcome).toMatchObject({ status: 'fail' });
      if (v.outcome.status === 'fail')
        expect(v.outcome.reason).toMatch(/lived only in its ingester \(memory and WAL\): killed without a flush/);
    }
    expect(r.verification.signals.metrics).toMatchObject({ lost: 0, outcome: { status: 'pass' } });
    expect(await harnessLeftovers(r.runId)).toEqual(NOTHING_LEFT);
  });
});
