import { SOAK_SERVICE_NAME } from '../load/run-identity.js';
import { analyseChaos, unanalysed } from '../chaos/chaos-analysis.js';

import { ChaosRunner } from '../chaos/chaos-runner.js';
import { stackFactsOf } from '../chaos/stack-facts.js';
import { drain } from '../drain/drain.js';

import type { DriveOutcome } from '../load/drivers/driver.js';
import { capabilitiesOf } from '../load/drivers/capabilities.js';
import { driverOf } from '../load/drivers/registry.js';
import { Ledger, type Signal } from '../load/ledger.js';
import { LiveCounters } from '../load/live-counters.js';
import { metricTimelineOf } from '../load/load-spec.js';
import { itemsDue } from '../load/rate-profile.js';
import type { SchedulerReport } from '../load/open-model-scheduler.js';
import { OtlpHttpClient } from '../load/otlp-http-client.js';
import { digestCollectorLog } from '../observe/collector-log.js';
import { exportFailuresOf } from '../observe/export-failures.js';
import { collectorPipelineOf } from '../stack/collector-pipeline.js';
import { collectorCounters, counterDelta, type CollectorCounters } from '../observe/collector-metrics.js';
import { scrape } from '../observe/prometheus-text.js';
import { ResourceSampler } from '../observe/resource-sampler.js';
import { emptyStep, type StepIo, type StepPlan, type StepResult, type StepTimeline } from './step-types.js';
import type { StackObservation, StackObserver, StartedStack } from '../stack/stack.js';
import { backendOf } from '../verify/backends/registry.js';
import type { SignalBackend } from '../verify/backends/backend.js';
import { canaryIdentity, canaryTraceShape, runCanaries } from '../verify/latency-canary.js';
import { keptCount } from '../verify/sampling/tail-sampling.js';

import { loadResults } from './load-results.js';
import { CounterWatch } from './counter-watch.js';
import { replayOf, samplingOf, samplingPathOf } from './replay.js';
import { verifyStep } from './verify-step.js';

const PROGRESS_MS = 5_000;
const QUEUE_POLL_MS = 2_500;
/** Counter readings between the first and the last (restarts are joined from them). */
const COUNTER_SAMPLE_MS = 5_000;

/**
 * One load step on a started stack: drive (canaries and faults alongside), drain, verify every acknowledged
 * item, and read the counters that explain where anything went. soak is boot + one step; capacity and gates
 * compose many. Fills `out` as it goes, so an interrupted or failed step still reports what it did.
 */
