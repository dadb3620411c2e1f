import { connectDockerEngine } from '../docker/docker-engine.js';
import { HarnessError } from '../harness-error.js';
import { drain } from '../drain/drain.js';
import { Ledger, type Signal } from '../load/ledger.js';
import { driveNative, LiveCounters } from '../load/native-driver.js';
import { loadsOf, SOAK_SERVICE_NAME } from '../load/signal-loads.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalog } from '../images/catalog.js';
import { cacheDir, packageRoot } from '../paths.js';
import { ensureK6 } from '../load/k6/k6-binary.js';
import { ChaosRunner } from '../chaos/chaos-runner.js';
import { analyseChaos, unanalysed } from '../chaos/chaos-analysis.js';
import { stackFactsOf } from '../chaos/stack-facts.js';
import { driveK6, inspectScenario } from '../load/k6/k6-driver.js';
import { k6Env, k6Scenario, scenarioPath, type K6RunInput } from '../load/k6/k6-scenarios.js';
import { OtlpHttpClient } from '../load/otlp-http-client.js';
import { describeProfile } from '../load/rate-profile.js';
import type { SchedulerReport } from '../load/open-model-scheduler.js';
import { BACKEND_COUNTERS, deltas, readBackendCounters } from '../observe/backend-counters.js';
import { collectorCounters, counterDelta, type CollectorCounters } from '../observe/collector-metrics.js';
import { scrape } from '../observe/prometheus-text.js';
import { ResourceSampler } from '../observe/resource-sampler.js';
import { containerLogLines, digestCollectorLog } from '../observe/collector-log.js';
import type { SoakResult, SignalLoadResult } from '../report/result.js';
import { RESULT_SCHEMA_VERSION } from '../report/result.js';
import { phase1 } from '../stack/phase1-stack.js';
import type { StartedStack } from '../stack/started-stack.js';
import { runCanaries } from '../verify/latency-canary.js';
import type { ImageProgress } from '../images/image-builder.js';
import { assessLimits, describeBudget, thresholds, verdict } from './assess.js';
import { checkReachable, endpointsFromList, type StackEndpoints } from './endpoints.js';
import { sdkLoadOf, type SoakPlan } from './soak-plan.js';
import { backendCount, traceStoreOf, verifySignals } from './verify-signals.js';
import { driveSdk } from '../load/sdk-driver.js';

export interface SoakIo {
  progress(message: string): void;
  images: ImageProgress;
}

const RANGE_LIMIT = 1_000;
const PROGRESS_MS = 5_000;
/** The seeds' batch processor flushes after 5 s; drain scrapes must be further apart to see it. */
const COLLECTOR_DRAIN_POLL_MS = 6_000;

/**
 * One soak run: boot (or attach to) a stack, hold the offered rate, drain, verify every acknowledged item
 * against the backends, and assess. Always returns a result (partial when interrupted); the stack it
 * booted is removed before returning.
 */
