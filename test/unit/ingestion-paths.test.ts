import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileLogLine, METRIC_NAME, seqOfLogLine, tickTimeMs } from '../../generators/index.js';
import { Ledger } from '../../src/load/ledger.js';
import { LiveCounters } from '../../src/load/live-counters.js';
import { ScrapeTargets } from '../../src/load/scrape/scrape-targets.js';
import { fileReadCondition } from '../../src/drain/file-read-condition.js';
import { AgentReadWatch } from '../../src/observe/agent-read-watch.js';
import { LogFileObserver } from '../../src/observe/log-file-observer.js';
import { agentBehind } from '../../src/capacity/capacity.js';
import {
  ContainerLogWriter,
  containerLogPath,
  formatContainerLine,
  rotatedName,
  type ContainerLogLayout,
} from '../../src/load/files/container-log-writer.js';
import type { Sample } from '../../src/observe/prometheus-text.js';
import { byteSize } from '../../src/options/option-table.js';
import { agentReadsNot, harnessLogLayout, podUid } from '../../src/stack/log-agent.js';
import { globRegExp } from '../../src/stack/glob.js';
import { ScrapeTargetFaults } from '../../src/stack/phase1/scrape-target-faults.js';
import type { FaultTarget } from '../../src/stack/stack.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function layout(overrides: Partial<ContainerLogLayout> = {}): ContainerLogLayout {
  const root = mkdtempSync(join(tmpdir(), 'log-files-test-'));
  dirs.push(root);
  return harnessLogLayout(root, 'run-1', {
    agent: 'filelog',
    format: 'cri',
    maxBytes: 4096,
    maxFiles: 3,
    ...overrides,
  });
}