export async function runLoadStep(
  stack: StartedStack,
  plan: StepPlan,
  runId: string,
  io: StepIo,
  abort: AbortSignal,
  out: StepResult = emptyStep(),
): Promise<StepResult> {
  const endpoints = stack.endpoints();
  const signals = plan.load.signals.map((s) => s.signal);
  const ledger = new Ledger({ traces: plan.load.traceShape.spansPerTrace, metrics: 1, logs: 1 });
  const driver = driverOf(plan.load.driver);
  const backends = new Map<Signal, SignalBackend>();
  for (const s of signals) {
    const b = endpoints.backends[s];
    if (b !== undefined) backends.set(s, backendOf(b.backend, b.endpoint));
  }
  const counters = new CounterWatch(endpoints, [...backends.values()]);
  // Sampling and filtering along the collectors' path decide which traces must arrive.
  const path = samplingPathOf(stack);
  const sampling = samplingOf(path, plan.load.traceShape, { runId, serviceName: SOAK_SERVICE_NAME });
  const canarySampling = samplingOf(path, canaryTraceShape(), canaryIdentity(runId));
  if (sampling.kind === 'predict') io.progress(`traces: predicting the sampler's decisions (${sampling.describe})`);
  if (sampling.kind === 'unsupported')
    io.progress(
      `traces: the sampler's decisions cannot be predicted (${sampling.reason}); absent traces will not count as lost`,
    );
  let sampler: ResourceSampler | undefined;
  let chaos: ChaosRunner | undefined;
  let counterTimer: NodeJS.Timeout | undefined;
  let loadStart = Date.now();
  const observers = stack.observers?.(signals) ?? [];
  /** Collector name@before|after → its instances (pods), to tell whether counter deltas are a census. */
  const instancesOf = new Map<string, string>();
  const queue = new QueueWatch(
    endpoints.collectors.flatMap((c) => (c.metricsUrl === undefined ? [] : [c.metricsUrl])),
    signals,
  );
  try {
    await driver.prepare(plan.load, runId, SOAK_SERVICE_NAME, (m) => io.progress(m));
    await counters.before();
    // Readings through the load and the drain: a process that restarts is seen and its counters joined.
    counterTimer = setInterval(() => void counters.sample('collectors'), COUNTER_SAMPLE_MS);
    const collectorBefore = await collectorScrapes(endpoints.collectors, signals, instancesOf, 'before');

    // ── load, with canaries, faults and progress ────────────────────────────────────────────────────
    sampler = new ResourceSampler(stack.resources, plan.resourceIntervalMs).start();
    const canaryStop = new AbortController();
    const canaryGiveUp = new AbortController();
    const canaryClient = new OtlpHttpClient(endpoints.otlpHttp, {
      connections: 2,
      timeoutMs: plan.load.requestTimeoutMs,
      headers: endpoints.otlpHeaders,
    });
    const canaries = runCanaries(
      runId,
      { client: canaryClient, backends: [...backends.values()] },
      {
        intervalMs: plan.canaryIntervalMs,
        pollMs: 250,
        timeoutMs: plan.canaryTimeoutMs,
        stop: canaryStop.signal,
        giveUp: canaryGiveUp.signal,
        ...(canarySampling.kind === 'predict' ? { traceKeep: (seq: number) => canarySampling.keep(seq) } : {}),
      },
    );
    const live = new LiveCounters();
    loadStart = Date.now();
    const observedLoad = {
      profile: plan.load.profile,
      rate: plan.load.signals.reduce((n, s) => n + s.rateRps, 0),
      durationMs: plan.load.durationMs,
      acknowledged: () => live.total('acknowledged'),
    };
    // The load's clock: now, or when a driver that waits for its runners says they started.
    const offered = plan.load.signals.reduce((n, s) => n + s.rateRps, 0);
    let loadStarted = false;
    let ticker: NodeJS.Timeout | undefined;
    const startLoad = (atMs: number) => {
      if (loadStarted) return;
      loadStarted = true;
      loadStart = atMs;
      queue.start(loadStart);
      for (const o of observers) o.start(loadStart, observedLoad);
      ticker = progressTicker(
        io,
        live,
        loadStart,
        plan.load.durationMs,
        (t) => itemsDue(plan.load.profile, offered, t, plan.load.durationMs),
        () => queue.now,
      );
    };
    const deferredStart = endpoints.cluster !== undefined && capabilitiesOf(plan.load.driver).onCluster;
    if (!deferredStart) startLoad(loadStart);
    if (plan.faults.length > 0) {
      if (stack.faults === undefined) throw new Error(`${stack.title} takes no faults`);
      chaos = new ChaosRunner(
        stack.faults,
        plan.faults,
        (m) => io.progress(m),
        () => counters.sample(),
      ).start(loadStart, abort);
    }
    let outcome: DriveOutcome;
    let ledgerGaps: Partial<Record<Signal, string>> = {};
    try {
      outcome = await driver.drive({
        runId,
        serviceName: SOAK_SERVICE_NAME,
        spec: plan.load,
        ingest: {
          otlpHttp: endpoints.otlpHttp,
          otlpGrpc: endpoints.otlpGrpc,
          headers: endpoints.otlpHeaders,
          ...(endpoints.otlpConnections === undefined ? {} : { connections: endpoints.otlpConnections }),
          ...(endpoints.cluster === undefined ? {} : { cluster: endpoints.cluster }),
        },
        ledger,
        live,
        abort,
        metricTimeline: metricTimelineOf(plan.load, loadStart),
        progress: (m) => io.progress(m),
        onGeneratorProcess: (pid, label, cores) => sampler?.watchGeneratorProcess(pid, label, cores),
        onLoadStart: startLoad,
      });
      ledgerGaps = outcome.ledgerGaps ?? {};
    } finally {
      startLoad(loadStart); // the driver never said: observers still get a start (and a stop)
      clearInterval(ticker);
      canaryStop.abort();
      // Resource figures describe the load window only (verification queries would distort them).
      out.resources = sampler.stop();
      sampler = undefined;
    }
    out.k6 = outcome.k6;
    out.load = {
      elapsedMs: Math.max(...[...outcome.reports.values()].map((r) => r.issueElapsedMs), 0),
      interrupted: abort.aborted,
      signals: loadResults(plan.load, ledger, outcome.reports, loadStart),
    };
    for (const o of observers) o.loadEnded();
    io.progress(
      `load done: ${live.total('acknowledged')} items acknowledged, ${live.total('refused')} refused, ${live.total('failed')} failed, ${live.total('dropped')} dropped`,
    );
    abort.throwIfAborted();
    if (chaos !== undefined) {
      io.progress('chaos: waiting for the last fault to be lifted');
      await chaos.settled();
    }

    // ── drain ─────────────────────────────────────────────────────────────────────────────────────────
    let kept: number | undefined;
    const keptTraces = () => (kept ??= keptCount(ledger.ranges('traces', 'acknowledged'), sampling));
    io.progress('draining: waiting for the pipeline to be idle and backend counts to settle');
    out.drain = await drain({
      conditions: stack.drainConditions(signals),
      signals,
      backendCount: async (s) => {
        const b = backends.get(s);
        return b === undefined ? 0 : b.count(runId, SOAK_SERVICE_NAME, loadStart);
      },
      expected: (s) =>
        s !== 'traces' || sampling.kind === 'none'
          ? ledger.counts(s).acknowledged
          : sampling.kind === 'predict'
            ? keptTraces() * plan.load.traceShape.spansPerTrace
            : 0,
      timeoutMs: plan.drainTimeoutMs,
      stallMs: plan.drainStallMs,
      backendPollMs: 3_000,
      signal: abort,
      progress: (m) => io.progress(m),
    });
    io.progress(
      out.drain.drained
        ? `drained in ${(out.drain.elapsedMs / 1000).toFixed(1)} s`
        : `drain incomplete: ${out.drain.reason ?? ''}`,
    );
    queue.stop();
    clearInterval(counterTimer);
    out.observations = await stopObservers(observers);
    out.verification.collectorQueuePeak = queue.sources > 0 ? queue.peak : undefined;

    // ── verify, then the counters that explain it ─────────────────────────────────────────────────────
    const collectorAfter = await collectorScrapes(endpoints.collectors, signals, instancesOf, 'after');
    const churn = podChurn(out.observations);
    if (churn !== undefined) counters.markChurn(churn);
    for (const [name, after] of Object.entries(collectorAfter)) {
      const before = collectorBefore[name];
      if (before === undefined) continue;
      if (churn !== undefined || instancesOf.get(`${name}@before`) !== instancesOf.get(`${name}@after`)) {
        // Pods that came and went took their counters with them: these deltas would be no census.
        io.progress(`${name}: its pods changed during the run; its counter deltas are left out of the report`);
        continue;
      }
      out.verification.collectors[name] = Object.fromEntries(
        signals.map((s) => [s, counterDelta(before[s]!, after[s]!)]),
      );
    }
    const backendDeltas = await counters.deltas();
    out.verification.backendCounters = backendDeltas;
    for (const s of signals) {
      const b = counters.bytesReceivedBy(s);
      if (b !== undefined) out.verification.ingestBytes[s] = b;
    }
    // The collectors' own account of their exports: every failure line since the load started.
    const logs = new Map<string, string[]>();
    await Promise.all(
      endpoints.collectors.map(async (c) => logs.set(c.name, await stack.logs(c.name).catch(() => []))),
    );
    const failures = [...logs].flatMap(([name, lines]) => exportFailuresOf(name, lines, loadStart - 1_000));
    const exporterSetups = endpoints.collectors.flatMap((c) => collectorPipelineOf(c.config)?.exporters ?? []);
    for (const r of counters.restarts())
      io.progress(
        `${r.component} restarted ${r.restarts} time(s) during the run: its counters are joined across restarts`,
      );
    out.verification.signals = await verifyStep({
      runId,
      ledger,
      signals,
      backends,
      plan,
      loadStartMs: loadStart,
      drain: out.drain,
      sampling,
      sentBy: (s) => counters.sentTo(s, backends.get(s)),
      sentMissing: (s) => counters.sentMissing(s, backends.get(s)),
      receivedBy: (s) => counters.receivedBy(s),
      redeliveredBy: (s) => counters.redeliveredBy(s),
      evidence: {
        pipeline: (s) => counters.pipeline(s, backends.get(s)),
        failures: (s) =>
          failures.filter(
            (f) =>
              f.signal === s ||
              (f.signal === undefined && exporterSetups.some((e) => e.name === f.exporter && e.signals.includes(s))),
          ),
        exporters: exporterSetups,
        backendCounters: (name) => backendDeltas[name],
      },
      progress: (m) => io.progress(m),
    });
    for (const [s, reason] of Object.entries(ledgerGaps) as [Signal, string][]) {
      // What the ledger does not hold cannot be called delivered or lost: no census for this signal.
      // Loss found among the requests it does hold is still loss.
      const v = out.verification.signals[s];
      if (v === undefined) continue;
      if (v.outcome.status === 'fail') v.notes.push(reason);
      else {
        io.progress(`${s}: verification inconclusive: ${reason}`);
        out.verification.signals[s] = { ...v, outcome: { status: 'inconclusive', reason } };
      }
    }
    const blocked = Object.values(out.drain.signals ?? {}).some((d) => d.blocked !== undefined);
    if (out.drain.stalled === true || blocked) {
      // Canaries behind a stuck backlog will not arrive before their timeout: they count as timed out now.
      canaryGiveUp.abort();
      io.progress(
        `the pipeline ${blocked ? 'is blocked behind an error no retry fixes' : 'stalled'}: outstanding latency canaries are counted as timed out`,
      );
    } else io.progress('waiting for outstanding latency canaries');
    out.latency = await canaries;
    await canaryClient.close();
    const firstCollector = endpoints.collectors[0];
    if (firstCollector !== undefined) {
      out.verification.collectorLog = digestCollectorLog(logs.get(firstCollector.name) ?? []);
    }
    if (chaos !== undefined) {
      out.chaos = analyseChaos({
        events: chaos.events,
        ledger: Object.fromEntries(
          signals.map((s) => [
            s,
            { entries: ledger.entriesOf(s), itemsPerSeq: ledger.itemsPer(s), rejections: ledger.rejections(s) },
          ]),
        ),
        verification: out.verification.signals,
        queue: queue.series,
        facts: stackFactsOf(firstCollector?.config ?? '', plan.collectorLabel),
        factsFor: (target) => {
          const c = endpoints.collectors.find((x) => x.name === target);
          return c?.config === undefined ? undefined : stackFactsOf(c.config, plan.collectorLabel, c.role);
        },
      });
    }
    out.complete = true;
  } finally {
    queue.stop();
    clearInterval(counterTimer);
    if (out.observations.length === 0 && observers.length > 0) out.observations = await stopObservers(observers);
    if (chaos !== undefined && out.chaos === undefined) {
      // Interrupted or failed mid-fault: lift every fault (unpause, reconnect) before teardown.
      await chaos.undo();
      out.chaos = { variant: plan.collectorLabel, faults: chaos.events.map(unanalysed), unattributed: {} };
    }
    out.resources ??= sampler?.stop();
    if (Object.keys(out.load.signals).length === 0 && ledger.signals().length > 0) {
      out.load.signals = loadResults(plan.load, ledger, new Map<Signal, SchedulerReport>(), loadStart);
    }
    out.timeline = { ...timelineOf(ledger, signals), queue: queue.series };
    out.replay = replayOf(runId, ledger, plan.load, loadStart, endpoints.backends, path);
    await driver.dispose();
  }
  return out;
}

