import { STORE_HANDOVERS, type StoreHandoverMode } from '../stack/object-store.js';
import { METRIC_TYPES, PAYLOAD_PROFILES, type MetricType, type PayloadProfile } from '../../generators/index.js';
import { configurationError } from '../harness-error.js';
import { SIGNALS, type Signal } from '../load/ledger.js';
import { capabilitiesOf } from '../load/drivers/capabilities.js';
import { COMPRESSIONS, PROTOCOLS, type Compression, type Protocol } from '../load/otlp/transport.js';
import { DRIVERS, type DriverName } from '../load/load-spec.js';
import { parseProfile, type RateProfile } from '../load/rate-profile.js';
import { planSignalRates } from '../load/signal-plan.js';
import { k6Scenario } from '../load/drivers/k6/k6-scenarios.js';
import {
  bool,
  duration,
  ratio,
  nonNegativeInt,
  number,
  listOf,
  oneOf,
  positive,
  positiveInt,
  text,
  type OptionTable,
  type Parse,
} from '../options/option-table.js';
import { resolveOptions, type RawFlags } from '../options/resolve.js';

/** A loss budget: an item count, or a percentage of the acknowledged items. */
export type LossBudget = { kind: 'items'; value: number } | { kind: 'percent'; value: number };

/** What to offer and how to judge it (the stack is chosen by the stack options and its topology's). */
export interface SoakOptions {
  driver: DriverName;
  /** k6 scenario (scenarios/<name>.js) for --driver k6. */
  scenario: string;
  /** A k6 binary to use instead of the one built here. */
  k6Path: string | undefined;
  /** Runners of the k6-operator TestRun (--driver k6-operator). */
  parallelism: number;
  /** Faults to inject during the load (comma-separated `action:target@at[+duration][=value]`). */
  chaos: string | undefined;
  /** A YAML file of faults. */
  chaosFile: string | undefined;
  rateRps: number | undefined;
  signals: string;
  durationMs: number;
  profile: RateProfile;
  batchItems: number;
  maxInFlight: number;
  /** Connections (HTTP/1.1) or HTTP/2 sessions (gRPC) to the OTLP endpoint; the driver's default when not given. */
  connections: number | undefined;
  requestTimeoutMs: number;
  /** OTLP protocol (the driver's own when not given). */
  protocol: Protocol;
  compression: Compression;
  spansPerTrace: number;
  spanAttributes: number;
  attributeBytes: number;
  errorFraction: number;
  slowFraction: number;
  logBodyBytes: number;
  logSeverity: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  payload: PayloadProfile;
  payloadPods: number;
  payloadNodes: number;
  metricIntervalMs: number;
  metricSeries: number | undefined;
  metricTypes: MetricType[];
  drainTimeoutMs: number;
  /** Check only a uniform sample of this many traces (explicit opt-in). */
  verifySample: number | undefined;
  /** After verifying, hand the backends over to the object store, restart them empty, and verify again. */
  verifyFromStore: boolean;
  /** How they hand over: flush (then a graceful stop) or kill (no flush). */
  storeHandover: StoreHandoverMode;
  canaryIntervalMs: number;
  canaryTimeoutMs: number;
  maxLoss: LossBudget;
  minAchievedRatio: number;
  maxLatencyP99Ms: number | undefined;
  reportDir: string;
  json: boolean;
}

/** A whole number is an item count; a percentage (`0.1%`) or a ratio below 1 (`0.001`) a share. */
const lossBudget: Parse<LossBudget> = (raw, name) => {
  const t = raw.trim();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (pct && Number(pct[1]) <= 100) return { kind: 'percent', value: Number(pct[1]) };
  if (/^\d+$/.test(t)) return { kind: 'items', value: Number(t) };
  if (/^0?\.\d+$/.test(t)) return { kind: 'percent', value: Number(t) * 100 };
  throw configurationError(name, 'an item count (e.g. 0) or a share (0.1% or 0.001)', raw);
};

/** OTEL_EXPORTER_OTLP_PROTOCOL's values. */
const protocol: Parse<Protocol> = oneOf(PROTOCOLS);

