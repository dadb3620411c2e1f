import { existsSync } from 'node:fs';
import { configurationError } from '../harness-error.js';
import { signalRates, type SoakOptions } from '../config/soak-options.js';
import type { Signal } from '../load/ledger.js';
import { listVariants } from '../stack/collector-variant.js';
import { phase1Dir } from '../stack/phase1.js';
import type { LogShape, MetricShape, TraceShape } from '../../generators/index.js';
import { readTargetFile, type StackEndpoints } from './endpoints.js';
import type { Endpoint } from '../stack/started-stack.js';
import type { SdkLoad } from '../load/sdk-driver.js';
import { planFaults, type ChaosFault } from '../chaos/chaos-plan.js';
import { readChaosFile } from '../chaos/chaos-presets.js';

export interface SignalPlan {
  signal: Signal;
  /** Offered items/s. */
  rateRps: number;
  /** Sequence units/s (traces/s for traces). */
  unitRate: number;
  itemsPerUnit: number;
  batchUnits: number;
}

/** The traces load for the SDK driver. */
export function sdkLoadOf(plan: SoakPlan): SdkLoad | undefined {
  const traces = plan.signals.find((s) => s.signal === 'traces');
  if (traces === undefined) return undefined;
  const { options } = plan;
  return {
    traceShape: plan.traceShape,
    rateRps: traces.rateRps,
    unitRate: traces.unitRate,
    batchUnits: traces.batchUnits,
    batchItems: options.batchItems,
    profile: options.profile,
    durationMs: options.durationMs,
    requestTimeoutMs: options.requestTimeoutMs,
  };
}

export interface SoakPlan {
  options: SoakOptions;
  signals: SignalPlan[];
  traceShape: TraceShape;
  logShape: LogShape;
  metricShape: MetricShape;
  target: { title: string; endpoints: Endpoint[]; stack: StackEndpoints } | undefined;
  /** Faults to inject (empty: none). */
  faults: ChaosFault[];
}

export { SOAK_SERVICE_NAME } from '../load/signal-loads.js';
const MIN_METRIC_INTERVAL_MS = 100;

/**
 * Turns validated options into concrete loads: units per signal, batch sizes, the metric series set.
 * Everything that can be wrong is found here, before a container starts (exit 2).
 */
export function planSoak(options: SoakOptions): SoakPlan {
  if (options.target === undefined) {
    const variants = listVariants(phase1Dir());
    if (!variants.includes(options.variant))
      throw configurationError('--variant', `one of ${variants.join(', ')}`, options.variant);
  } else {
    if (!existsSync(options.target))
      throw configurationError('--target', 'an existing file (`otel-harness up --json > stack.json`)', options.target);
    if (options.variant !== 'seed')
      throw configurationError(
        '--variant',
        "'seed' with --target (the target stack is not booted here)",
        options.variant,
      );
  }
  const target = options.target === undefined ? undefined : readTargetFile(options.target);
  const rates = signalRates(options);

  const traceShape: TraceShape = {
    spansPerTrace: options.spansPerTrace,
    attributesPerSpan: options.spanAttributes,
    attributeValueBytes: options.attributeBytes,
    errorFraction: options.errorFraction,
    slowFraction: options.slowFraction,
    spanDurationMs: 20,
    slowDurationMs: 1_000,
  };
  const logShape: LogShape = {
    bodyBytes: options.logBodyBytes,
    severityText: options.logSeverity,
    seqBlockSize: 1_000,
  };
  const metricsRate = rates.metrics ?? 0;
  let metricShape: MetricShape = { series: 1, intervalMs: options.metricIntervalMs };
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
      metricShape = { series: options.metricSeries, intervalMs };
    } else {
      metricShape = {
        series: Math.max(1, Math.round((metricsRate * options.metricIntervalMs) / 1000)),
        intervalMs: options.metricIntervalMs,
      };
    }
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
  const specs = [
    ...(options.chaos === undefined ? [] : options.chaos.split(',')),
    ...(options.chaosFile === undefined ? [] : readChaosFile(options.chaosFile)),
  ];
  if (specs.length > 0 && options.target !== undefined) {
    throw configurationError(
      '--chaos',
      'a stack booted by this run (faults act on its containers), not --target',
      options.chaos ?? options.chaosFile,
    );
  }
  const services = ['otelcol', options.traces, 'prometheus', 'loki'];
  const faults = planFaults(specs, services, options.durationMs, { traces: options.traces });
  return { options, signals, traceShape, logShape, metricShape, target, faults };
}
