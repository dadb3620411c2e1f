import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fileLogLine, runTag, traceId, traceShapeDefaults, traceTraits } from '../../generators/index.js';
import { collectorPipelineOf } from '../../src/stack/collector-pipeline.js';
import { fnv1a64, probabilisticThreshold } from '../../src/verify/sampling/tail-sampling.js';
import { runReported, seqs } from './support/cli.js';
import { harnessLeftovers, NOTHING_LEFT } from './support/leftovers.js';

const SPANS_PER_TRACE = 5;
const GROUPS = ['trace-processors/otlp-traces', 'metric-processors/otlp-metrics', 'log-processors/otlp-logs'];

/**
 * The seed's tail-sampling policies (errors, latency > 1000 ms, 10 % probabilistic with the default salt),
 * evaluated here on the generator's traits and the raw trace-id bytes — the test's own reading of the
 * collector's rules, not the harness's oracle.
 */
function keptBySeed(runId: string): (seq: number) => boolean {
  const shape = { ...traceShapeDefaults(), slowDurationMs: 1_500 };
  const tag = runTag(runId);
  const salt = fnv1a64(new TextEncoder().encode('default-hash-seed'));
  const threshold = probabilisticThreshold(0.1);
  return (seq) => {
    const t = traceTraits(seq, shape);
    return t.error || t.durationMs > 1_000 || fnv1a64(traceId(tag, seq), salt) <= threshold;
  };
}

