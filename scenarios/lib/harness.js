// Shared by every otel-harness k6 scenario: configuration from __ENV with defaults, OTLP/HTTP posting,
// the per-batch ledger metric the harness reconciles exactly, and the summary JSON it reads.
//
// Items are built by otel-harness's generators (../../dist/generators: compiled by `npm install`), so
// every span, data point and log record carries the run id and a sequence number derived from k6's
// iteration number, and the harness's verifiers can find each one by id.
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import { decodePartialSuccess } from '../../dist/generators/index.js';

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
};

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

/** POSTs one OTLP protobuf batch and records its outcome (and any partial success) for the harness. */
export function post(signal, first, units, itemsPerUnit, body) {
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
  if (outcome === 'acknowledged') {
    const partial = partialSuccessOf(res);
    if (partial.undecodable) tags.answer += '-undecodable-body';
    if (partial.rejected > 0) {
      tags.rejected = String(partial.rejected);
      tags.reject_message = partial.errorMessage.slice(0, 200);
    }
  }
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
  http_req_failed: ['rate<0.01'],
  ...perScenarioDrops,
};

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
    httpReqs: value('http_reqs', 'count'),
    dataSentBytes: value('data_sent', 'count'),
    httpReqFailedRate: value('http_req_failed', 'rate'),
    httpReqDurationP99Ms: value('http_req_duration', 'p(99)'),
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
