import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyGrpcCode, classifyHttpStatus, errorAnswer } from '../../src/load/answer.js';
import { deltas, readCounters } from '../../src/observe/backend-counters.js';
import { LOKI_COUNTERS } from '../../src/verify/backends/loki.js';
import { PROMETHEUS_COUNTERS } from '../../src/verify/backends/prometheus.js';
import { TEMPO_COUNTERS } from '../../src/verify/backends/tempo.js';
import { collectorCounters, counterDelta } from '../../src/observe/collector-metrics.js';
import { parsePrometheusText, sumOf } from '../../src/observe/prometheus-text.js';
import { parsePidStat, parseProcStat, parseVmRssMiB, usageFromStats } from '../../src/observe/resource-sampler.js';
import { digestCollectorLog } from '../../src/observe/collector-log.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

describe('Prometheus text format', () => {
  it('parses names, labels, values and skips comments', () => {
    const samples = parsePrometheusText(
      '# HELP x y\n# TYPE x counter\nx{a="1",b="q\\"uote"} 3\ny 2.5e+06\nz{le="+Inf"} +Inf\n',
    );
    expect(samples).toEqual([
      { name: 'x', labels: { a: '1', b: 'q"uote' }, value: 3 },
      { name: 'y', labels: {}, value: 2.5e6 },
      { name: 'z', labels: { le: '+Inf' }, value: Infinity },
    ]);
  });
});

describe('collector self-metrics (fixtures recorded from the real components)', () => {
  it('reads collector 0.158 counters, which carry no _total suffix', () => {
    const samples = parsePrometheusText(fixture('collector-0.158.0-metrics.txt'));
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      expect(collectorCounters(samples, signal)).toEqual({
        receiverAccepted: 10000,
        receiverRefused: 0,
        receiverFailed: 0,
        memoryLimiterRefused: 0,
        exporterSent: 10000,
        exporterSendFailed: 0,
        exporterEnqueueFailed: 0,
        queueSize: 0,
        inFlight: 0,
      });
    }
  });

  it('reads the _total-suffixed names of the collector inside Jaeger 2.13', () => {
    const samples = parsePrometheusText(fixture('jaeger-2.13.0-metrics-excerpt.txt'));
    const c = collectorCounters(samples, 'traces');
    expect(c.receiverAccepted).toBe(2002);
    expect(c.exporterSent).toBe(2002);
  });

  it('computes deltas, treating a counter reset as a restart from zero', () => {
    const before = {
      receiverAccepted: 100,
      receiverRefused: 0,
      receiverFailed: 0,
      memoryLimiterRefused: 0,
      exporterSent: 90,
      exporterSendFailed: 0,
      exporterEnqueueFailed: 0,
      queueSize: 10,
      inFlight: 1,
    };
    const after = { ...before, receiverAccepted: 30, exporterSent: 120, queueSize: 0, inFlight: 0 };
    expect(counterDelta(before, after)).toMatchObject({ receiverAccepted: 30, exporterSent: 30, queueSize: 0 });
  });
});

describe('backend silent-drop counters (fixtures)', () => {
  it('reads Tempo discards by reason, Loki ingest, Prometheus write answers', () => {
    const tempo = readCounters(parsePrometheusText(fixture('tempo-metrics-excerpt.txt')), TEMPO_COUNTERS);
    expect(tempo['tempo_distributor_spans_received_total']).toBe(10000);
    expect(tempo['tempo_discarded_spans_total']).toBe(0);
    expect(tempo['tempo_discarded_spans_total{reason=trace_too_large}']).toBe(0);
    const loki = readCounters(parsePrometheusText(fixture('loki-metrics-excerpt.txt')), LOKI_COUNTERS);
    expect(loki['loki_distributor_lines_received_total']).toBe(10000);
    expect(loki['loki_discarded_samples_total']).toBe(0);
    const prom = readCounters(parsePrometheusText(fixture('prometheus-metrics-excerpt.txt')), PROMETHEUS_COUNTERS);
    expect(prom['prometheus_http_requests_total{handler=/api/v1/write}{code=204}']).toBe(3);
    expect(prom['prometheus_tsdb_out_of_order_samples_total']).toBe(0);
    expect(deltas({ a: 5, b: 1 }, { a: 7, c: 2 })).toEqual({ a: 2, b: 0, c: 2 });
    expect(sumOf(parsePrometheusText('m{x="a"} 1\nm{x="b"} 2\n'), /^m$/, { x: /a|b/ })).toBe(3);
  });
});

