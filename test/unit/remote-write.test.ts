import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { stacksDir } from '../../src/paths.js';
import { agentConfigFor, scrapingReceivers } from '../../src/stack/agent-config.js';
import { resolveStack } from '../../src/stack/stack-options.js';
import { usage } from './support/usage.js';
import { remoteWriteCondition } from '../../src/drain/remote-write-condition.js';
import { RemoteWriteWatch } from '../../src/observe/remote-write-watch.js';
import type { Sample } from '../../src/observe/prometheus-text.js';
import { phase1Definition, REMOTE_WRITE_HOP } from '../../src/stack/phase1/definition.js';
import { upstreamCauses } from '../../src/step/verify-step.js';
import type { SignalBackend } from '../../src/verify/backends/backend.js';
import { inconclusiveVerification, type SignalVerification } from '../../src/verify/verification.js';

/** Prometheus's remote-write self-metrics of queue `mimir` (and of another queue, which must not count). */
function prometheus(s: {
  sent: number;
  failed?: number;
  pending: number;
  stored: number;
  highestSent: number;
  started: number;
}): Sample[] {
  const q = { remote_name: 'mimir', url: 'http://mimir:9009/api/v1/push' };
  return [
    { name: 'prometheus_remote_storage_samples_total', labels: q, value: s.sent },
    { name: 'prometheus_remote_storage_samples_total', labels: { remote_name: 'other', url: 'x' }, value: 999 },
    { name: 'prometheus_remote_storage_samples_failed_total', labels: q, value: s.failed ?? 0 },
    { name: 'prometheus_remote_storage_samples_retried_total', labels: q, value: 0 },
    { name: 'prometheus_remote_storage_samples_dropped_total', labels: q, value: 0 },
    { name: 'prometheus_remote_storage_samples_pending', labels: q, value: s.pending },
    { name: 'prometheus_remote_storage_highest_timestamp_in_seconds', labels: {}, value: s.stored },
    { name: 'prometheus_remote_storage_queue_highest_sent_timestamp_seconds', labels: q, value: s.highestSent },
    { name: 'process_start_time_seconds', labels: {}, value: s.started },
  ];
}

describe('RemoteWriteWatch', () => {
  it("joins Prometheus's sent and failed counts across a restart", async () => {
    const state = { sent: 100, pending: 0, stored: 1000, highestSent: 1000, started: 900, now: 1_000_000 };
    const watch = new RemoteWriteWatch({
      metricsUrl: 'http://unused',
      queue: 'mimir',
      pollMs: 1000,
      read: () => Promise.resolve(prometheus(state)),
      now: () => state.now,
    });
    expect(await watch.poll()).toBe(true);
    Object.assign(state, { sent: 600, now: 1_010_000 });
    await watch.poll();
    // Restarted at 1,015 s: its counters start again.
    Object.assign(state, { sent: 50, started: 1015, now: 1_020_000 });
    await watch.poll();
    expect(watch.state()).toMatchObject({ sent: 550, failed: 0, restarts: 1, pending: 0 });
  });

  it('says nothing when Prometheus has no such queue', async () => {
    const watch = new RemoteWriteWatch({
      metricsUrl: 'http://unused',
      queue: 'elsewhere',
      pollMs: 1000,
      read: () => Promise.resolve(prometheus({ sent: 1, pending: 0, stored: 1, highestSent: 1, started: 0 })),
    });
    expect(await watch.poll()).toBe(false);
    expect(watch.state()).toBeUndefined();
  });
});

