import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { usage } from './support/usage.js';
import { parse } from 'yaml';
import { traceShapeDefaults } from '../../generators/index.js';
import { kafkaLagCondition } from '../../src/drain/kafka-condition.js';
import { loadCatalog } from '../../src/images/catalog.js';
import { lagTotals, partitionLags } from '../../src/observe/kafka-lag.js';
import { summarizeLag } from '../../src/observe/kafka-lag-observer.js';
import { bootLayers } from '../../src/stack/docker/stack-definition.js';
import { groupsOf, phase2Configs, phase2Definition } from '../../src/stack/phase2/definition.js';
import { parseHaproxyCsv, upServers } from '../../src/stack/phase2/haproxy.js';
import { parsePromVector } from '../../src/verify/backends/promql.js';
import { parsePrometheusText, sumBy } from '../../src/observe/prometheus-text.js';
import { resolveStack } from '../../src/stack/stack-options.js';
import { traceSamplingOf } from '../../src/verify/sampling/tail-sampling.js';

const catalog = loadCatalog();

describe('the Phase 2 stack definition', () => {
  const def = phase2Definition({ gateways: 3, processors: 2, kafkaPort: 41234 }, catalog);

  it('boots Kafka and the backends first, then processors and gateways, and HAProxy in front last', () => {
    const layers = bootLayers(def.services).map((l) => l.map((s) => s.name).sort());
    expect(layers).toEqual([
      ['kafka', 'loki', 'mimir', 'prometheus', 'tempo'],
      ['gateway-1', 'gateway-2', 'gateway-3', 'processor-1', 'processor-2'],
      ['haproxy'],
    ]);
    expect(def.ingest).toEqual({ http: { service: 'haproxy', port: 4318 }, grpc: { service: 'haproxy', port: 4317 } });
    expect(def.backends.metrics).toMatchObject({ backend: 'mimir', queryPort: 9009 });
    expect(def.collectors.map((c) => `${c.service}:${c.role}:${c.exportsToBackends}`)).toEqual([
      'gateway-1:gateway:false',
      'gateway-2:gateway:false',
      'gateway-3:gateway:false',
      'processor-1:processor:true',
      'processor-2:processor:true',
    ]);
  });

  it('gives every gateway the alias HAProxy resolves, and Kafka the same port inside and out', () => {
    for (const g of def.services.filter((s) => s.name.startsWith('gateway-')))
      expect(g.aliases).toContain('otel-gateway');
    const kafka = def.services.find((s) => s.name === 'kafka')!;
    expect(kafka.ports.find((p) => p.label === 'Kafka')).toMatchObject({ container: 41234, sameOnHost: true });
    expect(kafka.files[0]!.content).toContain('advertised.listeners=INTERNAL://kafka:9092,EXTERNAL://127.0.0.1:41234');
    expect(kafka.afterReady).toBeDefined();
    const haproxy = def.services.find((s) => s.name === 'haproxy')!.files[0]!.content;
    expect(haproxy).toContain('server-template gw 1-10 otel-gateway:4317 proto h2');
    expect(haproxy).toContain('tcp-check send GET');
  });

  it('partitions traces by id at the gateways and tail-samples at the processors as the seed does', () => {
    const configs = phase2Configs({ gateways: 1, processors: 1, kafkaPort: 1 });
    const gateway = parse(configs.gateway) as { exporters: Record<string, { partition_traces_by_id?: boolean }> };
    expect(gateway.exporters['kafka/traces']!.partition_traces_by_id).toBe(true);
    const sampling = traceSamplingOf([configs.processor, configs.processor], traceShapeDefaults(), 'r');
    expect(sampling.kind).toBe('predict');
    if (sampling.kind === 'predict') {
      expect(sampling.decisionWaitMs).toBe(10_000);
      expect(sampling.describe).toMatch(
        /errors \(status_code\), slow-traces \(latency\), probabilistic \(probabilistic\)/,
      );
    }
    // Processors that sample differently (or one that does not) cannot be predicted.
    const other = configs.processor.replace('sampling_percentage: 10', 'sampling_percentage: 20');
    expect(traceSamplingOf([configs.processor, other], traceShapeDefaults(), 'r').kind).toBe('unsupported');
    expect(traceSamplingOf([configs.processor, undefined], traceShapeDefaults(), 'r').kind).toBe('unsupported');
    expect(traceSamplingOf([configs.gateway], traceShapeDefaults(), 'r').kind).toBe('none');
  });

  it('names the consumer groups per signal', () => {
    expect(groupsOf(2, ['traces', 'logs'])).toEqual([
      { group: 'trace-processors', topic: 'otlp-traces', members: 2 },
      { group: 'log-processors', topic: 'otlp-logs', members: 2 },
    ]);
  });
});

describe('Phase 2 options', () => {
  it('refuses no gateway, more processors than partitions and a Phase 1 option, each with exit 2', () => {
    expect(resolveStack({ phase: '2' }, {}, undefined).options).toMatchObject({ gateways: 2, processors: 2 });
    expect(usage(() => resolveStack({ phase: '2', gateways: '0' }, {}, undefined))).toMatch(/--gateways/);
    expect(usage(() => resolveStack({ phase: '2', processors: '13' }, {}, undefined))).toMatch(
      /--processors is invalid, expected a whole number from 1 to 12/,
    );
    expect(usage(() => resolveStack({ phase: '2', traces: 'jaeger' }, {}, undefined))).toMatch(/--traces/);
    expect(
      usage(() => resolveStack({ phase: '2', 'collector-config': 'collector=/etc/hosts' }, {}, undefined)),
    ).toMatch(/--collector-config is invalid, expected ROLE=FILE with a role of Phase 2/);
  });
});