/** Every soak option: flag, default (once), parser and help. Env: OTEL_HARNESS_<FLAG IN UPPER SNAKE>. */
export const SOAK_OPTIONS: OptionTable = {
  name: 'soak',
  title: 'soak options',
  options: [
    {
      key: 'driver',
      flag: 'driver',
      default: 'native',
      parse: oneOf(DRIVERS),
      help: 'native (OTLP/HTTP or gRPC, per --protocol and --compression), sdk (OpenTelemetry JS SDK and its OTLP exporters, gRPC or HTTP protobuf), k6, or k6-operator (k6 TestRun on the cluster: --phase 3, or attach with --kubeconfig and --k6-endpoint)',
    },
    {
      key: 'scenario',
      flag: 'scenario',
      default: 'traces',
      parse: text,
      help: 'k6 scenario with --driver k6: traces, traces-ramping, logs, metrics, mixed, steps',
    },
    {
      key: 'parallelism',
      flag: 'parallelism',
      default: '2',
      parse: number('a whole number from 1 to 100', (n) => Number.isInteger(n) && n >= 1 && n <= 100),
      help: 'runners of the k6-operator TestRun (--driver k6-operator); each runs its segment of the rate',
    },
    {
      key: 'k6Path',
      flag: 'k6',
      default: undefined,
      parse: text,
      help: 'a k6 binary to use instead of the one built here (first use builds it)',
    },
    {
      key: 'chaos',
      flag: 'chaos',
      default: undefined,
      parse: text,
      help: "faults during the load, e.g. 'kill:collector@60s,outage:loki@90s+20s' (actions: kill, restart, pause, partition, outage, throttle)",
    },
    {
      key: 'chaosFile',
      flag: 'chaos-file',
      default: undefined,
      parse: text,
      help: 'a YAML list of faults',
    },
    {
      key: 'rateRps',
      flag: 'rate',
      default: '1000',
      parse: positive,
      help: 'total offered items/s (spans, data points, log records)',
    },
    {
      key: 'signals',
      flag: 'signals',
      default: 'traces,metrics,logs',
      parse: text,
      help: 'signals sharing --rate evenly; name=rate gives one its own rate',
    },
    { key: 'durationMs', flag: 'duration', default: '1m', parse: duration, help: 'load duration (30s, 10m, 1h)' },
    {
      key: 'profile',
      flag: 'profile',
      default: 'constant',
      parse: (r) => parseProfile(r),
      help: 'constant, ramp:<duration> or steps:<n>',
    },
    {
      key: 'batchItems',
      flag: 'batch',
      default: '512',
      parse: positiveInt,
      help: 'items per request (512: the OpenTelemetry SDK export batch size)',
    },
    {
      key: 'maxInFlight',
      flag: 'max-in-flight',
      default: '32',
      parse: positiveInt,
      help: 'requests in flight per signal before batches are dropped at the generator',
    },
    {
      key: 'connections',
      flag: 'connections',
      default: undefined,
      parse: positiveInt,
      help: 'connections to the OTLP endpoint: the HTTP/1.1 pool, or HTTP/2 sessions over gRPC (--driver native; default: 4 per signal over HTTP, 2 over gRPC)',
    },
    {
      key: 'requestTimeoutMs',
      flag: 'request-timeout',
      default: '10s',
      // OTEL_EXPORTER_OTLP_TIMEOUT is milliseconds without a unit, as the specification writes it.
      parse: (raw, name) =>
        name === 'OTEL_EXPORTER_OTLP_TIMEOUT' && /^\d+$/.test(raw) ? Number(raw) : duration(raw, name),
      env: ['OTEL_EXPORTER_OTLP_TIMEOUT'],
      help: 'per-request timeout',
    },
    {
      key: 'protocol',
      flag: 'protocol',
      default: undefined,
      env: ['OTEL_EXPORTER_OTLP_PROTOCOL'],
      parse: protocol,
      help: "OTLP protocol: http/protobuf, grpc or http/json (native: all three; sdk and k6: http/protobuf or grpc; k6-operator: http/protobuf; default: the driver's own, http/protobuf for native and k6, grpc for sdk)",
    },
    {
      key: 'compression',
      flag: 'compression',
      default: 'none',
      env: ['OTEL_EXPORTER_OTLP_COMPRESSION'],
      parse: oneOf(COMPRESSIONS),
      help: 'none or gzip (--driver native)',
    },
    { key: 'spansPerTrace', flag: 'spans-per-trace', default: '5', parse: positiveInt, help: 'spans per trace' },
    {
      key: 'spanAttributes',
      flag: 'span-attributes',
      default: '8',
      parse: nonNegativeInt,
      help: 'filler attributes per span',
    },
    {
      key: 'attributeBytes',
      flag: 'attribute-bytes',
      default: '16',
      parse: nonNegativeInt,
      help: 'bytes per filler attribute value',
    },
    {
      key: 'errorFraction',
      flag: 'error-fraction',
      default: '0.01',
      parse: ratio('a ratio from 0 to 1 (0.05 or 5%)', (r) => r >= 0 && r <= 1),
      help: 'fraction of traces with an ERROR root span',
    },
    {
      key: 'slowFraction',
      flag: 'slow-fraction',
      default: '0.01',
      parse: ratio('a ratio from 0 to 1 (0.05 or 5%)', (r) => r >= 0 && r <= 1),
      help: 'fraction of slow (1.5 s) traces',
    },
    { key: 'logBodyBytes', flag: 'log-body-bytes', default: '200', parse: positiveInt, help: 'bytes per log line' },
    {
      key: 'logSeverity',
      flag: 'log-severity',
      default: 'INFO',
      parse: oneOf(['DEBUG', 'INFO', 'WARN', 'ERROR'] as const),
      help: 'log severity (the synthetic payload)',
    },
    {
      key: 'payload',
      flag: 'payload',
      default: 'synthetic',
      parse: oneOf(PAYLOAD_PROFILES),
      help: 'what items look like: synthetic (fixed shape, filler attributes) or web (an HTTP service on Kubernetes with database and client spans, semantic-convention attributes, exception events, links, JSON log lines with a severity mix and trace context, besides the --span-attributes fillers (0 for none); --driver native)',
    },
    {
      key: 'payloadPods',
      flag: 'payload-pods',
      default: '20',
      parse: positiveInt,
      help: 'pods (k8s.pod.name) the web payload comes from, one per batch',
    },
    {
      key: 'payloadNodes',
      flag: 'payload-nodes',
      default: '5',
      parse: positiveInt,
      help: 'nodes (k8s.node.name) the web payload comes from',
    },
    {
      key: 'metricIntervalMs',
      flag: 'metric-interval',
      default: '5s',
      parse: duration,
      help: 'sample interval of each metric series',
    },
    {
      key: 'metricSeries',
      flag: 'metric-series',
      default: undefined,
      parse: positiveInt,
      help: 'series count (default: metrics rate × interval)',
    },
    {
      key: 'metricTypes',
      flag: 'metric-types',
      default: 'gauge',
      parse: listOf(METRIC_TYPES),
      help: 'OTLP metric types the series cycle through (series s is the (s mod n)th): gauge, sum (cumulative, monotonic), histogram, exponential_histogram (cumulative); each data point verified exactly (--driver native)',
    },
    {
      key: 'drainTimeoutMs',
      flag: 'drain-timeout',
      default: '5m',
      parse: duration,
      help: "longest wait for queues to empty and counts to settle (then the collectors' counters bound what can still arrive)",
    },
    {
      key: 'verifySample',
      flag: 'verify-sample',
      default: undefined,
      parse: positiveInt,
      help: 'check only a uniform sample of this many traces (opt-in; it passes only if its 95 % bound fits --max-loss)',
    },
    {
      key: 'verifyFromStore',
      flag: 'verify-from-store',
      default: 'false',
      parse: bool,
      boolean: true,
      help:
        'with --storage s3: after verifying, the backends flush their ingesters to the object store and start ' +
        'again with no local state, and every item is verified again: found means found in object storage',
    },
    {
      key: 'storeHandover',
      flag: 'store-handover',
      default: 'flush',
      parse: oneOf(STORE_HANDOVERS),
      onlyWith: { key: 'verifyFromStore', value: 'true' },
      help:
        '--verify-from-store: flush (the ingesters flush to the store, then stop gracefully) or kill (SIGKILL, no ' +
        'flush: what lives only in an ingester — what a restart without its disk loses)',
    },
    {
      key: 'canaryIntervalMs',
      flag: 'canary-interval',
      default: '2s',
      parse: duration,
      help: 'one latency canary per signal this often',
    },
    {
      key: 'canaryTimeoutMs',
      flag: 'canary-timeout',
      default: '60s',
      parse: duration,
      help: 'a canary not queryable after this counts as timed out',
    },
    {
      key: 'maxLoss',
      flag: 'max-loss',
      default: '0',
      parse: lossBudget,
      help: 'lost items allowed per signal (count or %); more → exit 4',
    },
    {
      key: 'minAchievedRatio',
      flag: 'min-achieved-ratio',
      default: '95%',
      parse: ratio('a ratio from 0 to 1 (95% or 0.95)', (r) => r >= 0 && r <= 1),
      help: 'acknowledged/offered rate below this → exit 3',
    },
    {
      key: 'maxLatencyP99Ms',
      flag: 'max-latency-p99',
      default: undefined,
      parse: duration,
      help: 'canary write→queryable p99 above this → exit 3',
    },
    { key: 'reportDir', flag: 'report-dir', default: 'reports', parse: text, help: 'where reports/<run id>/ goes' },
    { key: 'json', flag: 'json', default: 'false', parse: bool, help: 'print result.json on stdout', boolean: true },
  ],
};