describe('remoteWriteCondition', () => {
  it('holds metrics as queued while samples are pending or nothing newer than the drain was sent', async () => {
    const s = { sent: 100, pending: 2500, stored: 2000, highestSent: 1990, started: 0 };
    let now = 2_000_000;
    const watch = new RemoteWriteWatch({
      metricsUrl: 'http://unused',
      queue: 'mimir',
      pollMs: 1000,
      read: () => Promise.resolve(prometheus(s)),
      now: () => now,
    });
    const condition = remoteWriteCondition({
      name: 'prometheus',
      receiver: 'mimir',
      watch,
      pollMs: 1000,
      now: () => now,
    });
    const held = await condition.check();
    expect(held.idle).toBe(false);
    expect(held.signals?.metrics?.queued).toEqual([
      expect.objectContaining({ component: 'prometheus', size: 2500, unit: 'samples', signal: 'metrics' }),
    ]);
    expect(held.signals?.logs?.idle).toBe(true);
    // Nothing pending, but the newest sample sent is older than the drain: not read from its WAL yet.
    Object.assign(s, { pending: 0 });
    now = 2_001_000;
    const behind = await condition.check();
    expect(behind.idle).toBe(false);
    expect(behind.signals?.metrics?.queued[0]).toMatchObject({ unit: 'seconds behind', size: 10 });
    Object.assign(s, { sent: 5000, highestSent: 2001, stored: 2001 });
    now = 2_002_000;
    const done = await condition.check();
    expect(done.idle).toBe(true);
    expect(done.detail).toMatch(/caught up/);
  });

  it('is idle with samples pending when one shard sends and it sent a sample stamped after the drain began', async () => {
    const samples = [
      ...prometheus({ sent: 10, pending: 40, stored: 3001, highestSent: 3001, started: 0 }),
      { name: 'prometheus_remote_storage_shards', labels: { remote_name: 'mimir', url: 'x' }, value: 1 },
    ];
    const watch = new RemoteWriteWatch({
      metricsUrl: 'http://unused',
      queue: 'mimir',
      pollMs: 1000,
      read: () => Promise.resolve(samples),
    });
    const condition = remoteWriteCondition({
      name: 'prometheus',
      receiver: 'mimir',
      watch,
      pollMs: 1000,
      now: () => 3_000_000,
    });
    expect((await condition.check()).idle).toBe(true);
    // Several shards: one may still hold older samples while another sent a newer one.
    samples[samples.length - 1]!.value = 4;
    expect((await condition.check()).idle).toBe(false);
  });

  it('is not observable when Prometheus exposes no such queue', async () => {
    const watch = new RemoteWriteWatch({
      metricsUrl: 'http://unused',
      queue: 'mimir',
      pollMs: 1000,
      read: () => Promise.resolve([]),
    });
    const state = await remoteWriteCondition({ name: 'prometheus', receiver: 'mimir', watch, pollMs: 1000 }).check();
    expect(state.idle).toBe(false);
    expect(state.unobservable).toMatch(/no counters of its remote_write to mimir queue/);
  });
});

describe('upstream census', () => {
  const lostIn = (backend: string, ranges: { first: number; count: number }[]): SignalVerification => ({
    ...inconclusiveVerification('metrics', backend, 1000, ''),
    lost: ranges.reduce((n, r) => n + r.count, 0),
    lostRanges: ranges.map((r) => ({ ...r, requestId: 0 }) as never),
  });
  const prometheusBackend = { name: 'prometheus' } as SignalBackend;

  it('names the hop for samples the store before the backend holds, and the rest as lost before it', async () => {
    const mimir = lostIn('mimir', [{ first: 100, count: 10 }]);
    const causes = await upstreamCauses(mimir, { backend: prometheusBackend, hop: REMOTE_WRITE_HOP }, () =>
      Promise.resolve(lostIn('prometheus', [{ first: 105, count: 2 }])),
    );
    expect(causes.map((c) => c.hop)).toEqual(['prometheus → mimir (remote_write)', 'before prometheus']);
    expect(causes[0]!.reason).toMatch(/^8 samples stored in prometheus and absent from mimir/);
    expect(causes[1]!.reason).toMatch(/^2 samples absent from prometheus too/);
  });

  it('says so when the census of the store before fails, without a count', async () => {
    const causes = await upstreamCauses(
      lostIn('mimir', [{ first: 1, count: 3 }]),
      { backend: prometheusBackend, hop: 'h' },
      () => Promise.reject(new Error('connection refused')),
    );
    expect(causes).toHaveLength(1);
    expect(causes[0]!.reason).toMatch(
      /which of the 3 absent items reached prometheus is not known: .*connection refused/,
    );
  });
});

describe('Phase 1 with --remote-write mimir', () => {
  it("adds Mimir, Prometheus's remote_write with seed 004's queue, Mimir as the metrics backend and Prometheus before it", () => {
    const d = phase1Definition({ traces: 'jaeger', remoteWrite: 'mimir' });
    expect(d.services.map((s) => s.name)).toContain('mimir');
    const config = parse(d.services.find((s) => s.name === 'prometheus')!.files[0]!.content) as {
      remote_write: { name: string; url: string; queue_config: Record<string, unknown> }[];
    };
    expect(config.remote_write).toEqual([
      {
        name: 'mimir',
        url: 'http://mimir:9009/api/v1/push',
        queue_config: {
          capacity: 10000,
          max_shards: 20,
          min_shards: 1,
          max_samples_per_send: 5000,
          batch_send_deadline: '5s',
        },
      },
    ]);
    expect(d.backends.metrics).toMatchObject({ backend: 'mimir', queryPort: 9009 });
    expect(d.upstream?.metrics).toMatchObject({ backend: 'prometheus', queryPort: 9090, hop: REMOTE_WRITE_HOP });
    expect(d.services.find((s) => s.name === 'prometheus')!.dependsOn).toEqual(['mimir']);
    // Without it: no Mimir, Prometheus the backend, nothing before it.
    const plain = phase1Definition({ traces: 'jaeger' });
    expect(plain.services.map((s) => s.name)).not.toContain('mimir');
    expect(plain.backends.metrics?.backend).toBe('prometheus');
    expect(plain.upstream).toBeUndefined();
  });
});

