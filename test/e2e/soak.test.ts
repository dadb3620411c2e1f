import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TracesBackend } from '../../src/stack/phase1/definition.js';
import { ARTIFACTS, checkInBrowser } from './support/browser.js';
import { runReported, seqs } from './support/cli.js';
import { harnessLeftovers, NOTHING_LEFT } from './support/leftovers.js';

/**
 * 3,000 items/s for 30 s across traces, metrics and logs: 6,000 traces, above the 5,000 that were once
 * sampled; every one is checked (the default), nothing estimated. The 5,000 metric series cycle through
 * the four metric types (series s is gauge, sum, histogram, exponential histogram for s mod 4 = 0…3).
 */
const RUN = ['--rate', '3000', '--duration', '30s', '--metric-types', 'gauge,sum,histogram,exponential_histogram'];
const PER_SIGNAL = 30_000;
const METRIC_SERIES = 5_000;
const SPANS_PER_TRACE = 5;
const everyHundredth = (s: number) => s > 0 && s % 100 === 0;

describe.each<TracesBackend>(['jaeger', 'tempo'])('soak on Phase 1 with %s', (traces) => {
  it('a clean run reports zero loss with exact counts (exit 0)', async () => {
    const run = await runReported(['soak', '--traces', traces, ...RUN]);
    expect(run.code, run.stderr).toBe(0);
    const r = run.result();
    expect(r.partial).toBe(false);
    expect(r.verdict).toEqual({ status: 'pass', exitCode: 0, reasons: [] });
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      const load = r.load.signals[signal]!;
      const v = r.verification.signals[signal]!;
      expect(load.counts.offered, signal).toBe(PER_SIGNAL);
      expect(load.counts.acknowledged, signal).toBe(PER_SIGNAL);
      expect(v.expected, signal).toBe(PER_SIGNAL);
      expect(v.found, signal).toBe(PER_SIGNAL);
      expect(v.lost, signal).toBe(0);
      expect(v.sample, signal).toBeUndefined(); // every item checked, nothing estimated
      // Duplicates: counted from the backends' ingest counters, or said to be not observable — never a bare 0.
      if (v.duplicates.delivered === null) expect(v.duplicates.deliveredNote, signal).toMatch(/^not observable: /);
      else expect(v.duplicates.delivered, signal).toBe(0);
    }
    const t = r.verification.signals.traces!;
    expect(t.backend).toBe(traces);
    expect(t.method).toContain('all 6000 acknowledged traces');
    expect(r.verification.signals.metrics!.method).toContain(
      `${METRIC_SERIES} series of gauge, sum, histogram, exponential_histogram`,
    );
    if (traces === 'tempo') expect(t.crossCheck).toMatchObject({ value: PER_SIGNAL, agrees: true });
    expect(r.verification.signals.logs!.figures.lokiCount).toBe(PER_SIGNAL);
    // Ingest volume where the backend counts bytes: Loki always, Tempo for traces; Jaeger counts none.
    expect(r.verification.ingestBytes.logs).toMatchObject({ backend: 'loki' });
    expect(r.verification.ingestBytes.logs!.bytes).toBeGreaterThan(PER_SIGNAL * 100);
    if (traces === 'tempo') expect(r.verification.ingestBytes.traces!.bytes).toBeGreaterThan(PER_SIGNAL * 100);
    else expect(r.verification.ingestBytes.traces).toBeUndefined();
    expect(r.drain?.drained).toBe(true);
    for (const c of Object.values(r.latency)) expect(c.found).toBeGreaterThan(0);
    expect(Object.keys(r.resources?.containers ?? {}).sort()).toEqual([traces, 'loki', 'otelcol', 'prometheus'].sort());
    expect(run.stdout).toMatch(/verdict: PASS \(exit 0\)/);
    expect(await harnessLeftovers(r.runId)).toEqual(NOTHING_LEFT);
    // The files a soak writes; its report.html draws its five charts in a real browser.
    const folder = join(run.dir, readdirSync(run.dir)[0]!);
    expect(readdirSync(folder).sort()).toEqual([
      'junit.xml',
      'ledger.json',
      'report.html',
      'result.json',
      'summary.md',
    ]);
    const drawn = await checkInBrowser(join(folder, 'report.html'), join(ARTIFACTS, `soak-${r.runId}.png`));
    expect(drawn).toEqual({ charts: 5, drawn: 5 });
  });

  it('planted loss (a filter dropping every 100th span and log record, histogram series …10) is reported exactly, named, exit 4', async () => {
    const run = await runReported(['soak', '--traces', traces, '--variant', 'planted-loss', ...RUN]);
    expect(run.code, run.stderr).toBe(4);
    const r = run.result();

    // What the filter must have dropped, from what the pipeline acknowledged.
    const ackedTraces = seqs(r.load.signals.traces!.idRanges.acknowledged);
    const droppedSpans = ackedTraces
      .flatMap((t) => Array.from({ length: SPANS_PER_TRACE }, (_, i) => t * SPANS_PER_TRACE + i))
      .filter(everyHundredth);
    const hitTraces = [...new Set(droppedSpans.map((s) => Math.floor(s / SPANS_PER_TRACE)))].sort((a, b) => a - b);
    const droppedLogs = seqs(r.load.signals.logs!.idRanges.acknowledged).filter(everyHundredth);
    expect(droppedSpans.length).toBeGreaterThan(100);

    const t = r.verification.signals.traces!;
    expect(t.lost).toBe(droppedSpans.length);
    expect(seqs(t.lostRanges)).toEqual(hitTraces);
    expect(t.lostExamples[0]).toMatch(/^trace [0-9a-f]{32} \(seq 20\): span 0 of 5 missing$/);
    const l = r.verification.signals.logs!;
    expect(l.lost).toBe(droppedLogs.length);
    expect(seqs(l.lostRanges)).toEqual(droppedLogs);
    expect(l.lostExamples.slice(0, 3)).toEqual(['log record seq 100', 'log record seq 200', 'log record seq 300']);
    // Metrics: every data point of the histogram series whose number ends in 10 (10, 110, … 4910).
    const droppedPoints = seqs(r.load.signals.metrics!.idRanges.acknowledged).filter(
      (seq) => (seq % METRIC_SERIES) % 100 === 10,
    );
    expect(droppedPoints.length).toBeGreaterThanOrEqual(250);
    const m = r.verification.signals.metrics!;
    expect(m.lost).toBe(droppedPoints.length);
    expect(seqs(m.lostRanges)).toEqual(droppedPoints);
    expect(m.lostExamples[0]).toMatch(/^sample series=10 \(histogram\) tick=0 /);
    expect(r.verdict.exitCode).toBe(4);
    // Each reason names the cause from the filter's own counters (all traffic: canaries it dropped too).
    expect(r.verdict.reasons).toEqual([
      expect.stringMatching(
        new RegExp(
          `^traces lost in ${traces}: ${droppedSpans.length} of ${PER_SIGNAL} — otelcol processor filter\\/planted-loss: \\d+ spans taken in and not passed on \\(its incoming − outgoing items, all traffic in the run's window\\); fix: check filter\\/planted-loss's conditions: it drops what they match \\(limit ≤ 0 \\(0 items\\)\\)$`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^metrics lost in prometheus: ${droppedPoints.length} of ${PER_SIGNAL} — otelcol processor filter\\/planted-loss: \\d+ samples taken in and not passed on`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^logs lost in loki: ${droppedLogs.length} of ${PER_SIGNAL} — otelcol processor filter\\/planted-loss: \\d+ log records taken in and not passed on \\(its incoming − outgoing items, all traffic in the run's window\\); fix: check filter\\/planted-loss's conditions: it drops what they match \\(limit ≤ 0 \\(0 items\\)\\)$`,
        ),
      ),
    ]);
    expect(await harnessLeftovers(r.runId)).toEqual(NOTHING_LEFT);
  });
});

describe('soak interrupted', () => {
  it('Ctrl-C during the load writes a partial result, removes everything and exits 130', async () => {
    const run = await runReported(['soak', '--rate', '500', '--duration', '2m'], {
      when: /load 5\/120 s/,
      signal: 'SIGINT',
    });
    expect(run.code, run.stderr).toBe(130);
    const r = run.result();
    expect(r.partial).toBe(true);
    expect(r.verdict.status).toBe('interrupted');
    expect(r.load.signals.logs!.counts.acknowledged).toBeGreaterThan(0);
    expect(r.load.signals.logs!.counts.offered).toBeLessThan((500 / 3) * 120);
    expect(existsSync(join(run.dir, readdirSync(run.dir)[0]!, 'summary.md'))).toBe(true);
    expect(await harnessLeftovers(r.runId)).toEqual(NOTHING_LEFT);
  });
});
