import { capabilitiesOf, type DriverName } from '../load/drivers/capabilities.js';
import type { LogShape, MetricShape, TraceShape } from '../../generators/index.js';
import { planFaults, type ChaosFault } from '../chaos/chaos-plan.js';
import { readChaosFile } from '../chaos/chaos-presets.js';
import { configurationError } from '../harness-error.js';
import type { LoadSpec, SignalPlan } from '../load/load-spec.js';
import type { ResolvedStack } from '../stack/stack-options.js';
import { signalRates, type SoakOptions } from './soak-options.js';

export interface SoakPlan {
  options: SoakOptions;
  stack: ResolvedStack;
  load: LoadSpec;
  /** Faults to inject (empty: none). */
  faults: ChaosFault[];
}

const MIN_METRIC_INTERVAL_MS = 100;
/** Ticks of scraped series: at least two scrapes (one a second) apart, so that one missed scrape misses none. */
const SCRAPE_TICK_MIN_MS = 2_000;

/**
 * Turns validated options into concrete loads: units per signal, batch sizes, the metric series set.
 * Everything that can be wrong is found here, before a container starts (exit 2).
 */
export function planLoad(options: SoakOptions): LoadSpec {
  const rates = signalRates(options);
  const traceShape: TraceShape = {
    spansPerTrace: options.spansPerTrace,
    attributesPerSpan: options.spanAttributes,
    attributeValueBytes: options.attributeBytes,
    errorFraction: options.errorFraction,
    slowFraction: options.slowFraction,
    spanDurationMs: 20,
    slowDurationMs: 1_500,
  };
  const logShape: LogShape = {
    bodyBytes: options.logBodyBytes,
    severityText: options.logSeverity,
    seqBlockSize: 1_000,
  };
  if (options.payload !== 'synthetic') {
    const payload = { profile: options.payload, pods: options.payloadPods, nodes: options.payloadNodes };
    traceShape.payload = payload;
    logShape.payload = payload;
  }
  const metricsRate = rates.metrics ?? 0;
  let metricShape: MetricShape = { series: 1, intervalMs: options.metricIntervalMs };
  const types =
    options.metricTypes.length === 1 && options.metricTypes[0] === 'gauge' ? {} : { types: options.metricTypes };
  if (metricsRate > 0) {
    if (options.metricSeries !== undefined) {
      const intervalMs = Math.round((options.metricSeries / metricsRate) * 1000);
      if (intervalMs < MIN_METRIC_INTERVAL_MS) {
        throw configurationError(
          '--metric-series',
          `at least ${Math.ceil((metricsRate * MIN_METRIC_INTERVAL_MS) / 1000)} at ${metricsRate} points/s (interval ≥ ${MIN_METRIC_INTERVAL_MS} ms)`,
          options.metricSeries,
        );
      }
      metricShape = { series: options.metricSeries, intervalMs, ...types };
    } else {
      metricShape = {
        series: Math.max(1, Math.round((metricsRate * options.metricIntervalMs) / 1000)),
        intervalMs: options.metricIntervalMs,
        ...types,
      };
    }
  }
  if (metricsRate > 0 && metricShape.series < options.metricTypes.length) {
    throw configurationError(
      '--metric-types',
      `at most ${metricShape.series} type(s): the run has ${metricShape.series} metric series and each type needs one (raise --metric-series or the metrics rate)`,
      options.metricTypes.join(','),
    );
  }
  const signals: SignalPlan[] = [];
  for (const signal of ['traces', 'metrics', 'logs'] as const) {
    const rateRps = rates[signal];
    if (rateRps === undefined) continue;
    const itemsPerUnit = signal === 'traces' ? options.spansPerTrace : 1;
    signals.push({
      signal,
      rateRps,
      unitRate: rateRps / itemsPerUnit,
      itemsPerUnit,
      batchUnits: Math.max(1, Math.round(options.batchItems / itemsPerUnit)),
    });
  }
  return {
    driver: options.driver,
    scenario: options.scenario,
    k6Path: options.k6Path,
    k6Parallelism: options.parallelism,
    signals,
    traceShape,
    logShape,
    metricShape,
    profile: options.profile,
    durationMs: options.durationMs,
    batchItems: options.batchItems,
    maxInFlight: options.maxInFlight,
    ...(options.connections === undefined ? {} : { connections: options.connections }),
    requestTimeoutMs: options.requestTimeoutMs,
    transport: { protocol: options.protocol, compression: options.compression },
  };
}

