import { describe, expect, it } from 'vitest';
import {
  LogBatchBuilder,
  logShapeDefaults,
  runTag,
  seqOfLogLine,
  spanId,
  toHex,
  traceId,
  traceShapeDefaults,
  traceTraits,
  TraceBatchBuilder,
  type PayloadShape,
} from '../../generators/index.js';
import { otlpJsonOf } from '../../src/load/otlp/otlp-json.js';
import { resolveSoakOptions } from '../../src/soak/soak-options.js';
import { planLoad } from '../../src/soak/soak-plan.js';
import { compileCondition } from '../../src/verify/sampling/ottl-condition.js';
import { traceModel } from '../../src/verify/sampling/trace-model.js';
import { usage } from './support/usage.js';

interface KV {
  key: string;
  value: { stringValue?: string; intValue?: string; doubleValue?: number };
}
interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: KV[];
  events?: { name: string; attributes: KV[] }[];
  links?: { traceId: string; spanId: string }[];
  status?: { code?: number };
}
const attrs = (kvs: KV[] | undefined): Record<string, string | number | undefined> =>
  Object.fromEntries(
    (kvs ?? []).map((a) => [
      a.key,
      a.value.stringValue ?? (a.value.intValue === undefined ? a.value.doubleValue : Number(a.value.intValue)),
    ]),
  );

const identity = { runId: 'r-web', serviceName: 'otel-harness-soak' };
const WEB: PayloadShape = { profile: 'web', pods: 7, nodes: 3 };