/** Flags → env → defaults, parsed and cross-checked. Throws a configuration error (exit 2). */
export function resolveSoakOptions(flags: RawFlags, env: NodeJS.ProcessEnv): SoakOptions {
  const options = resolveOptions([SOAK_OPTIONS], flags, env).values as unknown as SoakOptions;
  const can = capabilitiesOf(options.driver);
  if (can.k6Scenario) {
    const scenario = k6Scenario(options.scenario);
    const explicitSignals = flags.signals ?? env.OTEL_HARNESS_SIGNALS;
    if (explicitSignals === undefined || explicitSignals === '') options.signals = scenario.signals.join(',');
    else if (typeof explicitSignals !== 'string')
      throw configurationError('--signals', 'one value', explicitSignals.join(' '));
    const asked = planSignalRates(options.rateRps, options.signals);
    const names = Object.keys(asked).sort().join(',');
    if (names !== [...scenario.signals].sort().join(',')) {
      throw configurationError(
        '--signals',
        `the signals of k6 scenario ${scenario.name} (${scenario.signals.join(', ')})`,
        options.signals,
      );
    }
  }
  options.protocol ??= can.protocols[0]!;
  if (!can.protocols.includes(options.protocol))
    throw configurationError(
      '--protocol',
      `${can.protocols.join(' or ')} with --driver ${options.driver} (${can.transportWhy ?? 'the only one it speaks'})`,
      options.protocol,
    );
  if (!can.compressions.includes(options.compression))
    throw configurationError(
      '--compression',
      `${can.compressions.join(' or ')} with --driver ${options.driver} (${can.transportWhy ?? 'the only one it sends'})`,
      options.compression,
    );
  const narrower = can.compressionsOver?.[options.protocol];
  if (narrower !== undefined && !narrower.compressions.includes(options.compression))
    throw configurationError(
      '--compression',
      `${narrower.compressions.join(' or ')} with --driver ${options.driver} --protocol ${options.protocol} (${narrower.why})`,
      options.compression,
    );
  if (options.connections !== undefined && !can.payloads)
    throw configurationError(
      '--connections',
      `no value with --driver ${options.driver} (its exporters or scenarios keep their own connections)`,
      options.connections,
    );
  if (options.payload !== 'synthetic' && !can.payloads)
    throw configurationError(
      '--payload',
      `synthetic with --driver ${options.driver} (only the native driver builds the other profiles)`,
      options.payload,
    );
  if ((options.metricTypes.length !== 1 || options.metricTypes[0] !== 'gauge') && !can.payloads)
    throw configurationError(
      '--metric-types',
      `gauge with --driver ${options.driver} (only the native driver builds the other types)`,
      options.metricTypes.join(','),
    );
  const rates = planSignalRates(options.rateRps, options.signals); // validates --signals against --rate
  const unsent = (Object.keys(rates) as Signal[]).filter((s) => !can.signals.includes(s));
  if (unsent.length > 0) {
    throw configurationError(
      can.k6Scenario ? '--scenario' : '--signals',
      `${can.k6Scenario ? 'a scenario of' : 'only'} ${can.signals.join(' or ')} with --driver ${options.driver} (${can.signalsWhy ?? 'it sends no others'})`,
      can.k6Scenario ? options.scenario : options.signals,
    );
  }
  if (options.spansPerTrace > 65535)
    throw configurationError('--spans-per-trace', 'at most 65535', options.spansPerTrace);
  if (options.profile.kind === 'ramp' && options.profile.rampMs > options.durationMs) {
    throw configurationError(
      '--profile',
      `a ramp no longer than --duration (${options.durationMs / 1000}s)`,
      `ramp:${options.profile.rampMs / 1000}s`,
    );
  }
  return options;
}

/** Per-signal item rates of a resolved plan (only the signals that run). */
export function signalRates(options: SoakOptions): Partial<Record<Signal, number>> {
  const rates = planSignalRates(options.rateRps, options.signals);
  return Object.fromEntries(SIGNALS.filter((s) => rates[s] !== undefined).map((s) => [s, rates[s]]));
}
