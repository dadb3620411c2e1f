import {
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  LogBatchBuilder,
  logShapeDefaults,
  MetricBatchBuilder,
  ProtoWriter,
  TraceBatchBuilder,
  traceShapeDefaults,
} from '../../generators/index.js';
import type { Signal } from '../../src/load/ledger.js';
import { otlpClient } from '../../src/load/otlp/otlp-client.js';
import { otlpJsonOf } from '../../src/load/otlp/otlp-json.js';

/**
 * The OTLP/JSON the harness sends is checked against an encoder written apart from it: the OpenTelemetry
 * JS SDK's own serializers, which write the same data as protobuf and as JSON. The harness's JSON of the
 * SDK's protobuf must equal the SDK's JSON, field for field (the order of keys and the defaults the SDK
 * writes and protobuf leaves out aside; a 64-bit count is a decimal string or a number in OTLP/JSON).
 */
function canonical(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => canonical(v, key));
  if (typeof value === 'number' && /Count|count|UnixNano|intValue|asInt|bucketCounts/.test(key)) return String(value);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) {
    const v = canonical((value as Record<string, unknown>)[k], k);
    // Defaults: protobuf does not write them, so neither does JSON made from it.
    if (v === 0 || v === '0' || v === '' || v === false || v === undefined || (Array.isArray(v) && v.length === 0))
      continue;
    out[k] = v;
  }
  return out;
}

function sameAsSdk(signal: Signal, protobuf: Uint8Array, sdkJson: Uint8Array): void {
  const ours = canonical(JSON.parse(otlpJsonOf(signal, protobuf)));
  const theirs = canonical(JSON.parse(new TextDecoder().decode(sdkJson)));
  expect(ours).toEqual(theirs);
}

const resource = resourceFromAttributes({
  'service.name': 'checkout',
  'k8s.pod.name': 'checkout-7d9f-abcde',
  'k8s.node.name': 'node-3',
  replicas: 7,
  offset: -3,
  ratio: 1.5,
  canary: true,
  zones: ['a', 'b'],
});
const scope = { name: 'io.opentelemetry.http', version: '1.2.0' };
const T0: [number, number] = [1_765_000_000, 123_456_789];
const T1: [number, number] = [1_765_000_001, 5];

