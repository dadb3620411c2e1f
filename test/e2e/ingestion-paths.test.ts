import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { stacksDir } from '../../src/paths.js';
import type { StackObservation } from '../../src/observe/observer.js';
import { runCli, runReported, tempReportDir } from './support/cli.js';
import { harnessLeftovers, NOTHING_LEFT } from './support/leftovers.js';

interface AgentYaml {
  receivers: { filelog: { include: string[] } };
  processors: Record<string, unknown>;
  service: { pipelines: { logs: { processors: string[] } } };
}

/** A shipped agent configuration (stacks/phase1/`shipped`), changed by `edit`, written where the run can read it. */
function agentConfig<C = AgentYaml>(name: string, edit: (c: C) => void, shipped = 'agent.yaml'): string {
  const config = parse(readFileSync(join(stacksDir(), 'phase1', shipped), 'utf8')) as C;
  edit(config);
  const file = join(tempReportDir(), name);
  writeFileSync(file, stringify(config));
  return file;
}

function logFiles(observations: StackObservation[]): StackObservation {
  const o = observations.find((x) => x.name === 'log-files');
  expect(o, 'the log-files observation').toBeDefined();
  return o!;
}

describe('logs from container log files read by a node agent, metrics scraped by Prometheus (real stacks)', () => {
  it('CRI lines rotated during the load reach Loki through the filelog receiver, and scraped samples reach Prometheus at their tick times: every one, exactly (exit 0)', async () => {
    // One stack for both paths. Logs: 600 lines/s in 128 KiB files, kept 3. Metrics: 600 samples/s over 5 s
    // ticks, 3,000 series on 3 targets, ticks due at 0, 5, 10 and 15 s. The targets are down (answering 503)
    // from 6 s to 16 s: the tick of 10 s is never the newest while they serve — missed on each, not lost.
    const run = await runReported([
      'soak',
      '--log-source',
      'file',
      '--metric-source',
      'scrape',
      '--scrape-targets',
      '3',
      '--signals',
      'metrics,logs',
      '--rate',
      '1200',
      '--duration',
      '20s',
      '--log-rotate-size',
      '128Ki',
      '--log-rotate-files',
      '3',
      '--chaos',
      'outage:targets@6s+10s',
      // The missed tick is a quarter of the offered samples: not achieved, and not lost.
      '--min-achieved-ratio',
      '70%',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const r = run.result();
    const acked = r.load.signals.logs!.counts.acknowledged;
    expect(acked).toBe(12_000);
    expect(r.verification.signals.logs).toMatchObject({ backend: 'loki', expected: acked, found: acked, lost: 0 });
    const files = logFiles(r.observations);
    // 12,000 lines of ~270 bytes in 128 KiB files: about 24 rotations, all but 2 rotated files deleted.
    expect(files.figures.rotations).toBeGreaterThanOrEqual(15);
    expect(files.figures.filesDeleted).toBe(files.figures.rotations! - 2);
    expect(files.figures.linesWritten).toBeGreaterThanOrEqual(acked);
    expect(files.figures.agentRead).toBeGreaterThanOrEqual(files.figures.linesWritten!);
    // The canaries took the files' path too: written as lines, found in Loki.
    expect(r.latency.logs).toMatchObject({ backend: 'loki', timedOut: 0 });
    expect(r.latency.logs!.found).toBeGreaterThan(0);

    const served = r.load.signals.metrics!.counts.acknowledged;
    expect(served).toBe(3 * 3_000);
    expect(r.load.signals.metrics!.achievedRatio).toBeCloseTo(0.75, 2);
    expect(r.verification.signals.metrics).toMatchObject({
      backend: 'prometheus',
      expected: served,
      found: served,
      lost: 0,
    });
    expect(run.stderr).toMatch(
      /scrape targets: 9000 samples served in 9 scrapes with a new tick \(\d+ scrapes\); 3 of 12 target ticks never scraped/,
    );
    expect(r.chaos!.faults[0]).toMatchObject({ target: 'scrape-targets' });
    expect(r.chaos!.faults[0]!.error).toBeUndefined();
    expect(await harnessLeftovers(r.runId)).toEqual(NOTHING_LEFT);
  });

  it('a filter in the agent dropping 10 Docker json-file lines: exactly those lost, named (exit 4)', async () => {
    const planted = agentConfig('agent-planted.yaml', (c) => {
      c.processors['filter/rule9'] = {
        error_mode: 'ignore',
        logs: { log_record: ['IsMatch(attributes["otel_harness.seq"], "^1234[0-9]$")'] },
      };
      c.service.pipelines.logs.processors.splice(1, 0, 'filter/rule9');
    });
    const run = await runReported([
      'soak',
      '--log-source',
      'file',
      '--log-format',
      'docker',
      '--collector-config',
      `agent=${planted}`,
      '--signals',
      'logs',
      '--rate',
      '1000',
      '--duration',
      '15s',
    ]);
    expect(run.code, run.stderr).toBe(4);
    const r = run.result();
    const logs = r.verification.signals.logs!;
    expect(logs).toMatchObject({ lost: 10, lostRanges: [{ first: 12_340, count: 10 }], outcome: { status: 'fail' } });
    expect(logs.found).toBe(r.load.signals.logs!.counts.acknowledged - 10);
    expect(logs.evidence!.causes[0]!.hop).toBe('otel-agent processor filter/rule9');
    expect(logs.evidence!.causes[0]!.reason).toMatch(/^10 log records taken in and not passed on/);
  });

  it("seed 004's Promtail reads CRI lines rotated during the load into Loki; a drop stage planted in its pipeline loses exactly its 15 lines, named from its own counters (exit 4)", async () => {
    const planted = agentConfig<{ scrape_configs: { pipeline_stages: unknown[] }[] }>(
      'promtail-planted.yaml',
      (c) =>
        c.scrape_configs[0]!.pipeline_stages.push({
          drop: { expression: String.raw`seq=\d*481 `, drop_counter_reason: 'rule481' },
        }),
      'promtail.yaml',
    );
    const run = await runReported([
      'soak',
      '--log-source',
      'file',
      '--log-agent',
      'promtail',
      '--collector-config',
      `agent=${planted}`,
      '--signals',
      'logs',
      '--rate',
      '1000',
      '--duration',
      '15s',
      '--log-rotate-size',
      '1Mi',
      '--log-rotate-files',
      '3',
    ]);
    expect(run.code, run.stderr).toBe(4);
    const r = run.result();
    expect(r.stack.versions.promtail).toBe('3.5.0');
    const acked = r.load.signals.logs!.counts.acknowledged;
    expect(acked).toBe(15_000);
    const logs = r.verification.signals.logs!;
    expect(logs).toMatchObject({ backend: 'loki', lost: 15, outcome: { status: 'fail' } });
    expect(logs.lostRanges).toEqual(Array.from({ length: 15 }, (_, k) => ({ first: k * 1000 + 481, count: 1 })));
    expect(logs.found).toBe(acked - 15);
    expect(logs.evidence!.causes).toHaveLength(1);
    expect(logs.evidence!.causes[0]).toMatchObject({ hop: 'promtail pipeline stages', retryable: false });
    expect(logs.evidence!.causes[0]!.reason).toMatch(
      /^15 lines dropped by its pipeline stages \(logentry_dropped_lines_total by reason: rule481 15;/,
    );
    // The files rotated under it (~270-byte lines in 1 MiB files), and it read every line written.
    const files = logFiles(r.observations);
    expect(files.figures.rotations).toBeGreaterThanOrEqual(3);
    expect(files.figures.filesDeleted).toBe(files.figures.rotations! - 2);
    expect(files.figures.agentRead).toBeGreaterThanOrEqual(files.figures.linesWritten!);
    expect(files.figures.agentSent).toBe(files.figures.agentRead! - 15);
    expect(files.figures.agentStageDropped).toBe(15);
    expect(await harnessLeftovers(r.runId)).toEqual(NOTHING_LEFT);
  });

  it('rotate-storm: lines rotated away before the agent read them are lost, counted and named (exit 4)', async () => {
    const run = await runReported(['chaos', '--scenario', 'rotate-storm', '--duration', '10s']);
    expect(run.code, run.stderr).toBe(4);
    const r = run.result();
    const logs = r.verification.signals.logs!;
    const files = logFiles(r.observations);
    expect(logs.lost).toBeGreaterThan(0);
    expect(logs.found + logs.lost).toBe(r.load.signals.logs!.counts.acknowledged);
    // Nothing was lost after the agent: the pipeline gave up nothing and held nothing at the end.
    expect(logs.evidence).toMatchObject({ givenUp: 0, pendingAtMost: 0, lostAtLeast: logs.lost });
    // What the agent did not read (its own counters: written − read) is what Loki lacks, named as rotated
    // away. Its count is short by the lines it read twice at a rotation (a few), so it is compared, not equal.
    const unread = files.figures.linesWritten! - files.figures.agentRead!;
    expect(unread).toBeGreaterThan(logs.lost * 0.99);
    expect(unread).toBeLessThanOrEqual(logs.lost + 5); // canary lines rotated away count in `unread` only
    expect(logs.evidence!.causes[0]).toMatchObject({ hop: 'container log files → otel-agent', retryable: false });
    const named = Number(
      /^([\d,]+) log records never read: .* rotated away/
        .exec(logs.evidence!.causes[0]!.reason)?.[1]
        ?.replaceAll(',', ''),
    );
    expect(named).toBeGreaterThan(logs.lost * 0.99);
    expect(named).toBeLessThanOrEqual(logs.lost);
  });

  it('agent-kill: what the kill cost is counted exactly and attributed to it; the agent resumes from its checkpoint', async () => {
    const run = await runReported(['chaos', '--scenario', 'agent-kill', '--duration', '25s']);
    const r = run.result();
    const logs = r.verification.signals.logs!;
    expect(run.code, run.stderr).toBe(logs.lost === 0 ? 0 : 4);
    expect(logs.found + logs.lost).toBe(r.load.signals.logs!.counts.acknowledged);
    const fault = r.chaos!.faults[0]!;
    expect(fault).toMatchObject({ spec: 'kill:agent@10s', target: 'otel-agent' });
    expect(fault.readyAtMs).toBeGreaterThan(fault.startedAtMs!);
    // Every lost line was acknowledged around the kill: attributed to it, none left unexplained.
    expect(fault.attributed.logs?.lost ?? 0).toBe(logs.lost);
    // With its checkpoint the agent did not start over: it read far fewer lines again than it had read.
    const files = logFiles(r.observations);
    expect(files.figures.agentRestarts).toBe(1);
    expect(files.figures.readAgainAtLeast).toBeLessThan(1_000);
    expect(await harnessLeftovers(r.runId)).toEqual(NOTHING_LEFT);
  });

  it('an agent configuration that reads no file the harness writes: exit 2 before anything starts', async () => {
    const elsewhere = agentConfig('agent-elsewhere.yaml', (c) => {
      c.receivers.filelog.include = ['/var/log/containers/*.log'];
    });
    const run = await runCli([
      'soak',
      '--log-source',
      'file',
      '--collector-config',
      `agent=${elsewhere}`,
      '--signals',
      'logs',
      '--rate',
      '100',
      '--duration',
      '5s',
      '--report-dir',
      tempReportDir(),
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /its filelog receivers do not read \/var\/log\/pods\/otel-harness_otel-harness-loadgen_[0-9a-f-]+\/otel-harness-soak\/0\.log, where the harness writes the logs: filelog includes \[\/var\/log\/containers\/\*\.log\]/,
    );
    expect(run.stderr).not.toMatch(/starting/);
  });
});

describe("seed 004's metrics path: Prometheus scraping, remote-writing to Mimir (real stack)", () => {
  it('mimir-outage: Prometheus holds and retries while Mimir is down; every served sample ends in Mimir (exit 0)', async () => {
    const run = await runReported(['chaos', '--scenario', 'mimir-outage', '--duration', '35s']);
    expect(run.code, run.stderr).toBe(0);
    const r = run.result();
    const served = r.load.signals.metrics!.counts.acknowledged;
    expect(served).toBeGreaterThan(0);
    expect(r.verification.signals.metrics).toMatchObject({
      backend: 'mimir',
      expected: served,
      found: served,
      lost: 0,
    });
    const fault = r.chaos!.faults[0]!;
    expect(fault).toMatchObject({ spec: 'outage:mimir@15s+20s', target: 'mimir' });
    expect(fault.error).toBeUndefined();
    // Prometheus held what it scraped while Mimir was away: its remote write fell behind, then caught up.
    const rw = r.observations.find((o) => o.name === 'remote-write');
    expect(rw, 'the remote-write observation').toBeDefined();
    expect(rw!.figures.peakBehindSeconds).toBeGreaterThanOrEqual(10);
    expect(rw!.figures.samplesRetried).toBeGreaterThan(0);
    expect(rw!.figures.samplesSent).toBeGreaterThanOrEqual(served);
    expect(r.drain?.drained).toBe(true);
    expect(await harnessLeftovers(r.runId)).toEqual(NOTHING_LEFT);
  });
});