describe('container log lines', () => {
  it('writes CRI and Docker json-file lines as the runtimes do', () => {
    const at = Date.parse('2026-12-07T11:00:00.123Z');
    expect(formatContainerLine('cri', 'hello', at)).toBe('2026-12-07T11:00:00.123000000Z stdout F hello\n');
    expect(JSON.parse(formatContainerLine('docker', 'hello', at))).toEqual({
      log: 'hello\n',
      stream: 'stdout',
      time: '2026-12-07T11:00:00.123000000Z',
    });
    expect(rotatedName(at)).toBe('0.log.20261207-110000');
  });

  it('carries run, seq and seq block at the head of the line, found again by the verifiers', () => {
    const line = fileLogLine('r1', 2345, 200, 1000);
    expect(line.startsWith('otel-harness run=r1 seq=2345 block=2 ')).toBe(true);
    expect(line).toHaveLength(200);
    expect(seqOfLogLine(line, 'r1')).toBe(2345);
    expect(seqOfLogLine(line, 'r2')).toBeUndefined();
  });

  it('with --payload web, writes the service’s JSON request log after the identity', () => {
    const line = fileLogLine('r1', 2345, 200, 1000, true);
    expect(line.startsWith('otel-harness run=r1 seq=2345 block=2 {')).toBe(true);
    const json = JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>;
    expect(json).toMatchObject({ 'otel_harness.seq': 2345, logger: 'shop.cart.http' });
    expect(json['http.response.status_code']).toBeTypeOf('number');
    expect(seqOfLogLine(line, 'r1')).toBe(2345);
  });

  it('lays the files out as the kubelet does, with a UUID-shaped pod UID', () => {
    const l = layout();
    expect(podUid('run-1')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(containerLogPath(l, '/var/log/pods')).toBe(
      `/var/log/pods/otel-harness_otel-harness-loadgen_${podUid('run-1')}/otel-harness-soak/0.log`,
    );
  });
});

describe('ContainerLogWriter', () => {
  it('rotates by size into 0.log.<time>, keeps maxFiles files and counts the lines it deleted', () => {
    let now = Date.parse('2026-12-07T11:00:00Z');
    const l = layout({ maxBytes: 1000, maxFiles: 3 });
    const w = new ContainerLogWriter(l, () => (now += 1000));
    const lines = (first: number) => Array.from({ length: 5 }, (_, i) => fileLogLine('run-1', first + i, 100, 1000));
    for (let b = 0; b < 10; b++) w.write('run-1', b * 5, lines(b * 5));
    w.close();
    const files = readdirSync(w.dir).sort();
    // Each batch of 5 lines is ~650 bytes: one batch per file; 10 batches → 9 rotations, 3 files kept.
    expect(files).toHaveLength(3);
    expect(files).toContain('0.log');
    expect(files.filter((f) => /^0\.log\.\d{8}-\d{6}$/.test(f))).toHaveLength(2);
    const stats = w.snapshot();
    expect(stats).toMatchObject({ lines: 50, rotations: 9, filesDeleted: 7, linesDeleted: 35 });
    expect(w.deletedRanges('run-1')).toEqual(Array.from({ length: 7 }, (_, i) => ({ first: i * 5, count: 5 })));
    // What is left on disk is exactly the last 15 lines, in order, each a whole CRI line.
    const kept = files
      .sort((a, b) => (a === '0.log' ? 1 : b === '0.log' ? -1 : a.localeCompare(b)))
      .flatMap((f) => readFileSync(join(w.dir, f), 'utf8').trimEnd().split('\n'));
    expect(kept.map((line) => seqOfLogLine(line.split(' stdout F ')[1]!, 'run-1'))).toEqual(
      Array.from({ length: 15 }, (_, i) => 35 + i),
    );
  });

  it('writes one file without rotating while under the size', () => {
    const w = new ContainerLogWriter(layout({ maxBytes: 1 << 20 }));
    w.write('run-1', 0, ['a', 'b']);
    w.write('run-1', 2, ['c']);
    w.close();
    expect(readdirSync(w.dir)).toEqual(['0.log']);
    expect(w.snapshot()).toMatchObject({ lines: 3, rotations: 0, filesDeleted: 0, linesDeleted: 0 });
  });
});

describe('agent configuration check', () => {
  const path =
    '/var/log/pods/otel-harness_otel-harness-loadgen_0a1b2c3d-0000-0000-0000-000000000000/otel-harness-soak/0.log';
  const config = (include: string, exclude = '[]', pipeline = '[filelog]') => `
receivers:
  filelog:
    include: [${include}]
    exclude: ${exclude}
  otlp: {}
service:
  pipelines:
    logs:
      receivers: ${pipeline}
      exporters: [debug]
`;

  it('matches globs as doublestar does', () => {
    expect(globRegExp('/var/log/pods/*/*/*.log').test(path)).toBe(true);
    expect(globRegExp('/var/log/**/*.log').test(path)).toBe(true);
    expect(globRegExp('/var/log/pods/*/{app,otel-harness-soak}/[0-9].log').test(path)).toBe(true);
    expect(globRegExp('/var/log/pods/*.log').test(path)).toBe(false);
    expect(globRegExp('/var/log/containers/*.log').test(path)).toBe(false);
  });

  it("accepts a configuration whose filelog receiver includes the harness's file", () => {
    expect(agentReadsNot(config('/var/log/pods/*/*/*.log'), path)).toBeUndefined();
    expect(agentReadsNot(readFileSync('stacks/phase1/agent.yaml', 'utf8'), path)).toBeUndefined();
  });

  it('says why a configuration reads no file the harness writes', () => {
    expect(agentReadsNot(config('/var/log/containers/*.log'), path)).toMatch(
      /do not read .*otel-harness-soak\/0\.log.*filelog includes \[\/var\/log\/containers\/\*\.log\]/,
    );
    expect(agentReadsNot(config('/var/log/pods/*/*/*.log', '[/var/log/pods/otel-harness_*/*/*.log]'), path)).toMatch(
      /excludes/,
    );
    expect(agentReadsNot(config('/var/log/pods/*/*/*.log', '[]', '[otlp]'), path)).toMatch(
      /no logs pipeline has a filelog receiver \(logs pipelines' receivers: otlp\)/,
    );
  });

  it('parses Kubernetes-style sizes', () => {
    expect(byteSize(4096)('10Mi', '--log-rotate-size')).toBe(10 * 1024 * 1024);
    expect(byteSize(4096)('256Ki', '--log-rotate-size')).toBe(262_144);
    expect(byteSize(4096)('5000', '--log-rotate-size')).toBe(5000);
    expect(() => byteSize(4096)('1Ki', '--log-rotate-size')).toThrow(/at least 4096 bytes/);
    expect(() => byteSize(4096)('ten', '--log-rotate-size')).toThrow(/--log-rotate-size/);
  });
});

describe('fileReadCondition', () => {
  const metrics = (accepted: number, uptime: number, reading = 0): Sample[] => [
    { name: 'otelcol_receiver_accepted_log_records', labels: { receiver: 'filelog', transport: '' }, value: accepted },
    // Another receiver's records are not lines read from the files.
    { name: 'otelcol_receiver_accepted_log_records', labels: { receiver: 'otlp', transport: 'grpc' }, value: 999 },
    { name: 'otelcol_process_uptime', labels: {}, value: uptime },
    { name: 'otelcol_fileconsumer_reading_files', labels: {}, value: reading },
  ];
  const setup = (state: {
    accepted: number;
    uptime: number;
    reading?: number;
    written: number;
    deleted: number;
    now: number;
  }) => {
    const watch = new AgentReadWatch({
      metricsUrl: 'http://unused',
      pollMs: 1000,
      read: () => Promise.resolve(metrics(state.accepted, state.uptime, state.reading)),
      now: () => state.now,
    });
    const condition = fileReadCondition({
      name: 'agent',
      watch,
      written: () => ({ lines: state.written, linesDeleted: state.deleted }),
      idleMs: 10_000,
      pollMs: 1000,
      now: () => state.now,
    });
    return { watch, condition };
  };

  it('holds unread lines as queued until the agent read them all', async () => {
    const state = { accepted: 400, uptime: 100, reading: 1, written: 1000, deleted: 0, now: 0 };
    const { condition } = setup(state);
    const first = await condition.check();
    expect(first.idle).toBe(false);
    expect(first.signals?.logs?.queued).toEqual([
      expect.objectContaining({ component: 'agent', size: 600, unit: 'items', maxItems: 600, signal: 'logs' }),
    ]);
    expect(first.signals?.traces?.idle).toBe(true);
    // Still for long, but a file is open for reading (held back by its exporter): not given up on.
    state.now = 60_000;
    state.uptime = 160;
    expect((await condition.check()).idle).toBe(false);
    state.accepted = 1000;
    state.now = 61_000;
    state.uptime = 161;
    // It just read the last lines: done once its count stands still for 2 s.
    expect((await condition.check()).idle).toBe(false);
    state.now = 63_000;
    state.uptime = 163;
    const done = await condition.check();
    expect(done.idle).toBe(true);
    expect(done.detail).toMatch(/read 1000 lines of 1000 written/);
  });

  it('is not done while it reads on, though lines of other containers put its count past the lines written', async () => {
    const state = { accepted: 1100, uptime: 100, reading: 1, written: 1000, deleted: 0, now: 0 };
    const { condition } = setup(state);
    expect((await condition.check()).idle).toBe(false);
    for (const accepted of [1150, 1300, 1400]) {
      state.accepted = accepted;
      state.now += 1000;
      const reading = await condition.check();
      expect(reading.idle).toBe(false);
      expect(reading.detail).toMatch(/still reading/);
    }
    state.now += 2000;
    const done = await condition.check();
    expect(done.idle).toBe(true);
    expect(done.detail).toMatch(/400 more: lines read again, or lines of other containers/);
  });

  it('ends the wait on lines it will not read once its count stood still with no file being read', async () => {
    const state = { accepted: 900, uptime: 100, reading: 0, written: 1000, deleted: 100, now: 0 };
    const { condition } = setup(state);
    expect((await condition.check()).idle).toBe(false);
    state.now = 9_000;
    state.uptime = 109;
    expect((await condition.check()).idle).toBe(false);
    state.now = 10_000;
    state.uptime = 110;
    const given = await condition.check();
    expect(given.idle).toBe(true);
    expect(given.detail).toMatch(/100 of 1000 lines not counted as read, no more than the rotation deleted/);
  });

  it('joins its counts across a restart seen by the watch between two looks', async () => {
    const state = { accepted: 700, uptime: 100, written: 1000, deleted: 0, now: 0 };
    const { watch, condition } = setup(state);
    await watch.poll(); // during the load
    // Killed and started again: its counters and uptime begin from 0; it read 300 more since.
    state.accepted = 300;
    state.uptime = 3;
    state.now = 5_000;
    expect((await condition.check()).idle).toBe(false);
    expect(watch.read()).toMatchObject({ lines: 1000, restarts: 1, gapAtRestart: true });
    state.now = 7_000;
    state.uptime = 5;
    expect((await condition.check()).idle).toBe(true);
  });

  it('says the read position is not observable without filelog counters', async () => {
    const watch = new AgentReadWatch({ metricsUrl: 'http://unused', pollMs: 1, read: () => Promise.resolve([]) });
    const c = fileReadCondition({
      name: 'agent',
      watch,
      written: () => ({ lines: 10, linesDeleted: 0 }),
      idleMs: 1,
      pollMs: 1,
    });
    const state = await c.check();
    expect(state.idle).toBe(false);
    expect(state.unobservable).toMatch(/no read counters \(a filelog receiver.s, or Promtail.s\)/);
  });
});

describe('ScrapeTargets', () => {
  it('serves each tick of its series once as new samples, at the tick time, recorded in the ledger', async () => {
    const targets = await ScrapeTargets.listen('127.0.0.1', 2);
    try {
      const ledger = new Ledger({ traces: 1, metrics: 1, logs: 1 });
      const live = new LiveCounters();
      const startMs = Date.now() - 2_500;
      // 4 series, one tick every second: ticks 0, 1 and 2 came due by now.
      const shape = { series: 4, intervalMs: 1000 };
      const timeline = { startMs, profile: { kind: 'constant' as const }, rate: 4, durationMs: 60_000 };
      targets.arm({ runId: 'r1', shape, timeline, ledger, live, startMs });
      const [a, b] = targets.addresses();
      const first = await (await fetch(`http://${a}/metrics`)).text();
      const lines = first.trim().split('\n');
      expect(lines[0]).toBe(`# TYPE ${METRIC_NAME} gauge`);
      // Target 0 owns series 0 and 1; the newest due tick is 2: values are the seqs 8 and 9.
      expect(lines.slice(1)).toEqual([
        `${METRIC_NAME}{run_id="r1",series="0"} 8 ${tickTimeMs(2, shape, timeline)}`,
        `${METRIC_NAME}{run_id="r1",series="1"} 9 ${tickTimeMs(2, shape, timeline)}`,
      ]);
      // Scraped again before the next tick: the same samples, nothing new acknowledged.
      expect(await (await fetch(`http://${a}/metrics`)).text()).toBe(first);
      await fetch(`http://${b}/metrics`);
      expect(ledger.ranges('metrics', 'acknowledged')).toEqual([{ first: 8, count: 4 }]);
      const report = targets.disarm(startMs + 2_600)!;
      // Each target's ticks 0 and 1 were never scraped while they were the newest: missed, not lost.
      expect(report).toMatchObject({
        targets: 2,
        scrapes: 3,
        scrapesWithNewTick: 2,
        samplesServed: 4,
        ticksDue: 6,
        ticksMissed: 4,
      });
      expect(await (await fetch(`http://${a}/metrics`)).text()).toBe('');
    } finally {
      await targets.close();
    }
  });

  it('answers 503 and serves nothing while a fault holds them down, and resumes at the newest tick', async () => {
    const targets = await ScrapeTargets.listen('127.0.0.1', 1);
    try {
      const ledger = new Ledger({ traces: 1, metrics: 1, logs: 1 });
      const startMs = Date.now() - 1_500;
      const shape = { series: 2, intervalMs: 1000 };
      const timeline = { startMs, profile: { kind: 'constant' as const }, rate: 2, durationMs: 60_000 };
      targets.arm({ runId: 'r1', shape, timeline, ledger, live: new LiveCounters(), startMs });
      const [a] = targets.addresses();
      const docker = { targets: () => ['otelcol'], resolve: (t: string) => t } as unknown as FaultTarget;
      const faults = new ScrapeTargetFaults(docker, targets);
      expect(faults.targets()).toEqual(['otelcol', 'scrape-targets', 'targets']);
      await faults.stop('targets', 30);
      expect(await faults.ready('scrape-targets')).toBe(false);
      const down = await fetch(`http://${a}/metrics`);
      expect(down.status).toBe(503);
      expect(ledger.ranges('metrics', 'acknowledged')).toEqual([]);
      await faults.start('targets');
      expect(await faults.ready('targets')).toBe(true);
      expect(await (await fetch(`http://${a}/metrics`)).text()).toContain(' 2 ');
      expect(ledger.ranges('metrics', 'acknowledged')).toEqual([{ first: 2, count: 2 }]);
    } finally {
      await targets.close();
    }
  });
});

describe('LogFileObserver', () => {
  const stats = (lines: number) => ({ lines, bytes: lines * 100, rotations: 0, filesDeleted: 0, linesDeleted: 0 });

  it('counts lines read again from both counts’ beginnings, not from a base the once-a-second reading left behind', async () => {
    const state = { written: 5, read: 4, uptime: 10 };
    const watch = new AgentReadWatch({
      metricsUrl: 'http://unused',
      pollMs: 1000,
      read: () =>
        Promise.resolve<Sample[]>([
          { name: 'otelcol_receiver_accepted_log_records', labels: { receiver: 'filelog' }, value: state.read },
          { name: 'otelcol_process_uptime', labels: {}, value: state.uptime },
        ]),
    });
    await watch.poll(); // the last reading before the load: 4 of the 5 lines written so far
    const observer = new LogFileObserver(
      { written: () => stats(state.written), describe: 'cri lines', agent: 'agent' },
      watch,
    );
    observer.start(Date.now());
    state.written = 105;
    state.read = 105;
    state.uptime = 20;
    await watch.poll();
    const clean = await observer.stop();
    expect(clean.figures.readAgainAtLeast).toBe(0);
    expect(clean.lines.join('\n')).not.toMatch(/more than once/);

    // Restarted without its offsets: it read 45 lines a second time.
    state.read = 150;
    state.uptime = 30;
    await watch.poll();
    const again = await observer.stop();
    expect(again.figures.readAgainAtLeast).toBe(45);
    expect(again.lines.join('\n')).toMatch(/Read more than once: at least 45 lines/);
  });

  it('calls lines beyond those written neither duplicates nor lines read again when the agent reads other files too', async () => {
    const watch = new AgentReadWatch({
      metricsUrl: 'http://unused',
      pollMs: 1000,
      read: () =>
        Promise.resolve<Sample[]>([
          { name: 'otelcol_receiver_accepted_log_records', labels: { receiver: 'filelog' }, value: 1064 },
          { name: 'otelcol_process_uptime', labels: {}, value: 10 },
        ]),
    });
    await watch.poll();
    const observer = new LogFileObserver(
      { written: () => stats(1000), describe: 'cri lines', agent: 'node', otherFiles: "the node's other pods' logs" },
      watch,
    );
    observer.start(Date.now());
    const o = await observer.stop();
    expect(o.figures.readAgainAtLeast).toBeUndefined();
    expect(o.figures.readBeyondWritten).toBe(64);
    expect(o.lines.join('\n')).toMatch(
      /Read beyond the lines written: 64 .* lines of the node's other pods' logs, or lines read again/,
    );
  });
});

describe('capacity on the files’ path', () => {
  const step = (lagAtLoadEnd: number | undefined, offeredRps = 1000) =>
    ({
      observations:
        lagAtLoadEnd === undefined
          ? []
          : [{ name: 'log-files', title: '', lines: [], figures: { lagAtLoadEnd }, series: [] }],
      load: { signals: { logs: { offeredRps } } },
    }) as unknown as Parameters<typeof agentBehind>[0];

  it('calls a trial saturated when the agent left more than 2 s of lines unread as the load ended', () => {
    expect(agentBehind(step(2_000))).toBeUndefined();
    expect(agentBehind(step(2_001))).toBe(
      'logs: the node agent fell behind — 2,001 lines written and not read when the load ended (> 2 s of lines at 1000/s)',
    );
    // No log files in the run, or no reading at the load's end: nothing said.
    expect(agentBehind(step(undefined))).toBeUndefined();
  });
});
