import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileReadCondition } from '../../src/drain/file-read-condition.js';
import { AgentReadWatch } from '../../src/observe/agent-read-watch.js';
import { parsePrometheusText } from '../../src/observe/prometheus-text.js';
import { stacksDir } from '../../src/paths.js';
import { agentReadsNotHarnessFile } from '../../src/stack/log-agent.js';
import { promtailReadsNot } from '../../src/stack/promtail.js';
import { phase1Definition } from '../../src/stack/phase1/definition.js';
import { phase2Definition } from '../../src/stack/phase2/definition.js';
import { loadCatalog } from '../../src/images/catalog.js';

const PATH = '/var/log/pods/otel-harness_otel-harness-loadgen_uid/otel-harness-soak/0.log';

/** Promtail 3.5.0's own /metrics, in the shape it serves them (read from the image built here). */
function promtailMetrics(v: {
  started: number;
  read: number;
  sent: number;
  rateLimited?: number;
  stageDropped?: number;
  retries?: number;
}): string {
  return [
    `process_start_time_seconds ${v.started}`,
    `promtail_batch_retries_total{host="loki:3100",tenant=""} ${v.retries ?? 0}`,
    `promtail_dropped_entries_total{host="loki:3100",reason="ingester_error",tenant=""} 0`,
    `promtail_dropped_entries_total{host="loki:3100",reason="line_too_long",tenant=""} 0`,
    `promtail_dropped_entries_total{host="loki:3100",reason="rate_limited",tenant=""} ${v.rateLimited ?? 0}`,
    `promtail_dropped_entries_total{host="loki:3100",reason="stream_limited",tenant=""} 0`,
    `promtail_file_bytes_total{path="${PATH}"} 240`,
    `promtail_files_active_total 1`,
    `promtail_read_lines_total{path="${PATH}"} ${v.read}`,
    ...(v.stageDropped === undefined ? [] : [`logentry_dropped_lines_total{reason="rule481"} ${v.stageDropped}`]),
    `promtail_sent_entries_total{host="loki:3100"} ${v.sent}`,
    '',
  ].join('\n');
}

function watchOf(state: { text: string; nowMs: number }): AgentReadWatch {
  return new AgentReadWatch({
    metricsUrl: 'http://unused',
    pollMs: 1000,
    kind: 'promtail',
    read: () => Promise.resolve(parsePrometheusText(state.text)),
    now: () => state.nowMs,
  });
}

describe("Promtail's counters (--log-agent promtail)", () => {
  it('reads lines read, sent, dropped by reason and dropped by stages, and which files it tails', async () => {
    const state = {
      text: promtailMetrics({ started: 1000, read: 500, sent: 480, stageDropped: 20 }),
      nowMs: 1_100_000,
    };
    const watch = watchOf(state);
    expect(await watch.poll()).toBe(true);
    expect(watch.tails([PATH])).toBe(true);
    expect(watch.tails([PATH, '/var/log/pods/x/latency-canary/0.log'])).toBe(false);
    expect(watch.read()).toMatchObject({
      lines: 500,
      readingFiles: undefined,
      restarts: 0,
      passedOn: { sent: 480, dropped: 0, filtered: 20, filteredBy: { rule481: 20 }, retries: 0 },
    });
  });

  it('joins its counts across a restart (its start time moved on) and does not count what it read again as new', async () => {
    const state = { text: promtailMetrics({ started: 1000, read: 700, sent: 700 }), nowMs: 1_100_000 };
    const watch = watchOf(state);
    await watch.poll();
    state.text = promtailMetrics({ started: 1103, read: 300, sent: 300, rateLimited: 5 });
    state.nowMs = 1_105_000;
    await watch.poll();
    expect(watch.read()).toMatchObject({
      lines: 1000,
      restarts: 1,
      passedOn: { sent: 1000, dropped: 5, droppedBy: { rate_limited: 5 } },
    });
  });

  it('holds what it read and has not sent as queued in its client, and is done once sent and still', async () => {
    const state = { text: promtailMetrics({ started: 1000, read: 1000, sent: 600, retries: 2 }), nowMs: 1_100_000 };
    const watch = watchOf(state);
    const condition = fileReadCondition({
      name: 'promtail',
      watch,
      written: () => ({ lines: 1000, linesDeleted: 0 }),
      idleMs: 10_000,
      pollMs: 1000,
      now: () => state.nowMs,
    });
    const held = await condition.check();
    expect(held.idle).toBe(false);
    expect(held.signals?.logs?.queued).toEqual([
      expect.objectContaining({ component: 'promtail', queue: 'client batches (read, not sent yet)', size: 400 }),
    ]);
    expect(held.detail).toMatch(/400 lines read and not sent yet \(2 batch retries so far\)/);
    state.text = promtailMetrics({ started: 1000, read: 1000, sent: 1000, retries: 2 });
    state.nowMs += 1000;
    expect((await condition.check()).idle).toBe(false);
    state.nowMs += 2000;
    const done = await condition.check();
    expect(done.idle).toBe(true);
    expect(done.detail).toMatch(/read 1000 lines of 1000 written, sent 1000/);
  });

  it('waits for what it holds however long its retries back off, unless a restart made the count inexact', async () => {
    const state = { text: promtailMetrics({ started: 1000, read: 1000, sent: 900, retries: 7 }), nowMs: 1_100_000 };
    const condition = fileReadCondition({
      name: 'promtail',
      watch: watchOf(state),
      written: () => ({ lines: 1000, linesDeleted: 0 }),
      idleMs: 10_000,
      pollMs: 1000,
      now: () => state.nowMs,
    });
    expect((await condition.check()).idle).toBe(false);
    // Loki down: its next retry is minutes away. The 100 entries are still its, not lost.
    state.nowMs += 60_000;
    const waiting = await condition.check();
    expect(waiting.idle).toBe(false);
    expect(waiting.signals?.logs?.queued[0]).toMatchObject({ size: 100 });
    // Killed and started again (its start time moved): it re-read 50 lines and sent them; the 100 it held are gone.
    state.text = promtailMetrics({ started: 1_160, read: 50, sent: 50 });
    state.nowMs += 1000;
    expect((await condition.check()).idle).toBe(false);
    state.nowMs += 10_000;
    const given = await condition.check();
    expect(given.idle).toBe(true);
    expect(given.detail).toMatch(/100 of the 1050 lines it read neither sent nor dropped, across 1 restart\(s\)/);
  });
});