export async function runSoak(
  plan: SoakPlan,
  runId: string,
  io: SoakIo,
  abort: AbortSignal,
  version: string,
): Promise<{ result: SoakResult; error: unknown }> {
  const { options } = plan;
  const startedAt = new Date();
  const result: SoakResult = {
    schemaVersion: RESULT_SCHEMA_VERSION,
    tool: { name: 'otel-harness', version },
    command: 'soak',
    runId,
    partial: true,
    startedAt: startedAt.toISOString(),
    endedAt: startedAt.toISOString(),
    plan: {
      phase: options.phase,
      traces: options.traces,
      variant: options.variant,
      source: options.source,
      target: options.target,
      driver: options.driver,
      profile: describeProfile(options.profile),
      durationMs: options.durationMs,
      rateRps: plan.signals.reduce((n, s) => n + s.rateRps, 0),
      signals: Object.fromEntries(plan.signals.map((s) => [s.signal, s.rateRps])),
      maxLoss: describeBudget(options.maxLoss),
      minAchievedRatio: options.minAchievedRatio,
      maxLatencyP99Ms: options.maxLatencyP99Ms,
    },
    stack: { title: '', images: {}, bootSeconds: undefined, endpoints: [] },
    load: { elapsedMs: 0, interrupted: false, signals: {} },
    drain: undefined,
    verification: {
      signals: {},
      collector: undefined,
      collectorQueuePeak: undefined,
      backendCounters: {},
      collectorLog: undefined,
    },
    latency: {},
    k6: undefined,
    chaos: undefined,
    resources: undefined,
    limits: { limitedBy: 'nothing', reasons: [] },
    thresholds: [],
    verdict: { status: 'error', exitCode: 1, reasons: ['the run did not finish'] },
  };
  const ledger = new Ledger({ traces: plan.traceShape.spansPerTrace, metrics: 1, logs: 1 });
  let stack: StartedStack | undefined;
  let sampler: ResourceSampler | undefined;
  let watcher: NodeJS.Timeout | undefined;
  const signals = plan.signals.map((s) => s.signal);
  let metricStartMs = Date.now();
  let error: unknown;
  let k6: PreparedK6 | undefined;
  let chaos: ChaosRunner | undefined;
  const queueSeries: { tMs: number; size: number }[] = [];
  try {
    // ── k6: built and the scenario loaded before anything starts (a bad scenario is exit 2) ─────────
    if (options.driver === 'k6') k6 = await prepareK6(plan, runId, (m) => io.progress(m));

    // ── stack ───────────────────────────────────────────────────────────────
    let endpoints: StackEndpoints;
    if (plan.target !== undefined) {
      endpoints = plan.target.stack;
      result.stack = { title: plan.target.title, images: {}, bootSeconds: undefined, endpoints: plan.target.endpoints };
      io.progress(`target: ${plan.target.title}`);
      await checkReachable(endpoints);
    } else {
      stack = await phase1()
        .withTraces(options.traces)
        .withVariant(options.variant)
        .withImageSource(options.source)
        .withPorts('random')
        .withRunId(runId)
        .withAbortSignal(abort)
        .withProgress((m) => io.progress(m), io.images)
        .start();
      result.stack = {
        title: stack.definition.title,
        images: Object.fromEntries([...stack.services].map(([name, s]) => [name, s.image])),
        bootSeconds: stack.bootSeconds,
        endpoints: stack.endpoints(),
      };
      endpoints = endpointsFromList(stack.endpoints(), 'stack');
      io.progress(`${stack.definition.title} ready in ${stack.bootSeconds.toFixed(1)} s`);
    }
    abort.throwIfAborted();

    // ── baseline ────────────────────────────────────────────────────────────
    const metricsUrls = componentMetricsUrls(endpoints);
    const countersBefore = await readBackendCounters(metricsUrls);
    const collectorBefore = await collectorScrape(endpoints, signals);
    let queuePeak = 0;
    let queueNow = 0;
    let loadClockStart = Date.now();
    if (endpoints.collectorMetrics !== undefined) {
      const url = endpoints.collectorMetrics;
      watcher = setInterval(() => {
        scrape(url)
          .then((samples) => {
            queueNow = signals.reduce((n, s) => n + collectorCounters(samples, s).queueSize, 0);
            queuePeak = Math.max(queuePeak, queueNow);
            queueSeries.push({ tMs: Date.now() - loadClockStart, size: queueNow });
          })
          .catch(() => undefined);
      }, 2_500);
    }
    if (stack !== undefined) {
      const engine = await connectDockerEngine();
      sampler = new ResourceSampler(
        engine.dockerode,
        new Map([...stack.services].map(([name, s]) => [name, s.container.getId()])),
      ).start();
    }

    // ── load, with canaries and progress ───────────────────────────────────
    const canaryStop = new AbortController();
    const canaryClient = new OtlpHttpClient(endpoints.otlpHttp, {
      connections: 2,
      timeoutMs: options.requestTimeoutMs,
    });
    const canaries = runCanaries(
      runId,
      {
        client: canaryClient,
        ...(endpoints.traces === undefined || !signals.includes('traces') ? {} : { traces: traceStoreOf(endpoints) }),
        ...(endpoints.loki === undefined || !signals.includes('logs') ? {} : { lokiUrl: endpoints.loki.query }),
        ...(endpoints.prometheus === undefined || !signals.includes('metrics')
          ? {}
          : { prometheusUrl: endpoints.prometheus.query }),
      },
      {
        intervalMs: options.canaryIntervalMs,
        pollMs: 250,
        timeoutMs: options.canaryTimeoutMs,
        stop: canaryStop.signal,
      },
    );
    const live = new LiveCounters();
    const loadStart = Date.now();
    metricStartMs = loadStart;
    loadClockStart = loadStart;
    if (plan.faults.length > 0 && stack !== undefined) {
      chaos = new ChaosRunner((await connectDockerEngine()).dockerode, stack, plan.faults, (m) => io.progress(m)).start(
        loadStart,
        abort,
      );
    }
    let lastAcked = 0;
    let lastAt = loadStart;
    const ticker = setInterval(() => {
      const now = Date.now();
      const acked = live.total('acknowledged');
      const elapsed = (now - loadStart) / 1000;
      const achieved = ((acked - lastAcked) / Math.max(1, now - lastAt)) * 1000;
      lastAcked = acked;
      lastAt = now;
      io.progress(
        `load ${elapsed.toFixed(0)}/${(options.durationMs / 1000).toFixed(0)} s (ETA ${Math.max(0, options.durationMs / 1000 - elapsed).toFixed(0)} s) | ` +
          `offered ${result.plan.rateRps.toFixed(0)}/s achieved ${achieved.toFixed(0)}/s | acked ${acked} refused ${live.total('refused')} ` +
          `failed ${live.total('failed')} dropped ${live.total('dropped')} | collector queue ${queueNow}`,
      );
    }, PROGRESS_MS);
    let reports: Map<Signal, SchedulerReport>;
    try {
      reports =
        k6 !== undefined
          ? await driveK6Plan(k6, plan, runId, loadStart, endpoints, ledger, live, abort, result, (pid) =>
              sampler?.watchGeneratorProcess(pid, 'k6', availableParallelism()),
            )
          : options.driver === 'sdk'
            ? await driveSdkPlan(plan, runId, ledger, live, endpoints.otlpGrpc, abort)
            : await driveNative(loadsOf(plan, runId, loadStart), ledger, live, {
                endpoint: endpoints.otlpHttp,
                profile: options.profile,
                durationMs: options.durationMs,
                maxInFlight: options.maxInFlight,
                timeoutMs: options.requestTimeoutMs,
                signal: abort,
              });
    } finally {
      clearInterval(ticker);
      canaryStop.abort();
      // Resource figures describe the load window only (verification queries would distort them).
      result.resources = sampler?.stop();
      sampler = undefined;
    }
    result.load = {
      elapsedMs: Math.max(...[...reports.values()].map((r) => r.issueElapsedMs), 0),
      interrupted: abort.aborted,
      signals: loadResults(plan, ledger, reports, metricStartMs),
    };
    io.progress(
      `load done: ${live.total('acknowledged')} items acknowledged, ${live.total('refused')} refused, ${live.total('failed')} failed, ${live.total('dropped')} dropped`,
    );
    abort.throwIfAborted();
    if (chaos !== undefined) {
      io.progress('chaos: waiting for the last fault to be lifted');
      await chaos.settled();
    }

    // ── drain ──────────────────────────────────────────────────────────────
    io.progress('draining: waiting for collector queues to empty and backend counts to settle');
    result.drain = await drain({
      collectorMetricsUrl: endpoints.collectorMetrics,
      signals,
      backendCount: (s) => backendCount(s, endpoints, runId),
      timeoutMs: options.drainTimeoutMs,
      collectorPollMs: COLLECTOR_DRAIN_POLL_MS,
      backendPollMs: 3_000,
      signal: abort,
      progress: (m) => io.progress(m),
    });
    io.progress(
      result.drain.drained
        ? `drained in ${(result.drain.elapsedMs / 1000).toFixed(1)} s`
        : `drain incomplete: ${result.drain.reason ?? ''}`,
    );

    // ── verify ─────────────────────────────────────────────────────────────
    result.verification.signals = await verifySignals(plan, runId, ledger, endpoints, metricStartMs, (m) =>
      io.progress(m),
    );
    io.progress('waiting for outstanding latency canaries');
    result.latency = await canaries;
    await canaryClient.close();
    const collectorAfter = await collectorScrape(endpoints, signals);
    if (collectorBefore !== undefined && collectorAfter !== undefined) {
      result.verification.collector = Object.fromEntries(
        signals.map((s) => [s, counterDelta(collectorBefore[s]!, collectorAfter[s]!)]),
      );
    }
    result.verification.collectorQueuePeak = endpoints.collectorMetrics === undefined ? undefined : queuePeak;
    const countersAfter = await readBackendCounters(metricsUrls);
    result.verification.backendCounters = Object.fromEntries(
      Object.keys(metricsUrls).map((c) => [
        c,
        countersBefore[c] !== undefined && countersAfter[c] !== undefined
          ? deltas(countersBefore[c], countersAfter[c])
          : undefined,
      ]),
    );
    if (stack !== undefined) {
      const engine = await connectDockerEngine();
      const lines = await containerLogLines(engine.dockerode, stack.service('otelcol').container.getId()).catch(
        () => [],
      );
      result.verification.collectorLog = digestCollectorLog(lines);
    }
    if (chaos !== undefined && stack !== undefined) {
      const collectorConfig = stack.service('otelcol').definition.files[0]?.content ?? '';
      result.chaos = analyseChaos({
        events: chaos.events,
        ledger: Object.fromEntries(
          signals.map((sig) => [sig, { entries: ledger.entriesOf(sig), itemsPerSeq: ledger.itemsPer(sig) }]),
        ),
        verification: result.verification.signals,
        queue: queueSeries,
        facts: stackFactsOf(collectorConfig, options.variant),
      });
    }
    result.partial = false;
  } catch (err) {
    error = err;
  } finally {
    if (watcher !== undefined) clearInterval(watcher);
    if (chaos !== undefined && result.chaos === undefined) {
      // Interrupted or failed mid-fault: lift every fault (unpause, reconnect) before teardown.
      await chaos.undo();
      result.chaos = {
        variant: options.variant,
        faults: chaos.events.map(unanalysed),
        unattributed: {},
      };
    }
    result.resources ??= sampler?.stop();
    result.limits = assessLimits(result.load.signals, result.resources, options.minAchievedRatio);
    result.thresholds = result.partial
      ? []
      : [
          ...k6Thresholds(result),
          ...thresholds({
            verification: result.verification.signals,
            load: result.load.signals,
            latency: result.latency,
            maxLoss: options.maxLoss,
            minAchievedRatio: options.minAchievedRatio,
            maxLatencyP99Ms: options.maxLatencyP99Ms,
          }),
        ];
    result.verdict = verdict(result, abort.aborted);
    if (error !== undefined && !abort.aborted) {
      const exitCode = error instanceof HarnessError ? error.exitCode : 1;
      result.verdict = {
        status: 'error',
        exitCode,
        reasons: [error instanceof Error ? error.message : JSON.stringify(error)],
      };
    }
    if (result.partial && Object.keys(result.load.signals).length === 0 && ledger.signals().length > 0) {
      result.load.signals = loadResults(plan, ledger, new Map(), metricStartMs);
    }
    result.endedAt = new Date().toISOString();
    if (stack !== undefined) {
      io.progress(`removing run ${runId}`);
      await stack.stop();
    }
  }
  return { result, error };
}