/** What the stack asks of any driver: TLS to its OTLP target, log records written to its container log files. */
export function checkDriverFitsStack(driver: DriverName, stack: ResolvedStack): void {
  if (stack.choice.tlsTarget === true && !capabilitiesOf(driver).tls)
    throw configurationError(
      '--driver',
      'native for an OTLP target with TLS settings (a CA, a client certificate, --insecure-skip-verify)',
      driver,
    );
  if (stack.choice.scrapeMetrics === true && !capabilitiesOf(driver).localSources)
    throw configurationError(
      '--driver',
      'native with --metric-source scrape (it serves the metric samples from the targets Prometheus scrapes)',
      driver,
    );
  if (stack.choice.logFiles === true && !capabilitiesOf(driver).localSources)
    throw configurationError(
      '--driver',
      'native with --log-source file (it writes the log records into the container log files the agent reads)',
      driver,
    );
}

/** A soak's plan: the load, the stack it runs on, and the faults (checked against the stack's targets). */
export function planSoak(options: SoakOptions, stack: ResolvedStack): SoakPlan {
  const load = planLoad(options);
  if (capabilitiesOf(options.driver).onCluster) {
    if (!stack.topology.capabilities.clusterLoad)
      throw configurationError(
        '--driver',
        'k6-operator on a Kubernetes cluster: --phase 3, or attach mode with --kubeconfig and --k6-endpoint',
        `k6-operator on ${stack.topology.title}`,
      );
    // The stack deploys the operator and loads the k6 images (phase 3), or checks the operator is there.
    stack.choice.clusterLoad = true;
  }
  checkDriverFitsStack(options.driver, stack);
  if (options.verifyFromStore && stack.choice.storage !== 's3')
    throw configurationError(
      '--verify-from-store',
      'a stack booted with --storage s3 (its backends keep their data in the object store)',
      `${stack.topology.title}${stack.choice.storage === undefined ? '' : ` with --storage ${stack.choice.storage}`}`,
      'add --storage s3',
    );
  if (stack.choice.scrapeMetrics === true && load.signals.some((s) => s.signal === 'metrics')) {
    if ((load.metricShape.types ?? ['gauge']).some((t) => t !== 'gauge'))
      throw configurationError('--metric-types', 'gauge with --metric-source scrape', options.metricTypes.join(','));
    if (load.metricShape.intervalMs < SCRAPE_TICK_MIN_MS)
      throw configurationError(
        '--metric-interval',
        `at least ${SCRAPE_TICK_MIN_MS / 1000} s between ticks with --metric-source scrape (Prometheus scrapes every second)`,
        `${load.metricShape.intervalMs} ms`,
      );
  }
  const specs = [
    ...(options.chaos === undefined ? [] : options.chaos.split(',')),
    ...(options.chaosFile === undefined ? [] : readChaosFile(options.chaosFile)),
  ];
  const targets = stack.topology.faultTargets(stack.options);
  if (specs.length > 0 && targets === undefined) {
    throw configurationError(
      '--chaos',
      `a stack booted by this run (faults act on its containers), not ${stack.topology.title}`,
      options.chaos ?? options.chaosFile,
    );
  }
  const faults =
    targets === undefined
      ? []
      : planFaults(specs, targets.services, options.durationMs, targets.aliases, targets.scalable);
  return { options, stack, load, faults };
}