describe('a Promtail configuration must read the files the harness writes (exit 2 before the load)', () => {
  it('the shipped configuration reads them, in CRI and Docker formats', () => {
    const shipped = readFileSync(join(stacksDir(), 'phase1', 'promtail.yaml'), 'utf8');
    for (const format of ['cri', 'docker'] as const)
      expect(
        agentReadsNotHarnessFile(shipped, '/var/log/pods', {
          agent: 'promtail',
          format,
          maxBytes: 1 << 20,
          maxFiles: 5,
        }),
      ).toBeUndefined();
  });

  it('names the globs of a configuration that reads elsewhere, excludes the file, or finds files by Kubernetes discovery', () => {
    const job = (labels: string) =>
      `scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: [localhost]\n        labels: {${labels}}\n`;
    expect(promtailReadsNot(job(`__path__: /var/log/containers/*.log`), PATH)).toBe(
      `its scrape configs do not read ${PATH}, where the harness writes the logs: app reads /var/log/containers/*.log`,
    );
    expect(
      promtailReadsNot(
        job(`__path__: /var/log/pods/*/*/*.log, __path_exclude__: /var/log/pods/otel-harness_*/*/*.log`),
        PATH,
      ),
    ).toMatch(/excluding \/var\/log\/pods\/otel-harness_\*\/\*\/\*\.log$/);
    expect(promtailReadsNot(job(`__path__: /var/log/pods/**/*.log`), PATH)).toBeUndefined();
    expect(
      promtailReadsNot('scrape_configs:\n  - job_name: k8s\n    kubernetes_sd_configs: [{ role: pod }]\n', PATH),
    ).toMatch(/no scrape config has a static_configs entry with a __path__ label/);
    expect(promtailReadsNot('scrape_configs: [', PATH)).toMatch(/^it is not YAML/);
  });
});

describe('Promtail in the stack definitions (--log-agent promtail)', () => {
  it('Phase 1: Promtail reads the host directory and pushes to Loki; no collector agent unless one scrapes', () => {
    const d = phase1Definition({ traces: 'jaeger', agent: { hostDir: '/tmp/pods', reader: 'promtail' } });
    const promtail = d.services.find((s) => s.name === 'promtail')!;
    expect(promtail).toMatchObject({
      component: 'promtail',
      hostMounts: [{ source: '/tmp/pods', target: '/var/log/pods', readOnly: true }],
      dependsOn: ['loki'],
    });
    expect(promtail.files[0]!.content).toContain('url: http://loki:3100/loki/api/v1/push');
    expect(d.services.some((s) => s.name === 'otel-agent')).toBe(false);
    expect(d.collectors.map((c) => c.service)).toEqual(['otelcol']);
    expect(d.aliases.agent).toBe('promtail');
    expect(d.versions.promtail).toBe('3.5.0');
    // Scraping by the node agent as well: the collector agent scrapes, Promtail reads the files.
    const both = phase1Definition({
      traces: 'jaeger',
      scrapeTargets: ['h:1'],
      agent: { hostDir: '/tmp/pods', reader: 'promtail', scrape: true },
    });
    const agent = both.services.find((s) => s.name === 'otel-agent')!;
    expect(agent.hostMounts).toEqual([]);
    expect(both.services.some((s) => s.name === 'promtail')).toBe(true);
  });

  it('Phase 2: Promtail beside the gateways, pushing to Loki; the agent alias names it', () => {
    const d = phase2Definition(
      { gateways: 2, processors: 2, kafkaPort: 41234, agent: { hostDir: '/tmp/pods', reader: 'promtail' } },
      loadCatalog(),
    );
    expect(d.services.map((s) => s.name)).toContain('promtail');
    expect(d.services.some((s) => s.name === 'otel-agent')).toBe(false);
    expect(d.aliases.agent).toBe('promtail');
    expect(d.title).toMatch(/^Phase 2 \(Promtail → Loki; 2 gateways/);
  });
});