interface PreparedK6 {
  binary: string;
  script: string;
  workDir: string;
}

/** Builds k6 on first use and loads the scenario with `k6 inspect` (a syntax error: exit 2, k6's message). */
async function prepareK6(plan: SoakPlan, runId: string, progress: (m: string) => void): Promise<PreparedK6> {
  const tool = loadCatalog().tools.get('k6');
  if (tool === undefined) throw new Error('the catalog has no k6 tool');
  const binary = await ensureK6(tool, {
    cacheDir: cacheDir(),
    ...(plan.options.k6Path === undefined ? {} : { explicit: plan.options.k6Path }),
    progress,
  });
  const scenario = k6Scenario(plan.options.scenario);
  const script = scenarioPath(packageRoot(), scenario.name);
  const workDir = mkdtempSync(join(tmpdir(), `otel-harness-${runId}-`));
  await inspectScenario(
    binary,
    script,
    k6Env(k6Input(plan, runId, 'http://127.0.0.1:4318', Date.now(), join(workDir, 'summary.json'))),
  );
  progress(`k6: scenario ${scenario.name} loaded (${script})`);
  return { binary, script, workDir };
}

function k6Input(
  plan: SoakPlan,
  runId: string,
  otlpHttp: string,
  metricStartMs: number,
  summaryFile: string,
): K6RunInput {
  const { options } = plan;
  return {
    scenario: k6Scenario(options.scenario).name,
    runId,
    serviceName: SOAK_SERVICE_NAME,
    otlpHttp,
    durationMs: options.durationMs,
    rates: Object.fromEntries(plan.signals.map((s) => [s.signal, s.rateRps])),
    batchItems: options.batchItems,
    spansPerTrace: options.spansPerTrace,
    metricSeries: plan.metricShape.series,
    metricIntervalMs: plan.metricShape.intervalMs,
    metricStartMs,
    logBodyBytes: options.logBodyBytes,
    logSeverity: options.logSeverity,
    ...(options.profile.kind === 'ramp' ? { rampMs: options.profile.rampMs } : {}),
    ...(options.profile.kind === 'steps' ? { steps: options.profile.steps } : {}),
    summaryFile,
  };
}