describe('Phase 2: HAProxy → gateways → Kafka → tail-sampling processors → Tempo, Mimir, Loki', () => {
  it('a clean soak through Kafka counts every signal exactly, tail sampling included — again from the object store after the ingesters flushed and restarted empty — and leaves nothing', async () => {
    // The metric series cycle through the four metric types: Mimir's OTLP translation stores them all.
    // The backends keep their data in S3 buckets, as the seeds run them; every item is verified twice.
    const types = 'gauge,sum,histogram,exponential_histogram';
    const run = await runReported([
      'soak',
      '--phase',
      '2',
      '--storage',
      's3',
      '--verify-from-store',
      '--rate',
      '1500',
      '--duration',
      '25s',
      '--metric-types',
      types,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const r = run.result();
    expect(r.verdict.status).toBe('pass');
    expect(r.verification.signals.metrics!.method).toContain(`series of ${types.replaceAll(',', ', ')}`);
    for (const signal of ['metrics', 'logs'] as const) {
      const v = r.verification.signals[signal]!;
      expect(r.load.signals[signal]!.counts.acknowledged, signal).toBe(12_500);
      expect([v.expected, v.found, v.lost], signal).toEqual([12_500, 12_500, 0]);
    }
    expect(r.verification.signals.metrics!.backend).toBe('mimir');

    const acked = seqs(r.load.signals.traces!.idRanges.acknowledged);
    expect(acked.length).toBe(2_500);
    const kept = acked.filter(keptBySeed(r.runId));
    const t = r.verification.signals.traces!;
    expect(t.backend).toBe('tempo');
    expect([t.expected, t.found, t.lost]).toEqual([kept.length * SPANS_PER_TRACE, kept.length * SPANS_PER_TRACE, 0]);
    expect(t.sampling).toMatchObject({
      predictedKept: kept.length,
      predictedDropped: acked.length - kept.length,
      keptUnpredicted: 0,
    });
    expect(t.crossCheck).toMatchObject({ agrees: true, value: kept.length * SPANS_PER_TRACE });

    // Found again in mimir-blocks, tempo-traces and loki-data, read by backends with no local state.
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      const v = r.verification.signals[signal]!;
      expect(v.fromStore, signal).toMatchObject({ found: v.expected, lost: 0, outcome: { status: 'pass' } });
    }
    expect(r.verification.storeRestarts!.map((x) => x.bucket).sort()).toEqual([
      'loki-data',
      'mimir-blocks',
      'tempo-traces',
    ]);

    // Kafka lag was watched through the run and drained to 0 after the load for every group.
    const lag = r.observations.find((o) => o.name === 'kafka-lag')!;
    for (const group of GROUPS) expect(lag.figures[`${group} ms to 0 after load`], group).toBeGreaterThanOrEqual(0);
    expect(r.drain?.drained).toBe(true);
    expect(Object.keys(r.resources?.containers ?? {}).sort()).toEqual(
      [
        'gateway-1',
        'gateway-2',
        'haproxy',
        'kafka',
        'loki',
        'mimir',
        'object-store',
        'processor-1',
        'processor-2',
        'prometheus',
        'tempo',
      ].sort(),
    );
    expect(await harnessLeftovers(r.runId)).toEqual(NOTHING_LEFT);
  });

  it('log lines read from container log files by a node agent, some dropped by a processor (a rule on the body hash): the loss is reported exactly and named, exit 4', async () => {
    // The node agent (filelog) reads the harness's CRI files and forwards to HAProxy → gateways → Kafka →
    // processors, whose planted filter drops the records whose SHA-256 of the body starts ff0–ff7.
    const run = await runReported([
      'soak',
      '--phase',
      '2',
      '--variant',
      'sparse-log-loss',
      '--log-source',
      'file',
      '--signals',
      'logs',
      '--rate',
      '1500',
      '--duration',
      '20s',
    ]);
    expect(run.code, run.stderr).toBe(4);
    expect(run.stderr).toContain('Phase 2 (node agent → 2 gateways, 2 processors) ready');
    const r = run.result();
    const acked = seqs(r.load.signals.logs!.idRanges.acknowledged);
    expect(acked.length).toBe(30_000);
    // The variant's rule, evaluated here on every acknowledged line (the body the agent's parser leaves).
    const dropped = acked.filter((seq) =>
      /^ff[0-7]/.test(
        createHash('sha256')
          .update(fileLogLine(r.runId, seq, 200, 1000))
          .digest('hex'),
      ),
    );
    expect(dropped.length).toBeGreaterThan(20); // about 59 expected
    const v = r.verification.signals.logs!;
    expect(v.lost).toBe(dropped.length);
    expect(v.found).toBe(acked.length - dropped.length);
    expect(seqs(v.lostRanges)).toEqual(dropped);
    expect(v.lostExamples.length).toBeGreaterThan(0);
    // Named at the processors' filter, not at the agent (it read every line).
    expect(r.verdict.reasons.join('\n')).toMatch(
      /processor-\d processor filter\/sparse-log-loss: \d+ log records taken in and not passed on/,
    );
    const files = r.observations.find((o) => o.name === 'log-files')!;
    expect(files.figures.agentRead).toBeGreaterThanOrEqual(files.figures.linesWritten!);
    expect(files.figures.readAgainAtLeast).toBe(0);
    expect(await harnessLeftovers(r.runId)).toEqual(NOTHING_LEFT);
  });

  it('processor-kill: metrics and logs lose nothing, Kafka replays are counted apart, lost traces are the tail sampler’s', async () => {
    // The preset's kill at 40 s, its load cut from 90 s to 60 s (the drain waits for Kafka's lag anyway).
    const run = await runReported(['chaos', '--phase', '2', '--scenario', 'processor-kill', '--duration', '60s']);
    const r = run.result();
    expect(r.partial, run.stderr).toBe(false);
    for (const signal of ['metrics', 'logs'] as const) expect(r.verification.signals[signal]!.lost, signal).toBe(0);
    // Records after the last committed offset are read again: the processors accepted more from Kafka than
    // the gateways wrote to it — duplicates counted apart, never loss. The exporters count what they send
    // again, so Loki's ingest counter against theirs shows no extra delivery; the killed processor's
    // counters are joined across its restart (read just before the kill), never read from 0.
    const logs = r.verification.signals.logs!.duplicates;
    expect(logs.redelivered, logs.deliveredNote).toBeDefined();
    expect(logs.redelivered!.value).toBeLessThanOrEqual(r.verification.signals.logs!.found);
    expect(logs.delivered ?? logs.deliveredAtMost ?? 0).toBeLessThanOrEqual(r.verification.signals.logs!.found);
    // Kafka's redelivery count joins the killed processor's counters across its restart.
    expect(logs.redelivered!.note).toMatch(/counters joined across 1 restart\(s\)/);
    // Delivered more than once: joined across the restart too — or not observable when Loki itself failed
    // a push under this load (its received count then holds lines it did not store): never a figure read
    // from counters that started again from 0.
    expect(logs.deliveredNote).toMatch(
      /joined across 1 collector restart|restarted 1 time|^not observable: loki counted failed pushes/,
    );
    if (logs.deliveredNote.startsWith('not observable')) expect(logs.delivered).toBeNull();
    if (logs.redelivered!.value > 0)
      expect(r.chaos!.faults[0]!.explanations.join(' ')).toMatch(/log records read again from Kafka/);

    const fault = r.chaos!.faults[0]!;
    expect(fault).toMatchObject({ action: 'kill', target: 'processor-1' });
    expect(fault.readyAtMs).toBeDefined();
    const tracesLost = r.verification.signals.traces!.lost;
    // Whatever traces were lost are the ones the killed processor held: all attributed to the kill, and
    // acknowledged (by a gateway) no earlier than what the way from the gateway to the processor's exporter can
    // hold — the gateway's batch (1 s), the Kafka hop (1 s allowed), the processor's decision_wait (10 s), its
    // 1 s tick and its batch (5 s), read from the configurations.
    const holdOf = (file: string) => collectorPipelineOf(readFileSync(`stacks/phase2/${file}`, 'utf8'))!.holdMs.traces!;
    const heldMs = holdOf('gateway.yaml') + 1_000 + holdOf('processor.yaml');
    expect(heldMs).toBe(18_000);
    expect(r.chaos!.unattributed.traces?.lost ?? 0).toBe(0);
    if (tracesLost > 0) {
      const a = fault.attributed.traces!;
      expect(a.lost).toBe(tracesLost);
      expect(a.ackFromMs!).toBeGreaterThanOrEqual(-heldMs);
      expect(a.ackToMs!).toBeLessThanOrEqual(0);
      expect(fault.explanations.join(' ')).toMatch(/tail sampler held these traces for decision_wait \(10 s\)/);
    }
    expect(run.code, run.stderr).toBe(tracesLost > 0 ? 4 : 0);

    const lag = r.observations.find((o) => o.name === 'kafka-lag')!;
    for (const group of GROUPS) expect(lag.figures[`${group} ms to 0 after load`], group).toBeGreaterThanOrEqual(0);
    expect(await harnessLeftovers(r.runId)).toEqual(NOTHING_LEFT);
  });
});
