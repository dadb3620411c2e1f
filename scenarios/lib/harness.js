// Shared by every otel-harness k6 scenario: configuration from __ENV with defaults, OTLP/HTTP posting,
// the per-batch ledger metric the harness reconciles exactly, and the summary JSON it reads.
//
// Items are built by otel-harness's generators (../../dist/generators: compiled by `npm install`), so
// every span, data point and log record carries the run id and a sequence number derived from k6's
// iteration number, and the harness's verifiers can find each one by id.
import encoding from 'k6/encoding';
import http from 'k6/http';
import { Counter, Rate } from 'k6/metrics';
import grpc from 'k6/net/grpc';
import { decodePartialSuccess, grpcCodeName, grpcOutcome } from '../../dist/generators/index.js';

export function env(name, fallback) {
  const value = __ENV[name];
  return value === undefined || value === '' ? fallback : value;
}

export function numberEnv(name, fallback) {
  const raw = env(name, String(fallback));
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number (got '${raw}')`);
  return value;
}

export const config = {
  endpoint: env('OTLP_HTTP', 'http://127.0.0.1:4318'),
  runId: env('RUN_ID', `k6-${Date.now()}`),
  serviceName: env('SERVICE_NAME', 'otel-harness-soak'),
  duration: env('DURATION', '1m'),
  /** Items per request. */
  batch: numberEnv('BATCH', 512),
  spansPerTrace: numberEnv('SPANS_PER_TRACE', 5),
  maxVUs: numberEnv('MAX_VUS', 200),
  /** Extra request headers as JSON (e.g. a tenant: {"X-Scope-OrgID":"team-a"}). */
  headers: JSON.parse(env('OTLP_HEADERS', '{}')),
  /** Request body compression: none or gzip (k6 compresses and sets Content-Encoding). */
  compression: env('COMPRESSION', 'none'),
  /** http/protobuf (k6/http) or grpc (k6/net/grpc, unary Export calls to OTLP_GRPC, plaintext). */
  protocol: env('PROTOCOL', 'http/protobuf'),
  /** host:port of the OTLP/gRPC receiver. */
  grpcTarget: env('OTLP_GRPC', '127.0.0.1:4317'),
};
if (config.protocol !== 'http/protobuf' && config.protocol !== 'grpc')
  throw new Error(`PROTOCOL must be http/protobuf or grpc (got '${config.protocol}')`);
if (config.protocol === 'grpc' && config.compression !== 'none')
  throw new Error("COMPRESSION must be none with PROTOCOL=grpc (k6's gRPC client sends uncompressed messages)");

/** The ledger: one point per batch, tagged with its first sequence number, size and outcome. */
const items = new Counter('otel_harness_items');

const RETRYABLE = [429, 502, 503, 504];
export function outcomeOf(status) {
  if (status >= 200 && status < 300) return 'acknowledged';
  return RETRYABLE.indexOf(status) >= 0 ? 'refused' : 'failed';
}

/** Items a 2xx answer declared rejected (the Export*ServiceResponse's partial_success). */
function partialSuccessOf(res) {
  if (!res.body || res.body.byteLength === 0) return { rejected: 0, errorMessage: '' };
  try {
    return decodePartialSuccess(new Uint8Array(res.body));
  } catch (e) {
    return { rejected: 0, errorMessage: '', undecodable: true };
  }
}

/** Sends one OTLP protobuf batch over the run's protocol and records its outcome for the harness. */
export function post(signal, first, units, itemsPerUnit, body) {
  if (config.protocol === 'grpc') return exportGrpc(signal, first, units, itemsPerUnit, body);
  return postHttp(signal, first, units, itemsPerUnit, body);
}

/** POSTs one OTLP protobuf batch and records its outcome (and any partial success) for the harness. */
function postHttp(signal, first, units, itemsPerUnit, body) {
  const params = {
    headers: Object.assign({}, config.headers, { 'Content-Type': 'application/x-protobuf' }),
    tags: { signal },
    responseType: 'binary',
  };
  if (config.compression === 'gzip') params.compression = 'gzip';
  const res = http.post(`${config.endpoint}/v1/${signal}`, body.buffer, params);
  const transportError = res.status === 0;
  const outcome = transportError ? 'failed' : outcomeOf(res.status);
  const tags = {
    signal,
    first: String(first),
    units: String(units),
    outcome,
    answer: transportError ? `k6-${res.error_code || 'error'}` : String(res.status),
  };
  if (outcome === 'acknowledged') tagPartialSuccess(tags, partialSuccessOf(res));
  items.add(units * itemsPerUnit, tags);
  return res;
}

/** An acknowledged batch's partial success (items the server declared rejected) on its ledger point. */
function tagPartialSuccess(tags, partial) {
  if (partial.undecodable) tags.answer += '-undecodable-body';
  if (partial.rejected > 0) {
    tags.rejected = String(partial.rejected);
    tags.reject_message = partial.errorMessage.slice(0, 200);
  }
}

// gRPC: one client per VU, its definitions loaded in the init context, connected on the VU's first call.
const GRPC_SERVICE = {
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService/Export',
};
const GRPC_FIELD = { traces: 'resource_spans', metrics: 'resource_metrics', logs: 'resource_logs' };
const grpcClient = config.protocol === 'grpc' ? new grpc.Client() : undefined;
// Resolved from this file, wherever the scenario that imports it lives.
const protoDir = decodeURIComponent(import.meta.resolve('./otlp/').replace(/^file:\/\//, ''));
if (grpcClient !== undefined) grpcClient.load([protoDir], 'traces.proto', 'metrics.proto', 'logs.proto');
let grpcConnected = false;
/** Failed or refused gRPC calls (k6 has no grpc_req_failed of its own). */
const grpcReqFailed = new Rate('otel_harness_grpc_req_failed');

/** The length-delimited field-1 elements of an encoded Export request (its resource blocks), as base64. */
function resourceBlocks(body) {
  const out = [];
  let pos = 0;
  const varint = () => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = body[pos++];
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return value;
      scale *= 128;
    }
  };
  while (pos < body.length) {
    const key = varint();
    if (key !== 0x0a) throw new Error(`unexpected field key ${key} in an Export request`);
    const length = varint();
    out.push(encoding.b64encode(body.slice(pos, pos + length).buffer, 'std'));
    pos += length;
  }
  return out;
}

/** A partial_success message (base64, as k6 gives bytes fields) wrapped back into a response body. */
function partialSuccessOfGrpc(message) {
  const b64 = message && message.partialSuccess;
  if (!b64) return { rejected: 0, errorMessage: '' };
  try {
    const inner = new Uint8Array(encoding.b64decode(b64, 'std'));
    const head = [0x0a];
    for (let n = inner.length; ; n = Math.floor(n / 128)) {
      if (n < 128) {
        head.push(n);
        break;
      }
      head.push((n % 128) | 0x80);
    }
    const body = new Uint8Array(head.length + inner.length);
    body.set(head, 0);
    body.set(inner, head.length);
    return decodePartialSuccess(body);
  } catch (e) {
    return { rejected: 0, errorMessage: '', undecodable: true };
  }
}

/** One unary OTLP/gRPC Export call; its status code decides the outcome as the native driver's does. */
function exportGrpc(signal, first, units, itemsPerUnit, body) {
  const tags = { signal, first: String(first), units: String(units) };
  let res;
  try {
    if (!grpcConnected) {
      grpcClient.connect(config.grpcTarget, { plaintext: true, timeout: '10s' });
      grpcConnected = true;
    }
    res = grpcClient.invoke(
      GRPC_SERVICE[signal],
      { [GRPC_FIELD[signal]]: resourceBlocks(body) },
      { metadata: config.headers, tags: { signal }, timeout: '10s' },
    );
  } catch (e) {
    grpcConnected = false;
    tags.outcome = 'failed';
    tags.answer = 'k6-grpc-error';
    grpcReqFailed.add(1, { signal });
    items.add(units * itemsPerUnit, tags);
    return undefined;
  }
  const code = Number(res.status); // a Go status code: indexing with it would use its name
  tags.outcome = grpcOutcome(code);
  tags.answer = grpcCodeName(code);
  grpcReqFailed.add(tags.outcome !== 'acknowledged', { signal });
  if (tags.outcome === 'acknowledged') tagPartialSuccess(tags, partialSuccessOfGrpc(res.message));
  items.add(units * itemsPerUnit, tags);
  return res;
}

function gcd(a, b) {
  while (b > 0) [a, b] = [b, a % b];
  return a;
}

/**
 * The exact arrival rate for `itemsPerSecond` with `itemsPerIteration` items per iteration. k6 wants a whole
 * number of iterations per time unit, so the time unit is `itemsPerIteration` seconds and the rate
 * `itemsPerSecond` iterations per time unit (both divided by their gcd): 5,000 spans/s in iterations of
 * 510 spans is 500 iterations per 51 s, not a rounded 10 iterations/s (5,100 spans/s).
 */
export function arrivalRate(itemsPerSecond, itemsPerIteration) {
  const items = Math.max(1, Math.round(itemsPerSecond));
  const g = gcd(items, itemsPerIteration);
  return { rate: items / g, timeUnit: `${itemsPerIteration / g}s` };
}

/** Pre-allocated VUs for an arrival rate: enough for 100 ms answers, at least 2. */
export function vusFor(iterationsPerSecond) {
  return Math.max(2, Math.min(config.maxVUs, Math.ceil(iterationsPerSecond * 0.1) + 1));
}

/**
 * Declared only so that k6 reports dropped iterations per scenario (k6 computes a submetric only when a
 * threshold names it). They cannot fail, so the summary leaves them out of its thresholds.
 */
const perScenarioDrops = {
  'dropped_iterations{scenario:traces}': ['count>=0'],
  'dropped_iterations{scenario:metrics}': ['count>=0'],
  'dropped_iterations{scenario:logs}': ['count>=0'],
};

/** The thresholds every scenario applies; a failing one makes k6 exit 99 (otel-harness: exit 3). */
export const commonThresholds = {
  ...(config.protocol === 'grpc'
    ? { otel_harness_grpc_req_failed: ['rate<0.01'] }
    : { http_req_failed: ['rate<0.01'] }),
  ...perScenarioDrops,
};

/** A scenario's request-duration threshold for `signal`, on the metric of the run's protocol. */
export function durationThreshold(signal, expression) {
  const metric = config.protocol === 'grpc' ? 'grpc_req_duration' : 'http_req_duration';
  return { [`${metric}{signal:${signal}}`]: [expression] };
}

/** handleSummary for every scenario: the JSON otel-harness reads (to SUMMARY_FILE, else stdout). */
export function summary(data, scenario) {
  const metrics = data.metrics;
  const value = (name, key) => (metrics[name] && metrics[name].values && metrics[name].values[key]) || 0;
  const thresholds = [];
  const droppedByScenario = {};
  for (const name of Object.keys(metrics)) {
    const t = name in perScenarioDrops ? {} : metrics[name].thresholds || {};
    for (const expression of Object.keys(t)) thresholds.push({ metric: name, expression, ok: t[expression].ok });
    const sub = /^dropped_iterations\{scenario:(\w+)\}$/.exec(name);
    if (sub) droppedByScenario[sub[1]] = value(name, 'count');
  }
  const out = {
    scenario,
    iterations: value('iterations', 'count'),
    droppedIterations: value('dropped_iterations', 'count'),
    droppedByScenario,
    protocol: config.protocol,
    // Over gRPC: its calls, their failed rate and duration, under the same keys.
    httpReqs:
      config.protocol === 'grpc'
        ? value('otel_harness_grpc_req_failed', 'passes') + value('otel_harness_grpc_req_failed', 'fails')
        : value('http_reqs', 'count'),
    dataSentBytes: value('data_sent', 'count'),
    httpReqFailedRate:
      config.protocol === 'grpc' ? value('otel_harness_grpc_req_failed', 'rate') : value('http_req_failed', 'rate'),
    httpReqDurationP99Ms: value(config.protocol === 'grpc' ? 'grpc_req_duration' : 'http_req_duration', 'p(99)'),
    thresholds,
  };
  return { [env('SUMMARY_FILE', 'stdout')]: JSON.stringify(out, null, 2) };
}

/** A constant-arrival-rate scenario running `exec` at `itemsPerSecond`, `itemsPerIteration` per iteration. */
export function constantArrival(exec, itemsPerSecond, itemsPerIteration) {
  const arrival = arrivalRate(itemsPerSecond, itemsPerIteration);
  return {
    executor: 'constant-arrival-rate',
    exec,
    rate: arrival.rate,
    timeUnit: arrival.timeUnit,
    duration: config.duration,
    preAllocatedVUs: vusFor(itemsPerSecond / itemsPerIteration),
    maxVUs: config.maxVUs,
  };
}

/** Traces per iteration: one request of about `config.batch` spans. */
export const tracesPerIteration = Math.max(1, Math.round(config.batch / config.spansPerTrace));

/** One trace iteration: the next `tracesPerIteration` traces of this scenario, built and posted. */
export function traceIteration(builder, iterationInTest) {
  const first = iterationInTest * tracesPerIteration;
  return post(
    'traces',
    first,
    tracesPerIteration,
    config.spansPerTrace,
    builder.build(first, tracesPerIteration, Date.now()).body,
  );
}

/** One iteration of `config.batch` consecutive log records or data points. */
export function itemIteration(signal, build, iterationInTest) {
  const first = iterationInTest * config.batch;
  return post(signal, first, config.batch, 1, build(first, config.batch));
}

/**
 * A ramping-arrival-rate scenario running `exec` through `stages`, targets in items per second: the time
 * unit is one iteration's worth of seconds, so a target of N iterations per unit is exactly N items/s.
 */
export function rampingArrival(exec, stages, itemsPerIteration) {
  const top = Math.max(...stages.map((s) => s.target));
  return {
    executor: 'ramping-arrival-rate',
    exec,
    startRate: 0,
    timeUnit: `${itemsPerIteration}s`,
    stages: stages.map((s) => ({ ...s, target: Math.max(1, Math.round(s.target)) })),
    preAllocatedVUs: vusFor(top / itemsPerIteration),
    maxVUs: config.maxVUs,
  };
}

/** The trace payload builder of a scenario: the run's identity, SPANS_PER_TRACE spans per trace. */
export function newTraceBuilder(TraceBatchBuilder, traceShapeDefaults) {
  return new TraceBatchBuilder(
    { runId: config.runId, serviceName: config.serviceName },
    { ...traceShapeDefaults(), spansPerTrace: config.spansPerTrace },
  );
}