describe('Kafka lag', () => {
  it('is log end − committed per partition, or − the log start before the group commits', () => {
    const lags = partitionLags(
      'g',
      't',
      [
        { partition: 1, high: '120', low: '0' },
        { partition: 0, high: '50', low: '10' },
        { partition: 2, high: '7', low: '0' },
      ],
      [
        { partition: 0, offset: '-1' },
        { partition: 1, offset: '100' },
        { partition: 2, offset: '7' },
      ],
    );
    expect(lags.map((l) => [l.partition, l.lag])).toEqual([
      [0, 40],
      [1, 20],
      [2, 0],
    ]);
    expect(lagTotals(lags)).toEqual({ 'g/t': 60 });
  });

  it('drains only once lag is 0, the log ends are still, and that has held for the hold time', async () => {
    let t = 0;
    let readings: ReturnType<typeof partitionLags>[] = [];
    const condition = kafkaLagCondition({
      name: 'kafka',
      read: () => Promise.resolve(readings.shift() ?? []),
      pollMs: 1,
      holdMs: 10_000,
      now: () => t,
    });
    const at = (high: string, committed: string) =>
      partitionLags(
        'trace-processors',
        'otlp-traces',
        [{ partition: 0, high, low: '0' }],
        [{ partition: 0, offset: committed }],
      );
    readings = [at('100', '90'), at('100', '100'), at('100', '100'), at('100', '100'), []];
    const first = await condition.check();
    expect(first).toMatchObject({
      idle: false,
      queued: [{ queue: 'consumer group trace-processors/otlp-traces', size: 10 }],
    });
    t = 1_000;
    expect((await condition.check()).idle).toBe(false); // lag 0, log end first seen still: the hold starts
    t = 5_000;
    expect((await condition.check()).idle).toBe(false);
    t = 12_000;
    expect((await condition.check()).idle).toBe(true);
    // Offsets that cannot be read are never taken as 0.
    expect((await condition.check()).unobservable).toMatch(/no partition offsets/);
  });
});

describe('the Kafka lag summary', () => {
  it('gives the peak, the lag when the load ended and the time to 0 after it, beside the receivers’ peak', () => {
    const key = 'log-processors/otlp-logs';
    const series = [0, 2_000, 4_000, 6_000, 8_000, 10_000].map((atMs, i) => ({
      atMs,
      values: { [key]: [0, 40, 90, 30, 5, 0][i]! },
    }));
    const receivers = [{ atMs: 4_000, values: { 'otlp-logs': 88 } }];
    const o = summarizeLag(series, receivers, 5_000, ['logs']);
    expect(o.figures).toEqual({
      [`${key} peak`]: 90,
      [`${key} receivers' peak`]: 88,
      [`${key} at load end`]: 30,
      [`${key} ms to 0 after load`]: 5_000,
    });
    expect(o.lines[0]).toBe(
      `${key}: peak 90 message(s) at 4 s into the load, 30 when the load ended, 0 5.0 s after it (the receivers' own offset_lag, fetched but not yet processed, peaked at 88)`,
    );
    expect(summarizeLag([], [], 5_000, ['logs'], 3, 'ECONNREFUSED').lines[0]).toBe(
      'no lag could be read for logs: ECONNREFUSED',
    );
  });
});

describe('parsers on answers recorded from the real components', () => {
  const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

  it("reads HAProxy 2.6.12's stats CSV: both gateways UP on both backends, empty template slots in MAINT", () => {
    const rows = parseHaproxyCsv(fixture('haproxy-2.6.12-stats.csv'));
    expect(upServers(rows, 'gw_grpc').map((r) => r.server)).toEqual(['gw1', 'gw2']);
    expect(upServers(rows, 'gw_http').map((r) => r.server)).toEqual(['gw1', 'gw2']);
    expect(rows.find((r) => r.proxy === 'gw_grpc' && r.server === 'gw3')?.status).toMatch(/^MAINT/);
    expect(() => parseHaproxyCsv('not,a,csv\n1,2,3')).toThrow(/not an HAProxy stats CSV/);
  });

  it("computes lag from Kafka 3.9.1's own offsets, a partition without a commit counted from its log start", () => {
    const recorded = JSON.parse(fixture('kafka-3.9.1-offsets.json')) as {
      fetchTopicOffsets: { partition: number; high: string; low: string }[];
      fetchOffsets: { topic: string; partitions: { partition: number; offset: string }[] }[];
    };
    const lags = partitionLags(
      'fixture-group',
      'lag-fixture',
      recorded.fetchTopicOffsets,
      recorded.fetchOffsets[0]!.partitions,
    );
    // Produced 5, 3, 4 records; the group committed 2, 3 and nothing.
    expect(lags.map((l) => [l.partition, l.high, l.committed, l.lag])).toEqual([
      [0, 5, 2, 3],
      [1, 3, 3, 0],
      [2, 4, -1, 4],
    ]);
  });

  it("reads Mimir's per-series counts through its Prometheus API", () => {
    const counts = parsePromVector(JSON.parse(fixture('mimir-3.0.5-count-by-series.json')), 'series');
    expect([...counts.keys()]).toEqual(['0', '1', '2', '3', '4']);
    expect([...counts.values()].every((n) => n === 2)).toBe(true);
  });

  it("sums the Kafka receivers' own lag gauge by topic", () => {
    const samples = parsePrometheusText(fixture('collector-0.158.0-kafka-receiver-lag.txt'));
    const byTopic = sumBy(samples, /^otelcol_kafka_receiver_offset_lag$/, 'topic');
    expect(Object.keys(byTopic)).toContain('otlp-traces');
    expect(samples.filter((s) => s.name === 'otelcol_kafka_receiver_offset_lag').length).toBeGreaterThan(0);
  });
});
