import { describe, expect, it } from 'vitest';
import type { SoakResult } from '../../src/report/result.js';
import { runReported } from './support/cli.js';
import { harnessLeftovers, NOTHING_LEFT } from './support/leftovers.js';

const SIGNALS = ['traces', 'metrics', 'logs'] as const;

async function chaos(args: string[]): Promise<{ code: number | null; r: SoakResult; stderr: string }> {
  const run = await runReported(['chaos', ...args]);
  const r = run.result();
  expect(await harnessLeftovers(r.runId)).toEqual(NOTHING_LEFT);
  return { code: run.code, r, stderr: run.stderr };
}

function totals(r: SoakResult) {
  return Object.fromEntries(SIGNALS.map((s) => [s, r.verification.signals[s]!.lost])) as Record<
    (typeof SIGNALS)[number],
    number
  >;
}

describe('chaos on Phase 1 (real containers, real faults)', () => {
  it('a graceful collector restart mid-run loses nothing', async () => {
    // The preset's fault at 25 s, its load cut from 60 s to 45 s: 20 s after the restart is room to recover.
    const { code, r, stderr } = await chaos(['--scenario', 'collector-restart', '--duration', '45s']);
    expect(code, stderr).toBe(0);
    expect(totals(r)).toEqual({ traces: 0, metrics: 0, logs: 0 });
    const f = r.chaos!.faults[0]!;
    expect(f).toMatchObject({ action: 'restart', target: 'otelcol' });
    expect(f.error).toBeUndefined();
    expect(f.readyAtMs).toBeGreaterThan(f.startedAtMs!);
    expect(f.recovery.traces?.seconds).toBeDefined();
    expect(f.endedAtMs).toBeGreaterThan(f.startedAtMs!);
    expect(f.readyAtMs).toBeGreaterThanOrEqual(f.endedAtMs!);
  });

  it('SIGKILL with the hardened variant loses nothing acknowledged; duplicates are reported, not counted as loss', async () => {
    const { code, r, stderr } = await chaos([
      '--scenario',
      'collector-kill',
      '--variant',
      'hardened',
      '--duration',
      '45s',
    ]);
    expect(code, stderr).toBe(0);
    expect(totals(r)).toEqual({ traces: 0, metrics: 0, logs: 0 });
    expect(r.chaos!.variant).toBe('hardened');
    const f = r.chaos!.faults[0]!;
    expect(f).toMatchObject({ action: 'kill', target: 'otelcol' });
    expect(f.error).toBeUndefined();
    // Query-visible duplicates are attributed item by item; deliveries counted by the backends are reported.
    const duplicates = SIGNALS.reduce((n, s) => n + (r.verification.signals[s]!.duplicates.queryVisible ?? 0), 0);
    const attributedDuplicates = SIGNALS.reduce((n, s) => n + (f.attributed[s]?.duplicates ?? 0), 0);
    expect(attributedDuplicates + SIGNALS.reduce((n, s) => n + (r.chaos!.unattributed[s]?.duplicates ?? 0), 0)).toBe(
      duplicates,
    );
    // The killed collector's counters are joined across its restart (read just before the kill): a figure,
    // or an upper bound when it sent in the moment between that reading and the kill — never more than the
    // backend holds of the run.
    for (const s of ['traces', 'logs'] as const) {
      const d = r.verification.signals[s]!.duplicates;
      const figure = d.delivered ?? d.deliveredAtMost;
      expect(figure, `${s}: ${d.deliveredNote}`).toBeDefined();
      expect(figure!).toBeLessThanOrEqual(r.verification.signals[s]!.found);
    }
    expect(r.verdict.status).toBe('pass');
  });

  it('SIGKILL with the seed variant: the loss is measured, accounted exactly and attributed to the kill', async () => {
    const { code, r, stderr } = await chaos(['--scenario', 'collector-kill', '--duration', '45s']);
    const lost = totals(r);
    const f = r.chaos!.faults[0]!;
    expect(f).toMatchObject({ action: 'kill', target: 'otelcol' });
    expect(f.error).toBeUndefined();
    expect(lost.traces + lost.metrics + lost.logs).toBeGreaterThan(0); // the batch processor held acknowledged data
    expect(code, stderr).toBe(4);
    for (const s of SIGNALS) {
      // every lost item is attributed, to the kill, and nothing is counted twice
      expect((f.attributed[s]?.lost ?? 0) + (r.chaos!.unattributed[s]?.lost ?? 0), s).toBe(lost[s]);
      expect(r.chaos!.unattributed[s]?.lost ?? 0, s).toBe(0);
      expect(r.verification.signals[s]!.found + lost[s], s).toBe(r.verification.signals[s]!.expected);
      const a = f.attributed[s];
      if (a !== undefined && a.lost > 0) {
        // acknowledged before the kill, within the batch processor's 5 s (plus an export in flight)
        expect(a.ackToMs!, s).toBeLessThanOrEqual(500);
        expect(a.ackFromMs!, s).toBeGreaterThanOrEqual(-7_000);
      }
    }
    expect(f.explanations.join(' ')).toMatch(
      /lost at the SIGKILL .*batch processor acknowledges before the persistent queue/,
    );
  });
});