async function driveK6Plan(
  k6: PreparedK6,
  plan: SoakPlan,
  runId: string,
  metricStartMs: number,
  endpoints: StackEndpoints,
  ledger: Ledger,
  live: LiveCounters,
  abort: AbortSignal,
  result: SoakResult,
  onStart: (pid: number) => void,
): Promise<Map<Signal, SchedulerReport>> {
  const summaryFile = join(k6.workDir, 'summary.json');
  const input = k6Input(plan, runId, endpoints.otlpHttp, metricStartMs, summaryFile);
  try {
    const outcome = await driveK6(
      {
        k6: k6.binary,
        script: k6.script,
        env: k6Env(input),
        ledgerFile: join(k6.workDir, 'points.jsonl'),
        summaryFile,
        itemsPerIteration: Object.fromEntries(plan.signals.map((s) => [s.signal, s.batchUnits * s.itemsPerUnit])),
        signals: plan.signals.map((s) => s.signal),
        onStart,
      },
      ledger,
      live,
      abort,
    );
    result.k6 = {
      scenario: input.scenario,
      binary: k6.binary,
      exitCode: outcome.exitCode,
      summary: outcome.summary,
      outputTail: outcome.outputTail,
    };
    return outcome.reports;
  } finally {
    rmSync(k6.workDir, { recursive: true, force: true });
  }
}