describe('the node agent scraping the targets (--scraper agent)', () => {
  const shipped = readFileSync(join(stacksDir(), 'phase1', 'agent.yaml'), 'utf8');
  type Agent = {
    receivers: Record<string, { config?: { scrape_configs: { job_name: string; static_configs: unknown }[] } }>;
    service: { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
  };

  it('gives the shipped agent a prometheus receiver for the targets and drops its files without --log-source file', () => {
    const c = parse(
      agentConfigFor(shipped, { shipped: true, files: false, scrapeTargets: ['172.17.0.1:4000'] })!,
    ) as Agent;
    expect(Object.keys(c.receivers)).toEqual(['prometheus']);
    expect(c.receivers.prometheus!.config!.scrape_configs).toEqual([
      {
        job_name: 'otel-harness',
        scrape_interval: '1s',
        scrape_timeout: '1s',
        static_configs: [{ targets: ['172.17.0.1:4000'] }],
      },
    ]);
    expect(c.service.pipelines).toEqual({
      metrics: {
        receivers: ['prometheus'],
        processors: ['memory_limiter', 'filter/scrape-health'],
        exporters: ['otlp_grpc/collector'],
      },
    });
    // With the files too: both pipelines.
    const both = parse(agentConfigFor(shipped, { shipped: true, files: true, scrapeTargets: ['h:1'] })!) as Agent;
    expect(Object.keys(both.service.pipelines).sort()).toEqual(['logs', 'metrics']);
    // Files only: the shipped file as it is.
    expect(agentConfigFor(shipped, { shipped: true, files: true })).toBe(shipped);
  });

  it("adds the harness's job to a user's prometheus receiver, and finds none where there is none", () => {
    const mine = stringify({
      receivers: {
        'prometheus/node': { config: { scrape_configs: [{ job_name: 'node', static_configs: [] }] } },
        otlp: {},
      },
      exporters: { debug: {} },
      service: { pipelines: { metrics: { receivers: ['prometheus/node'], exporters: ['debug'] } } },
    });
    expect(scrapingReceivers(mine)).toEqual(['prometheus/node']);
    const c = parse(agentConfigFor(mine, { shipped: false, files: false, scrapeTargets: ['h:1'] })!) as Agent;
    expect(c.receivers['prometheus/node']!.config!.scrape_configs.map((j) => j.job_name)).toEqual([
      'node',
      'otel-harness',
    ]);
    const none = stringify({ receivers: { otlp: {} }, service: { pipelines: { metrics: { receivers: ['otlp'] } } } });
    expect(agentConfigFor(none, { shipped: false, files: false, scrapeTargets: ['h:1'] })).toBeUndefined();
  });

  it('takes the scrape job off Prometheus, builds the platform collector, and refuses --scraper agent without scraping', () => {
    const d = phase1Definition({ traces: 'jaeger', scrapeTargets: ['h:1'], agent: { scrape: true } });
    const prometheusConfig = d.services.find((s) => s.name === 'prometheus')!.files[0]!.content;
    expect(prometheusConfig).not.toContain("job_name: 'otel-harness'");
    expect(
      phase1Definition({ traces: 'jaeger', scrapeTargets: ['h:1'] }).services.find((s) => s.name === 'prometheus')!
        .files[0]!.content,
    ).toContain("job_name: 'otel-harness'");
    const agent = d.services.find((s) => s.name === 'otel-agent')!;
    expect(agent.hostMounts).toEqual([]);
    expect(agent.files[0]!.content).toContain('job_name: otel-harness');
    expect(d.title).toContain('metrics scraped by the node agent');
    const resolved = resolveStack({ 'metric-source': 'scrape', scraper: 'agent' }, {}, undefined);
    expect(resolved.choice.manifest).toBe(join(stacksDir(), 'otelcol/manifest-platform.yaml'));
    expect(resolved.topology.describe(resolved.options, resolved.choice)).toMatch(
      /by the node agent.*; collector built from stacks\/otelcol\/manifest-platform\.yaml for receiver prometheus \(--scraper agent\)$/,
    );
    expect(usage(() => resolveStack({ scraper: 'agent' }, {}, undefined))).toMatch(
      /--scraper is invalid, expected an option of --metric-source scrape/,
    );
  });
});