describe('the web payload profile', () => {
  it('sends server, database and client spans with semantic-convention attributes, exception events and links', () => {
    const shape = { ...traceShapeDefaults(), spansPerTrace: 4, errorFraction: 0.2, payload: WEB };
    const builder = new TraceBatchBuilder(identity, shape);
    const pods = new Set<string>();
    let errors = 0;
    let links = 0;
    for (let batch = 0; batch < 40; batch++) {
      const first = batch * 50;
      const json = JSON.parse(otlpJsonOf('traces', builder.build(first, 50, Date.now()).body)) as {
        resourceSpans: { resource: { attributes: KV[] }; scopeSpans: { spans: JsonSpan[] }[] }[];
      };
      const [rs] = json.resourceSpans;
      const resource = attrs(rs!.resource.attributes);
      // Identity kept, Kubernetes attributes of one pod of the batch.
      expect(resource).toMatchObject({
        'service.name': identity.serviceName,
        'service.instance.id': identity.runId,
        'k8s.namespace.name': 'shop',
      });
      expect(String(resource['k8s.node.name'])).toMatch(/^node-[0-2]$/);
      pods.add(String(resource['k8s.pod.name']));
      const spans = rs!.scopeSpans[0]!.spans;
      expect(spans).toHaveLength(200);
      for (let t = 0; t < 50; t++) {
        const seq = first + t;
        const [root, db, client, internal] = spans.slice(t * 4, t * 4 + 4) as [JsonSpan, JsonSpan, JsonSpan, JsonSpan];
        expect(root.traceId).toBe(toHex(traceId(runTag(identity.runId), seq)));
        const r = attrs(root.attributes);
        expect(root.name).toBe(`${String(r['http.request.method'])} ${String(r['http.route'])}`);
        expect([root.kind, db.kind, client.kind, internal.kind]).toEqual([2, 3, 3, 1]);
        const error = traceTraits(seq, shape).error;
        expect(r['http.response.status_code']).toBe(error ? 500 : 200);
        expect(root.events?.map((e) => e.name) ?? []).toEqual(error ? ['exception'] : []);
        if (error) errors++;
        expect(attrs(db.attributes)).toMatchObject({ 'db.system.name': 'postgresql', 'server.port': 5432 });
        expect(db.parentSpanId).toBe(root.spanId);
        expect(attrs(client.attributes)['url.full']).toMatch(
          /^http:\/\/inventory\.shop\.svc\.cluster\.local:8080\/api\/stock\/\d+$/,
        );
        // Identity attributes as in the synthetic profile: every span still found and counted by them.
        expect(attrs(internal.attributes)['otel_harness.span_seq']).toBe(String(seq * 4 + 3));
        if (seq > 0 && seq % 10 === 0) {
          links++;
          expect(root.links).toEqual([
            { traceId: toHex(traceId(runTag(identity.runId), seq - 1)), spanId: toHex(spanId(seq - 1, 0)) },
          ]);
        } else expect(root.links).toBeUndefined();
      }
    }
    expect(pods.size).toBe(7);
    expect(errors).toBeGreaterThan(0);
    expect(links).toBe(199);
  });

  it('writes JSON log lines with a severity mix and the trace of the request, read back by seq', () => {
    const logs = new LogBatchBuilder(identity, { ...logShapeDefaults(), payload: WEB });
    const json = JSON.parse(otlpJsonOf('logs', logs.build(1_000, 1_000, Date.now()).body)) as {
      resourceLogs: {
        scopeLogs: {
          logRecords: {
            severityText: string;
            severityNumber: number;
            body: { stringValue: string };
            traceId: string;
          }[];
        }[];
      }[];
    };
    const records = json.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    const levels: Record<string, number> = {};
    records.forEach((rec, i) => {
      const seq = 1_000 + i;
      levels[rec.severityText] = (levels[rec.severityText] ?? 0) + 1;
      const line = JSON.parse(rec.body.stringValue) as { level: string; 'http.response.status_code': number };
      expect(line.level).toBe(rec.severityText.toLowerCase());
      expect(seqOfLogLine(rec.body.stringValue, identity.runId)).toBe(seq);
      expect(seqOfLogLine(rec.body.stringValue, 'another-run')).toBeUndefined();
      expect(rec.traceId).toBe(toHex(traceId(runTag(identity.runId), seq)));
    });
    expect(Object.keys(levels).sort()).toEqual(['DEBUG', 'ERROR', 'INFO', 'WARN']);
    expect(levels.INFO!).toBeGreaterThan(700);
    expect(levels.ERROR!).toBeGreaterThan(10);
  });

  it("lets the sampling oracle predict conditions on the web profile's names and attributes", () => {
    const shape = { ...traceShapeDefaults(), spansPerTrace: 3, payload: WEB };
    const model = traceModel(shape, identity.runId, identity.serviceName, undefined);
    const tag = runTag(identity.runId);
    const failed = compileCondition('attributes["http.response.status_code"] == 500', model);
    const dbCalls = compileCondition(
      'kind == SPAN_KIND_CLIENT and attributes["db.system.name"] == "postgresql"',
      model,
    );
    for (let seq = 0; seq < 500; seq++) {
      const at = (index: number) => ({ seq, index, traceId: traceId(tag, seq) });
      expect(failed.eval(at(0))).toBe(traceTraits(seq, shape).error);
      expect(dbCalls.eval(at(1))).toBe(true);
      expect(dbCalls.eval(at(0))).toBe(false);
    }
  });

  it('is chosen with --payload for the native driver, with its pods and nodes, and refused for the others', () => {
    const spec = planLoad(resolveSoakOptions({ payload: 'web', 'payload-pods': '50', 'payload-nodes': '4' }, {}));
    expect(spec.traceShape.payload).toEqual({ profile: 'web', pods: 50, nodes: 4 });
    expect(spec.logShape.payload).toEqual({ profile: 'web', pods: 50, nodes: 4 });
    expect(planLoad(resolveSoakOptions({}, {})).traceShape.payload).toBeUndefined();
    expect(usage(() => resolveSoakOptions({ payload: 'web', driver: 'k6' }, {}))).toMatch(
      /--payload is invalid, expected synthetic with --driver k6 \(only the native driver builds the other profiles\)/,
    );
    expect(usage(() => resolveSoakOptions({ payload: 'mobile' }, {}))).toMatch(
      /--payload is invalid, expected one of synthetic, web/,
    );
  });

  it('takes --metric-types for the native driver, checks it before anything starts, and records it in the shape', () => {
    const all = 'gauge,sum,histogram,exponential_histogram';
    expect(planLoad(resolveSoakOptions({ 'metric-types': all }, {})).metricShape).toEqual({
      series: 1667, // the default 1,000 items/s over three signals, one sample per series every 5 s
      intervalMs: 5_000,
      types: ['gauge', 'sum', 'histogram', 'exponential_histogram'],
    });
    expect(planLoad(resolveSoakOptions({}, {})).metricShape.types).toBeUndefined();
    expect(usage(() => resolveSoakOptions({ 'metric-types': 'gauge,summary' }, {}))).toMatch(
      /--metric-types is invalid, expected a comma-separated list of gauge, sum, histogram, exponential_histogram/,
    );
    expect(usage(() => resolveSoakOptions({ 'metric-types': 'sum,sum' }, {}))).toMatch(/at most once/);
    expect(usage(() => resolveSoakOptions({ 'metric-types': 'sum', driver: 'k6' }, {}))).toMatch(
      /--metric-types is invalid, expected gauge with --driver k6/,
    );
    expect(
      usage(() => planLoad(resolveSoakOptions({ 'metric-types': all, 'metric-series': '3', rate: '3' }, {}))),
    ).toMatch(/--metric-types is invalid, expected at most 3 type\(s\): the run has 3 metric series/);
  });
});