/**
 * Pods an observer saw start or terminate during the step (an HPA scaling up and back down): counters read
 * before and after it are no census, even when the same pods are there at both readings.
 */
export function podChurn(observations: readonly StackObservation[]): string | undefined {
  for (const o of observations) {
    const started = o.figures.podsStarted ?? 0;
    const terminated = o.figures.podsTerminated ?? 0;
    if (started + terminated > 0)
      return `${o.title}: ${started} pods started and ${terminated} terminated during the run (a removed pod's counters go with it)`;
  }
  return undefined;
}

function progressTicker(
  io: StepIo,
  live: LiveCounters,
  loadStart: number,
  durationMs: number,
  /** Items the profile has made due by this many ms into the load (a ramp's or a step's rate, not the peak). */
  dueBy: (tMs: number) => number,
  queueNow: () => number,
): NodeJS.Timeout {
  let lastAcked = 0;
  let lastAt = loadStart;
  return setInterval(() => {
    const now = Date.now();
    const acked = live.total('acknowledged');
    const elapsed = (now - loadStart) / 1000;
    const achieved = ((acked - lastAcked) / Math.max(1, now - lastAt)) * 1000;
    const offeredRps = ((dueBy(now - loadStart) - dueBy(lastAt - loadStart)) / Math.max(1, now - lastAt)) * 1000;
    lastAcked = acked;
    lastAt = now;
    io.progress(
      `load ${elapsed.toFixed(0)}/${(durationMs / 1000).toFixed(0)} s (ETA ${Math.max(0, durationMs / 1000 - elapsed).toFixed(0)} s) | ` +
        `offered ${offeredRps.toFixed(0)}/s achieved ${achieved.toFixed(0)}/s | acked ${acked} refused ${live.total('refused')} ` +
        `failed ${live.total('failed')} dropped ${live.total('dropped')} | collector queue ${queueNow()}`,
    );
  }, PROGRESS_MS);
}