describe('OTLP/JSON from the OTLP protobuf the generators build', () => {
  it('writes every metric type as the SDK does: gauge, sums, histogram, exponential histogram', () => {
    const data = {
      resource,
      scopeMetrics: [
        {
          scope,
          metrics: [
            {
              descriptor: { name: 'http.server.duration', description: 'duration', unit: 'ms', valueType: 1 },
              aggregationTemporality: 1,
              dataPointType: 0,
              dataPoints: [
                {
                  startTime: T0,
                  endTime: T1,
                  attributes: { 'http.route': '/cart' },
                  value: {
                    buckets: { boundaries: [1, 5, 10] as number[], counts: [1, 2, 3, 4] },
                    sum: 42.5,
                    count: 10,
                    min: 0.5,
                    max: 20,
                  },
                },
              ],
            },
            {
              descriptor: { name: 'rpc.latency', description: '', unit: 's', valueType: 1 },
              aggregationTemporality: 0,
              dataPointType: 1,
              dataPoints: [
                {
                  startTime: T0,
                  endTime: T1,
                  attributes: {},
                  value: {
                    count: 7,
                    sum: 3.5,
                    min: 0.1,
                    max: 2,
                    scale: -2,
                    zeroCount: 1,
                    positive: { offset: -3, bucketCounts: [1, 2, 300] },
                    negative: { offset: 2, bucketCounts: [1] },
                  },
                },
              ],
            },
            {
              descriptor: { name: 'queue.delta', description: '', unit: '1', valueType: 0 },
              aggregationTemporality: 0,
              dataPointType: 3,
              isMonotonic: false,
              dataPoints: [{ startTime: T0, endTime: T1, attributes: { shard: 1 }, value: -9_007_199_254_740 }],
            },
            {
              descriptor: { name: 'requests', description: '', unit: '1', valueType: 0 },
              aggregationTemporality: 1,
              dataPointType: 3,
              isMonotonic: true,
              dataPoints: [{ startTime: T0, endTime: T1, attributes: {}, value: 12 }],
            },
            {
              descriptor: { name: 'memory.ratio', description: '', unit: '', valueType: 1 },
              aggregationTemporality: 1,
              dataPointType: 2,
              dataPoints: [{ startTime: T0, endTime: T1, attributes: {}, value: 2.25 }],
            },
          ],
        },
      ],
    };
    const request = data as unknown as Parameters<typeof ProtobufMetricsSerializer.serializeRequest>[0];
    sameAsSdk(
      'metrics',
      ProtobufMetricsSerializer.serializeRequest(request)!,
      JsonMetricsSerializer.serializeRequest(request)!,
    );
  });

  it('writes spans with their events, links, status and ids as the SDK does', () => {
    const context = (traceId: string, spanId: string) => () => ({ traceId, spanId, traceFlags: 1 });
    const span = {
      name: 'GET /cart',
      kind: 1,
      spanContext: context('5b8efff798038103d269b633813fc60c', 'eee19b7ec3c1b174'),
      parentSpanContext: { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b173', traceFlags: 1 },
      startTime: T0,
      endTime: T1,
      duration: [1, 0],
      ended: true,
      status: { code: 2, message: 'upstream timed out' },
      attributes: { 'http.request.method': 'GET', 'http.response.status_code': 504, retried: false },
      links: [
        {
          context: { traceId: '00000000000000000000000000000001', spanId: '0000000000000002', traceFlags: 1 },
          attributes: { reason: 'batch' },
          droppedAttributesCount: 0,
        },
      ],
      events: [{ name: 'exception', time: T1, attributes: { 'exception.type': 'Timeout' }, droppedAttributesCount: 1 }],
      resource,
      instrumentationScope: scope,
      droppedAttributesCount: 2,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
    const request = [span] as unknown as Parameters<typeof ProtobufTraceSerializer.serializeRequest>[0];
    sameAsSdk(
      'traces',
      ProtobufTraceSerializer.serializeRequest(request)!,
      JsonTraceSerializer.serializeRequest(request)!,
    );
  });

  it('writes log records with structured bodies, severities and trace context as the SDK does', () => {
    const record = {
      hrTime: T0,
      hrTimeObserved: T1,
      severityNumber: 17,
      severityText: 'ERROR',
      body: { message: 'payment failed', order: { id: 'o-1', items: 3 }, tags: ['a', 'b'] },
      attributes: { 'log.file.name': 'app.log' },
      resource,
      instrumentationScope: scope,
      spanContext: { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', traceFlags: 1 },
      droppedAttributesCount: 0,
      eventName: 'payment.failed',
    };
    const request = [record] as unknown as Parameters<typeof ProtobufLogsSerializer.serializeRequest>[0];
    sameAsSdk('logs', ProtobufLogsSerializer.serializeRequest(request)!, JsonLogsSerializer.serializeRequest(request)!);
  });

  it("keeps every item of the harness's own batches, with its ids and sequence numbers", () => {
    const identity = { runId: 'r-json', serviceName: 'otel-harness-soak' };
    const traces = new TraceBatchBuilder(identity, { ...traceShapeDefaults(), spansPerTrace: 5 }).build(
      100,
      3,
      Date.now(),
    );
    const json = JSON.parse(otlpJsonOf('traces', traces.body)) as {
      resourceSpans: { scopeSpans: { spans: { traceId: string; spanId: string; startTimeUnixNano: string }[] }[] }[];
    };
    const spans = json.resourceSpans[0]!.scopeSpans[0]!.spans;
    expect(spans).toHaveLength(15);
    for (const s of spans) {
      expect(s.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(s.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(s.startTimeUnixNano).toMatch(/^\d{19}$/);
    }
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(3);
    const logs = new LogBatchBuilder(identity, logShapeDefaults()).build(7, 4, Date.now());
    const logJson = otlpJsonOf('logs', logs.body);
    expect(logJson.match(/"logRecords"/g)).toHaveLength(1);
    const logRecords = (JSON.parse(logJson) as { resourceLogs: { scopeLogs: { logRecords: unknown[] }[] }[] })
      .resourceLogs[0]!.scopeLogs[0]!.logRecords;
    expect(logRecords).toHaveLength(4);
    const metrics = new MetricBatchBuilder(identity, { series: 3, intervalMs: 1000 }, (tick) => tick * 1000).build(
      0,
      6,
    );
    const metricJson = JSON.parse(otlpJsonOf('metrics', metrics.body)) as {
      resourceMetrics: { scopeMetrics: { metrics: { gauge: { dataPoints: { asDouble: number }[] } }[] }[] }[];
    };
    const points = metricJson.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.gauge.dataPoints;
    expect(points.map((p) => p.asDouble)).toEqual([0, 0, 0, 1, 1, 1].filter((_, i) => i < points.length));
    expect(points).toHaveLength(metrics.items);
    expect(otlpJsonOf('traces', new Uint8Array())).toBe('{}');
  });

  it('gathers a repeated field that comes back after another, and writes doubles JSON has no number for', () => {
    const kv = (key: string, value: number) =>
      new ProtoWriter(64).fork().string(1, key).fork().double(4, value).join(2).join(9).finish();
    const w = new ProtoWriter(256).fork().fork().fork();
    w.raw(kv('a', 1)).string(5, 'first').raw(kv('b', Number.NaN)).string(5, 'second').raw(kv('c', -Infinity));
    const body = w.join(2).join(2).join(1).finish();
    expect(JSON.parse(otlpJsonOf('traces', body))).toEqual({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  attributes: [
                    { key: 'a', value: { doubleValue: 1 } },
                    { key: 'b', value: { doubleValue: 'NaN' } },
                    { key: 'c', value: { doubleValue: '-Infinity' } },
                  ],
                  name: 'second',
                },
              ],
            },
          ],
        },
      ],
    });
  });

  it('refuses a payload that is not OTLP protobuf instead of sending half of it', () => {
    expect(() => otlpJsonOf('traces', new Uint8Array([0x0a, 0x05, 0x0a]))).toThrow(/runs past the end/);
  });

  it('posts it as application/json to /v1/<signal>, gzip-compressed when asked', async () => {
    const seen: { path: string; type: string; encoding: string; bytes: number }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          path: req.url ?? '',
          type: String(req.headers['content-type']),
          encoding: String(req.headers['content-encoding'] ?? 'none'),
          bytes: Buffer.concat(chunks).length,
        });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"too old"}}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const compression of ['none', 'gzip'] as const) {
        const client = otlpClient(
          { otlpHttp: url, otlpGrpc: undefined },
          { protocol: 'http/json', compression },
          { connections: 1, timeoutMs: 5_000 },
        );
        const logs = new LogBatchBuilder({ runId: 'r', serviceName: 's' }, logShapeDefaults()).build(0, 20, Date.now());
        const answer = await client.post('logs', logs.body);
        await client.close();
        expect(answer).toMatchObject({ outcome: 'acknowledged', rejected: 2, rejectMessage: 'too old' });
      }
    } finally {
      server.close();
    }
    expect(seen.map((s) => [s.path, s.type, s.encoding])).toEqual([
      ['/v1/logs', 'application/json', 'none'],
      ['/v1/logs', 'application/json', 'gzip'],
    ]);
    expect(seen[1]!.bytes).toBeLessThan(seen[0]!.bytes / 3);
  });
});