/** k6's own thresholds (from the scenario's options): a failed one is exit 3. */
function k6Thresholds(result: SoakResult): SoakResult['thresholds'] {
  return (result.k6?.summary?.thresholds ?? []).map((t) => ({
    name: `k6 threshold ${t.metric}`,
    limit: t.expression,
    actual: t.ok ? 'met' : 'not met',
    pass: t.ok,
    exitCode: 3 as const,
  }));
}

async function driveSdkPlan(
  plan: SoakPlan,
  runId: string,
  ledger: Ledger,
  live: LiveCounters,
  otlpGrpc: string | undefined,
  abort: AbortSignal,
): Promise<Map<Signal, SchedulerReport>> {
  const load = sdkLoadOf(plan);
  return load === undefined ? new Map() : driveSdk(load, runId, ledger, live, otlpGrpc, abort);
}

function componentMetricsUrls(endpoints: StackEndpoints): Record<string, string> {
  const urls: Record<string, string> = {};
  if (endpoints.collectorMetrics !== undefined) urls.otelcol = endpoints.collectorMetrics;
  if (endpoints.traces?.metrics !== undefined) urls[endpoints.traces.backend] = endpoints.traces.metrics;
  if (endpoints.loki !== undefined) urls.loki = endpoints.loki.metrics;
  if (endpoints.prometheus !== undefined) urls.prometheus = endpoints.prometheus.metrics;
  return Object.fromEntries(Object.entries(urls).filter(([c]) => BACKEND_COUNTERS[c] !== undefined));
}