async function collectorScrapes(
  collectors: readonly { name: string; metricsUrl: string | undefined }[],
  signals: readonly Signal[],
  instances: Map<string, string>,
  when: 'before' | 'after',
): Promise<Record<string, Partial<Record<Signal, CollectorCounters>>>> {
  const out: Record<string, Partial<Record<Signal, CollectorCounters>>> = {};
  await Promise.all(
    collectors.map(async (c) => {
      if (c.metricsUrl === undefined) return;
      try {
        const samples = await scrape(c.metricsUrl);
        out[c.name] = Object.fromEntries(signals.map((s) => [s, collectorCounters(samples, s)]));
        // A role of several instances (Phase 3's pods) labels each sample with its pod.
        const pods = new Set(samples.flatMap((x) => (x.labels.k8s_pod === undefined ? [] : [x.labels.k8s_pod])));
        instances.set(`${c.name}@${when}`, [...pods].sort().join(','));
      } catch {
        // unreachable now: no deltas for it
      }
    }),
  );
  return out;
}

/** Sums the collectors' sending-queue gauges every 2.5 s during the load (for progress, chaos and reports). */
class QueueWatch {
  now = 0;
  peak = 0;
  readonly series: { tMs: number; size: number }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly urls: readonly string[],
    private readonly signals: readonly Signal[],
  ) {}

  get sources(): number {
    return this.urls.length;
  }

  start(startMs: number): void {
    if (this.urls.length === 0) return;
    this.timer = setInterval(() => {
      Promise.all(this.urls.map((u) => scrape(u)))
        .then((all) => {
          this.now = all.reduce(
            (n, samples) => n + this.signals.reduce((m, s) => m + collectorCounters(samples, s).queueSize, 0),
            0,
          );
          this.peak = Math.max(this.peak, this.now);
          this.series.push({ tMs: Date.now() - startMs, size: this.now });
        })
        .catch(() => undefined);
    }, QUEUE_POLL_MS);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Items per second and outcome, per signal, from the ledger's answer times. */
function timelineOf(ledger: Ledger, signals: readonly Signal[]): Omit<StepTimeline, 'queue'> {
  const bucketMs = 1_000;
  const out: StepTimeline['signals'] = {};
  for (const s of signals) {
    const acknowledged: number[] = [];
    const notAcknowledged: number[] = [];
    const per = ledger.itemsPer(s);
    for (const e of ledger.entriesOf(s)) {
      const b = Math.floor(e.atMs / bucketMs);
      while (acknowledged.length <= b) {
        acknowledged.push(0);
        notAcknowledged.push(0);
      }
      if (e.outcome === 'acknowledged') acknowledged[b]! += e.count * per;
      else notAcknowledged[b]! += e.count * per;
    }
    out[s] = { acknowledged, notAcknowledged };
  }
  return { bucketMs, signals: out };
}

/** Stops every observer; one that fails leaves a note instead of failing the step. */
async function stopObservers(observers: readonly StackObserver[]): Promise<StackObservation[]> {
  return Promise.all(
    observers.map((o) =>
      o.stop().catch((err: unknown): StackObservation => ({
        name: 'observer',
        title: 'Observer',
        lines: [`could not be read: ${(err as Error).message}`],
        figures: {},
        series: [],
      })),
    ),
  );
}