describe('answers', () => {
  it('classifies OTLP answers as the spec says', () => {
    expect([200, 429, 502, 503, 504, 400, 500, 404].map(classifyHttpStatus)).toEqual([
      'acknowledged',
      'refused',
      'refused',
      'refused',
      'refused',
      'failed',
      'failed',
      'failed',
    ]);
    expect([0, 14, 8, 4, 2, 3, 13].map(classifyGrpcCode)).toEqual([
      'acknowledged',
      'refused',
      'refused',
      'refused',
      'failed',
      'failed',
      'failed',
    ]);
    expect(errorAnswer(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(errorAnswer({ cause: { code: 'UND_ERR_HEADERS_TIMEOUT' } })).toBe('UND_ERR_HEADERS_TIMEOUT');
  });
});

describe('resource readings', () => {
  it('computes container CPU and working-set memory from Docker stats', () => {
    const u = usageFromStats({
      read: '2026-12-03T10:00:00.5Z',
      cpu_stats: { cpu_usage: { total_usage: 3_000_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 2_000_000_000 }, system_cpu_usage: 18_000_000_000 },
      memory_stats: {
        usage: 300 * 1024 * 1024,
        stats: { total_inactive_file: 100 * 1024 * 1024, total_rss: 150 * 1024 * 1024 },
      },
    });
    expect(u).toEqual({
      cpuPct: 100,
      memoryMiB: 200,
      cpuSeconds: 3,
      readAtMs: Date.parse('2026-12-03T10:00:00.5Z'),
      rssMiB: 150,
    });
  });

  it('reads busy and total jiffies from /proc/stat', () => {
    expect(
      parseProcStat('cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0\ncpu1 50 0 25 400 25 0 0 0\n'),
    ).toEqual({ busy: 150, total: 1000, cores: 2 });
  });

  it('reads a process CPU time from /proc/<pid>/stat, even with spaces and parentheses in its name', () => {
    expect(parsePidStat('4242 (k6 (run)) S 1 4242 4242 0 -1 4194560 1234 0 0 0 7192 310 0 0 20 0 12 0')).toEqual({
      cpuSeconds: 75.02,
      name: 'k6 (run)',
    });
    expect(parsePidStat('garbage')).toBeUndefined();
    expect(parseVmRssMiB('Name:\tk6\nVmRSS:\t  204800 kB\n')).toBe(200);
  });

  it('agrees with Node on this process CPU time (USER_HZ is 100)', () => {
    let x = 0;
    for (let i = 0; i < 3e7; i++) x += i % 7;
    expect(x).toBeGreaterThan(0);
    const fromProc = parsePidStat(readFileSync('/proc/self/stat', 'utf8'))?.cpuSeconds ?? -1;
    const used = process.cpuUsage();
    expect(Math.abs(fromProc - (used.user + used.system) / 1e6)).toBeLessThan(0.1);
  });
});

describe('collector log digest (a real log: Loki refusing pushes over its 4 MiB gRPC limit)', () => {
  it('groups export failures by component and error, numbers masked', () => {
    const lines = fixture('collector-0.158.0-loki-message-too-large.log').split('\n');
    const digest = digestCollectorLog(lines);
    expect(digest.length).toBeGreaterThan(0);
    const top = digest[0]!;
    expect(top.component).toBe('otlp_http/loki');
    expect(top.message).toBe('Exporting failed. Will retry the request after interval.');
    expect(top.example).toMatch(/grpc: received message larger than max \(\d+ vs\. 4194304\)/);
    expect(top.count).toBe(lines.filter((l) => l.includes('Exporting failed') && l.includes('larger than max')).length);
    expect(digest.some((d) => d.message.includes('num_consumers'))).toBe(false); // plain warnings are not trouble
  });
});