async function collectorScrape(
  endpoints: StackEndpoints,
  signals: Signal[],
): Promise<Partial<Record<Signal, CollectorCounters>> | undefined> {
  if (endpoints.collectorMetrics === undefined) return undefined;
  try {
    const samples = await scrape(endpoints.collectorMetrics);
    return Object.fromEntries(signals.map((s) => [s, collectorCounters(samples, s)]));
  } catch {
    return undefined;
  }
}

function loadResults(
  plan: SoakPlan,
  ledger: Ledger,
  reports: Map<Signal, SchedulerReport>,
  metricStartMs: number,
): Partial<Record<Signal, SignalLoadResult>> {
  const out: Partial<Record<Signal, SignalLoadResult>> = {};
  for (const s of plan.signals) {
    const counts = ledger.counts(s.signal);
    const report = reports.get(s.signal);
    const elapsedS = Math.max(0.001, (report?.issueElapsedMs ?? plan.options.durationMs) / 1000);
    const achievedRps = counts.acknowledged / elapsedS;
    const ranges = (o: 'acknowledged' | 'refused' | 'failed' | 'dropped') => ledger.ranges(s.signal, o);
    const all = {
      acknowledged: ranges('acknowledged'),
      refused: ranges('refused'),
      failed: ranges('failed'),
      dropped: ranges('dropped'),
    };
    const truncated = Object.values(all).some((r) => r.length > RANGE_LIMIT);
    out[s.signal] = {
      offeredRps: s.rateRps,
      achievedRps,
      achievedRatio: achievedRps / s.rateRps,
      counts,
      answers: ledger.answerCounts(s.signal),
      scheduleLagMs: report?.scheduleLagMs ?? { count: 0, min: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 },
      idRanges: {
        acknowledged: all.acknowledged.slice(0, RANGE_LIMIT),
        refused: all.refused.slice(0, RANGE_LIMIT),
        failed: all.failed.slice(0, RANGE_LIMIT),
        dropped: all.dropped.slice(0, RANGE_LIMIT),
      },
      idRangesTruncated: truncated,
      shape: shapeOf(plan, s.signal, metricStartMs),
    };
  }
  return out;
}

function shapeOf(plan: SoakPlan, signal: Signal, metricStartMs: number): Record<string, number | string> {
  if (signal === 'traces') return { ...plan.traceShape, unit: 'trace' };
  if (signal === 'logs') return { ...plan.logShape, unit: 'log record' };
  return { ...plan.metricShape, unit: 'data point', metricStartMs };
}
