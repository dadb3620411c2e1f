import { SOAK_SERVICE_NAME } from '../load/run-identity.js';
import { count as f } from '../format.js';
import { mergeRanges, subtractRanges } from '../load/seq-ranges.js';
import { analyseChaos, unanalysed } from '../chaos/chaos-analysis.js';

import { ChaosRunner } from '../chaos/chaos-runner.js';
import { stackFactsOf } from '../chaos/stack-facts.js';
import { drain } from '../drain/drain.js';

import type { DriveOutcome, LoadDriver } from '../load/drivers/driver.js';
import { capabilitiesOf } from '../load/drivers/capabilities.js';
import { driverOf } from '../load/drivers/registry.js';
import { Ledger, SIGNALS, type Signal } from '../load/ledger.js';
import { LiveCounters } from '../load/live-counters.js';
import { metricTimelineOf } from '../load/load-spec.js';
import { itemsDue } from '../load/rate-profile.js';
import type { SchedulerReport } from '../load/open-model-scheduler.js';
import { otlpAddress, otlpClient } from '../load/otlp/otlp-client.js';
import { probeOtlpTarget } from '../load/otlp/otlp-probe.js';
import type { OtlpClient } from '../load/otlp/transport.js';
import { digestCollectorLog } from '../observe/collector-log.js';
import { exportFailuresOf, type ExportFailure } from '../observe/export-failures.js';
import { collectorPipelineOf, type ExporterFacts } from '../stack/collector-pipeline.js';
import { collectorCounters, counterDelta, type CollectorCounters } from '../observe/collector-metrics.js';
import { scrape } from '../observe/prometheus-text.js';
import { deltas as counterDeltas, readCounters } from '../observe/backend-counters.js';
import { ResourceSampler } from '../observe/resource-sampler.js';
import { emptyStep, type StepIo, type StepPlan, type StepResult, type StepTimeline } from './step-types.js';
import type { StackEndpoints, StackObservation, StackObserver, StartedStack } from '../stack/stack.js';
import type { StoreRestart } from '../stack/object-store.js';
import { BACKENDS, backendOf } from '../verify/backends/registry.js';
import type { SignalBackend } from '../verify/backends/backend.js';
import { canaryIdentity, canaryTraceShape, runCanaries } from '../verify/latency-canary.js';
import { keptCount, type TraceSampling } from '../verify/sampling/tail-sampling.js';

import { loadResults } from './load-results.js';
import { CounterWatch } from './counter-watch.js';
import { replayOf, samplingOf, samplingPathOf } from './replay.js';
import { verifyStep } from './verify-step.js';
import { settleMsOf } from './settle.js';

const PROGRESS_MS = 5_000;
const QUEUE_POLL_MS = 2_500;
/** Reads of a restarted backend that lacks items (`--verify-from-store`), this far apart, before they are loss. */
const STORE_REREADS = 2;
const STORE_REREAD_MS = 10_000;

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
  const step = new LoadStep(stack, plan, runId, io, abort, out);
  try {
    await step.prepare();
    const gaps = await step.drive();
    await step.drainPipeline();
    const evidence = await step.readEvidence();
    await step.verify(evidence, gaps);
    await step.verifyFromStore();
    await step.collectCanaries();
    step.explainFaults();
    out.complete = true;
  } finally {
    await step.finish();
  }
  return out;
}

/** What the step read after the drain to explain its verdicts. */
interface ReadEvidence {
  failures: ExportFailure[];
  exporters: ExporterFacts[];
  backendDeltas: StepResult['verification']['backendCounters'];
}

/**
 * The phases of one load step, in order (as a collector testbed's test case: start the load, stop it, wait
 * for the pipeline, validate), sharing what the step set up: the ledger, the backends, the counter watch,
 * the sampling along the collectors' path, the queue watch, the observers and the canaries.
 */
class LoadStep {
  private readonly endpoints: StackEndpoints;
  private readonly signals: Signal[];
  private readonly ledger: Ledger;
  private readonly driver: LoadDriver;
  private readonly backends = new Map<Signal, SignalBackend>();
  private readonly counters: CounterWatch;
  private readonly path: ReturnType<typeof samplingPathOf>;
  private readonly sampling: TraceSampling;
  private readonly canarySampling: TraceSampling;
  private readonly observers: StackObserver[];
  private readonly queue: QueueWatch;
  /** Collector name@before|after → its instances (pods), to tell whether counter deltas are a census. */
  private readonly instancesOf = new Map<string, string>();
  private collectorBefore: Record<string, Partial<Record<Signal, CollectorCounters>>> = {};
  private readonly logs = new Map<string, string[]>();
  private sampler: ResourceSampler | undefined;
  private chaos: ChaosRunner | undefined;
  private counterTimer: NodeJS.Timeout | undefined;
  private loadStart = Date.now();
  private canaries: ReturnType<typeof runCanaries> | undefined;
  private canaryClient: OtlpClient | undefined;
  private readonly canaryGiveUp = new AbortController();

  constructor(
    private readonly stack: StartedStack,
    private readonly plan: StepPlan,
    private readonly runId: string,
    private readonly io: StepIo,
    private readonly abort: AbortSignal,
    private readonly out: StepResult,
  ) {
    this.endpoints = stack.endpoints();
    this.signals = plan.load.signals.map((s) => s.signal);
    this.ledger = new Ledger({ traces: plan.load.traceShape.spansPerTrace, metrics: 1, logs: 1 });
    this.driver = driverOf(plan.load.driver);
    for (const s of this.signals) {
      const b = this.endpoints.backends[s];
      if (b !== undefined) this.backends.set(s, backendOf(b.backend, b.endpoint));
    }
    this.counters = new CounterWatch(this.endpoints, [...this.backends.values()]);
    // Sampling and filtering along the collectors' path decide which traces must arrive.
    this.path = samplingPathOf(stack);
    this.sampling = samplingOf(this.path, plan.load.traceShape, { runId, serviceName: SOAK_SERVICE_NAME });
    this.canarySampling = samplingOf(this.path, canaryTraceShape(), canaryIdentity(runId));
    if (this.sampling.kind === 'predict')
      io.progress(`traces: predicting the sampler's decisions (${this.sampling.describe})`);
    if (this.sampling.kind === 'unsupported')
      io.progress(
        `traces: the sampler's decisions cannot be predicted (${this.sampling.reason}); a trace absent as a whole will not count as lost (spans missing from traces that arrived still do)`,
      );
    this.observers = stack.observers?.(this.signals) ?? [];
    this.queue = new QueueWatch(
      this.endpoints.collectors.flatMap((c) => (c.metricsUrl === undefined ? [] : [c.metricsUrl])),
      this.signals,
    );
  }

  /** The driver ready, every counter read before the load, and readings through it (restarts are joined). */
  async prepare(): Promise<void> {
    // The canaries speak the load's protocol, compression, headers and TLS; one empty export first tells a
    // target that does not take them (a wrong CA, token or protocol) before anything else runs.
    const { endpoints } = this;
    this.canaryClient = otlpClient(endpoints, this.plan.load.transport, {
      connections: 2,
      timeoutMs: this.plan.load.requestTimeoutMs,
      headers: endpoints.otlpHeaders,
      ...(endpoints.otlpTls === undefined ? {} : { tls: endpoints.otlpTls }),
    });
    await probeOtlpTarget(
      this.canaryClient,
      this.signals[0] ?? 'traces',
      otlpAddress(endpoints, this.plan.load.transport),
      this.plan.load.transport,
    );
    await this.driver.prepare(this.plan.load, this.runId, SOAK_SERVICE_NAME, (m) => this.io.progress(m));
    await this.counters.before();
    this.counterTimer = setInterval(() => void this.counters.sample('collectors'), COUNTER_SAMPLE_MS);
    this.collectorBefore = await collectorScrapes(this.endpoints.collectors, this.signals, this.instancesOf, 'before');
  }

  /**
   * The load, with canaries, faults, observers and progress alongside; its figures go to `out.load`.
   * Returns what the ledger could not hold per signal (a k6 runner whose answers were not all read back).
   */
  async drive(): Promise<Partial<Record<Signal, string>>> {
    const { plan, io, endpoints, out } = this;
    const sampler = new ResourceSampler(this.stack.resources, plan.resourceIntervalMs).start();
    this.sampler = sampler;
    const canaryStop = new AbortController();
    const canaryClient = this.canaryClient;
    if (canaryClient === undefined) throw new Error('load step: drive() before prepare()');
    const canarySampling = this.canarySampling;
    this.canaries = runCanaries(
      this.runId,
      {
        client: canaryClient,
        backends: [...this.backends.values()],
        ...(endpoints.logFiles === undefined ? {} : { logFiles: endpoints.logFiles.canary }),
      },
      {
        intervalMs: plan.canaryIntervalMs,
        pollMs: 250,
        timeoutMs: plan.canaryTimeoutMs,
        stop: canaryStop.signal,
        giveUp: this.canaryGiveUp.signal,
        ...(canarySampling.kind === 'predict' ? { traceKeep: (seq: number) => canarySampling.keep(seq) } : {}),
      },
    );
    const live = new LiveCounters();
    this.loadStart = Date.now();
    const offered = plan.load.signals.reduce((n, s) => n + s.rateRps, 0);
    const observedLoad = {
      profile: plan.load.profile,
      rate: offered,
      durationMs: plan.load.durationMs,
      acknowledged: () => live.total('acknowledged'),
    };
    // The load's clock: now, or when a driver that waits for its runners says they started.
    let loadStarted = false;
    let ticker: NodeJS.Timeout | undefined;
    const startLoad = (atMs: number) => {
      if (loadStarted) return;
      loadStarted = true;
      this.loadStart = atMs;
      this.queue.start(atMs);
      for (const o of this.observers) o.start(atMs, observedLoad);
      ticker = progressTicker(
        io,
        live,
        atMs,
        plan.load.durationMs,
        (t) => itemsDue(plan.load.profile, offered, t, plan.load.durationMs),
        () => this.queue.now,
      );
    };
    const deferredStart = endpoints.cluster !== undefined && capabilitiesOf(plan.load.driver).onCluster;
    if (!deferredStart) startLoad(this.loadStart);
    if (plan.faults.length > 0) {
      if (this.stack.faults === undefined) throw new Error(`${this.stack.title} takes no faults`);
      this.chaos = new ChaosRunner(
        this.stack.faults,
        plan.faults,
        (m) => io.progress(m),
        () => this.counters.sample(),
      ).start(this.loadStart, this.abort);
    }
    let outcome: DriveOutcome;
    try {
      outcome = await this.driver.drive({
        runId: this.runId,
        serviceName: SOAK_SERVICE_NAME,
        spec: plan.load,
        ingest: {
          otlpHttp: endpoints.otlpHttp,
          otlpGrpc: endpoints.otlpGrpc,
          headers: endpoints.otlpHeaders,
          ...(endpoints.otlpTls === undefined ? {} : { tls: endpoints.otlpTls }),
          ...(endpoints.otlpConnections === undefined ? {} : { connections: endpoints.otlpConnections }),
          ...(endpoints.cluster === undefined ? {} : { cluster: endpoints.cluster }),
          ...(endpoints.logFiles === undefined ? {} : { logFiles: endpoints.logFiles.writer }),
          ...(endpoints.scrapeTargets === undefined ? {} : { scrapeTargets: endpoints.scrapeTargets }),
        },
        ledger: this.ledger,
        live,
        abort: this.abort,
        metricTimeline: metricTimelineOf(plan.load, this.loadStart),
        progress: (m) => io.progress(m),
        onGeneratorProcess: (pid, label, cores) => sampler.watchGeneratorProcess(pid, label, cores),
        onLoadStart: startLoad,
      });
    } finally {
      startLoad(this.loadStart); // the driver never said: observers still get a start (and a stop)
      clearInterval(ticker);
      canaryStop.abort();
      // Resource figures describe the load window only (verification queries would distort them).
      out.resources = sampler.stop();
      this.sampler = undefined;
    }
    out.k6 = outcome.k6;
    out.load = {
      elapsedMs: Math.max(...[...outcome.reports.values()].map((r) => r.issueElapsedMs), 0),
      interrupted: this.abort.aborted,
      signals: loadResults(plan.load, this.ledger, outcome.reports, this.loadStart),
    };
    for (const o of this.observers) o.loadEnded();
    io.progress(
      `load done: ${live.total('acknowledged')} items acknowledged, ${live.total('refused')} refused, ${live.total('failed')} failed, ${live.total('dropped')} dropped`,
    );
    this.abort.throwIfAborted();
    if (this.chaos !== undefined) {
      io.progress('chaos: waiting for the last fault to be lifted');
      await this.chaos.settled();
    }
    return outcome.ledgerGaps ?? {};
  }

  /** Until the pipeline is idle and the backends' counts settle, signal by signal; then the watches stop. */
  async drainPipeline(): Promise<void> {
    const { plan, io, out, ledger, sampling } = this;
    let kept: number | undefined;
    const keptTraces = () => (kept ??= keptCount(ledger.ranges('traces', 'acknowledged'), sampling));
    io.progress('draining: waiting for the pipeline to be idle and backend counts to settle');
    out.drain = await drain({
      conditions: this.stack.drainConditions(this.signals),
      signals: this.signals,
      backendCount: async (s) => {
        const b = this.backends.get(s);
        return b === undefined ? 0 : b.count(this.runId, SOAK_SERVICE_NAME, this.loadStart);
      },
      expected: (s) =>
        s !== 'traces' || sampling.kind === 'none'
          ? ledger.counts(s).acknowledged
          : sampling.kind === 'predict'
            ? keptTraces() * plan.load.traceShape.spansPerTrace
            : 0,
      settleMs: (s) => settleMsOf(this.backends.get(s), this.stack.endpoints().collectors),
      timeoutMs: plan.drainTimeoutMs,
      stallMs: plan.drainStallMs,
      backendPollMs: 2_000,
      signal: this.abort,
      progress: (m) => io.progress(m),
    });
    io.progress(
      out.drain.drained
        ? `drained in ${(out.drain.elapsedMs / 1000).toFixed(1)} s`
        : `drain incomplete: ${out.drain.reason ?? ''}`,
    );
    this.queue.stop();
    clearInterval(this.counterTimer);
    out.observations = await stopObservers(this.observers);
    out.verification.collectorQueuePeak = this.queue.sources > 0 ? this.queue.peak : undefined;
  }

  /**
   * The counters and logs that explain the verdicts: each collector's deltas (left out when its pods
   * changed), each backend's, the bytes it ingested, and every export failure the collectors logged.
   */
  async readEvidence(): Promise<ReadEvidence> {
    const { io, out, endpoints, signals, counters } = this;
    const collectorAfter = await collectorScrapes(endpoints.collectors, signals, this.instancesOf, 'after');
    const churn = podChurn(out.observations);
    if (churn !== undefined) counters.markChurn(churn);
    for (const [name, after] of Object.entries(collectorAfter)) {
      const before = this.collectorBefore[name];
      if (before === undefined) continue;
      if (churn !== undefined || this.instancesOf.get(`${name}@before`) !== this.instancesOf.get(`${name}@after`)) {
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
    await Promise.all(
      endpoints.collectors.map(async (c) => this.logs.set(c.name, await this.stack.logs(c.name).catch(() => []))),
    );
    const failures = [...this.logs].flatMap(([name, lines]) => exportFailuresOf(name, lines, this.loadStart - 1_000));
    const exporters = endpoints.collectors.flatMap((c) => collectorPipelineOf(c.config)?.exporters ?? []);
    for (const r of counters.restarts())
      io.progress(
        `${r.component} restarted ${r.restarts} time(s) during the run: its counters are joined across restarts`,
      );
    return { failures, exporters, backendDeltas };
  }

  /** Every acknowledged item of every signal, with the evidence; a ledger gap leaves a signal undecided. */
  async verify(evidence: ReadEvidence, gaps: Partial<Record<Signal, string>>): Promise<void> {
    const { io, out, counters, backends } = this;
    out.verification.signals = await verifyStep({
      runId: this.runId,
      ledger: this.ledger,
      signals: this.signals,
      backends,
      plan: this.plan,
      loadStartMs: this.loadStart,
      drain: out.drain,
      sampling: this.sampling,
      sentBy: (s) => counters.sentTo(s, backends.get(s)),
      sentMissing: (s) => counters.sentMissing(s, backends.get(s)),
      receivedBy: (s) => counters.receivedBy(s),
      redeliveredBy: (s) => counters.redeliveredBy(s),
      upstream: (s) => {
        const u = this.endpoints.upstream?.[s];
        return u === undefined ? undefined : { backend: backendOf(u.backend, u.endpoint), hop: u.hop };
      },
      evidence: {
        pipeline: (s) => counters.pipeline(s, backends.get(s)),
        failures: (s) =>
          evidence.failures.filter(
            (f) =>
              f.signal === s ||
              (f.signal === undefined &&
                evidence.exporters.some((e) => e.name === f.exporter && e.signals.includes(s))),
          ),
        exporters: evidence.exporters,
        backendCounters: (name) => evidence.backendDeltas[name],
        sourceCauses: (s, lost) => this.stack.lossCauses?.(s, this.runId, lost) ?? [],
        forwarders: new Set(this.endpoints.collectors.filter((c) => !c.exportsToBackends).map((c) => c.name)),
      },
      progress: (m) => io.progress(m),
    });
    for (const [s, reason] of Object.entries(gaps) as [Signal, string][]) {
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
  }

  /**
   * `--verify-from-store`: the backends on the object store flush to it and restart with no local state, and
   * each of their signals is verified again. Items found before and absent now are loss the first
   * verification could not see (data that lived only in an ingester): the signal fails with them named.
   */
  async verifyFromStore(): Promise<void> {
    const { io, out } = this;
    const mode = this.plan.verifyFromStore;
    if (mode === undefined) return;
    const ofRun = this.signals.flatMap((s) => this.endpoints.backends[s]?.backend ?? []);
    // The store's own counters around the handover: what the flush wrote, bucket by bucket.
    const counted = this.endpoints.counted ?? [];
    const readStore = () =>
      Promise.all(counted.map(async (c) => readCounters(await scrape(c.metricsUrl).catch(() => []), c.specs)));
    const before = await readStore();
    let restarts: StoreRestart[];
    try {
      restarts = (await this.stack.restartFromStore?.(mode, ofRun, (m) => io.progress(m))) ?? [];
    } catch (err) {
      // A backend that would not flush or start again: nothing read from the store can be decided.
      const reason = `the handover to the object store failed: ${(err as Error).message}`;
      io.progress(reason);
      for (const s of this.signals) {
        const v = out.verification.signals[s];
        if (v === undefined || !ofRun.includes(v.backend)) continue;
        v.fromStore = {
          service: v.backend,
          bucket: '',
          found: 0,
          lost: 0,
          lostRanges: [],
          restartSeconds: 0,
          steps: [],
          outcome: { status: 'inconclusive', reason },
        };
      }
      return;
    }
    out.verification.storeRestarts = restarts;
    const after = await readStore();
    if (restarts.length > 0 && counted.length > 0)
      out.verification.storeTraffic = Object.fromEntries(
        counted.map((c, i) => [c.name, counterDeltas(before[i]!, after[i]!)]),
      );
    const endpoints = this.stack.endpoints();
    const backends = new Map<Signal, SignalBackend>();
    for (const s of this.signals) {
      const b = endpoints.backends[s];
      if (b !== undefined && restarts.some((r) => r.service === b.backend))
        backends.set(s, backendOf(b.backend, b.endpoint));
    }
    for (const s of this.signals) {
      const v = out.verification.signals[s];
      if (v !== undefined && !backends.has(s))
        v.notes.push(`not verified from the object store: ${v.backend} keeps its data on its own volume`);
    }
    if (backends.size === 0) return;
    const readAgain = (signals: Signal[]) =>
      verifyStep({
        runId: this.runId,
        ledger: this.ledger,
        signals,
        backends,
        plan: this.plan,
        loadStartMs: this.loadStart,
        drain: out.drain,
        sampling: this.sampling,
        sentBy: () => undefined,
        receivedBy: () => undefined,
        progress: (m) => io.progress(`from the store: ${m}`),
        storeOnly: true,
      });
    const again = await readAgain([...backends.keys()]);
    // A backend that just started may still be loading the store's index or block list: what it lacks is
    // read again, STORE_REREAD_MS apart, and only absence that lasts is loss.
    const lacking = () =>
      [...backends.keys()].filter((s) => (again[s]?.lost ?? 0) > (out.verification.signals[s]?.lost ?? 0));
    for (let n = 1; n <= STORE_REREADS && lacking().length > 0; n++) {
      io.progress(
        `from the store: ${lacking().join(', ')} short of what was found before; reading again in ${STORE_REREAD_MS / 1000} s (${n}/${STORE_REREADS})`,
      );
      await new Promise((r) => setTimeout(r, STORE_REREAD_MS));
      Object.assign(again, await readAgain(lacking()));
    }
    for (const [s, backend] of backends) {
      const before = out.verification.signals[s];
      const after = again[s];
      const restart = restarts.find((r) => r.service === endpoints.backends[s]?.backend)!;
      if (before === undefined || after === undefined) continue;
      // Ranges are sequence numbers (a trace's seq for its spans); the counts are items. What was absent before
      // stays absent: the difference of the counts is what the store lacks beyond it.
      const lostRanges = subtractRanges(after.lostRanges, before.lostRanges);
      const lost = lostRanges.length === 0 ? 0 : Math.max(0, after.lost - before.lost);
      before.fromStore = {
        service: restart.service,
        bucket: restart.bucket,
        found: after.found,
        lost: after.outcome.status === 'inconclusive' ? 0 : lost,
        lostRanges: after.outcome.status === 'inconclusive' ? [] : lostRanges,
        restartSeconds: restart.seconds,
        steps: restart.steps,
        ...bucketBytes(out.verification.storeTraffic, restart.bucket),
        outcome: after.outcome,
      };
      const where = `object storage (bucket ${restart.bucket}, ${backend.name} restarted with no local state)`;
      // Undecided from the store: its own threshold says so (assess), the first verification stands.
      if (after.outcome.status === 'inconclusive')
        before.notes.push(`from ${where}: inconclusive: ${after.outcome.reason}`);
      else if (lost > 0) {
        before.lost += lost;
        before.lostRanges = mergeRanges(before.lostRanges, lostRanges);
        before.outcome = {
          status: 'fail',
          expected: before.expected,
          actual: before.found - lost,
          reason:
            restart.handover === 'flush'
              ? `${f(lost)} items found in ${backend.name} before the flush are absent from ${where}`
              : `${f(lost)} items found in ${backend.name} lived only in its ingester (memory and WAL): killed without a flush, they are absent from ${where}`,
        };
        io.progress(`${s}: ${f(lost)} items found before the ${restart.handover} are absent from the object store`);
      } else before.notes.push(`found again in ${where}: ${f(after.found)} of ${f(after.expected)}`);
    }
  }

  /** The latency canaries: waited for, or counted as timed out behind a pipeline that stalled or is blocked. */
  async collectCanaries(): Promise<void> {
    const { io, out } = this;
    const drained = out.drain;
    const blocked = Object.values(drained?.signals ?? {}).some((d) => d.blocked !== undefined);
    if (drained?.stalled === true || blocked) {
      // Canaries behind a stuck backlog will not arrive before their timeout: they count as timed out now.
      this.canaryGiveUp.abort();
      io.progress(
        `the pipeline ${blocked ? 'is blocked behind an error no retry fixes' : 'stalled'}: outstanding latency canaries are counted as timed out`,
      );
    } else io.progress('waiting for outstanding latency canaries');
    if (this.canaries !== undefined) out.latency = await this.canaries;
    await this.canaryClient?.close();
    const firstCollector = this.endpoints.collectors[0];
    if (firstCollector !== undefined)
      out.verification.collectorLog = digestCollectorLog(this.logs.get(firstCollector.name) ?? []);
  }

  /** Each lost, absent, rejected or duplicated item attributed to a fault, with why. */
  explainFaults(): void {
    const { chaos, out, plan, endpoints, ledger } = this;
    if (chaos === undefined) return;
    out.chaos = analyseChaos({
      events: chaos.events,
      ledger: Object.fromEntries(
        this.signals.map((s) => [
          s,
          { entries: ledger.entriesOf(s), itemsPerSeq: ledger.itemsPer(s), rejections: ledger.rejections(s) },
        ]),
      ),
      verification: out.verification.signals,
      queue: this.queue.series,
      facts: stackFactsOf(endpoints.collectors[0]?.config ?? '', plan.collectorLabel),
      factsFor: (target) => {
        const c = endpoints.collectors.find((x) => x.name === target);
        return c?.config === undefined ? undefined : stackFactsOf(c.config, plan.collectorLabel, c.role);
      },
      signalsOf: (target) => backendSignals(endpoints, target),
    });
  }

  /**
   * Whatever happened: watches stopped, faults still applied lifted (unpause, reconnect) before teardown,
   * the load's figures and timeline from the ledger, the ledger kept for `verify --run-id`, the driver
   * disposed.
   */
  async finish(): Promise<void> {
    const { out, plan, ledger, chaos } = this;
    this.queue.stop();
    clearInterval(this.counterTimer);
    if (out.observations.length === 0 && this.observers.length > 0)
      out.observations = await stopObservers(this.observers);
    if (chaos !== undefined && out.chaos === undefined) {
      await chaos.undo();
      out.chaos = { variant: plan.collectorLabel, faults: chaos.events.map(unanalysed), unattributed: {} };
    }
    out.resources ??= this.sampler?.stop();
    if (Object.keys(out.load.signals).length === 0 && ledger.signals().length > 0) {
      out.load.signals = loadResults(plan.load, ledger, new Map<Signal, SchedulerReport>(), this.loadStart);
    }
    out.timeline = { ...timelineOf(ledger, this.signals), queue: this.queue.series };
    out.replay = replayOf(this.runId, ledger, plan.load, this.loadStart, this.endpoints.backends, this.path);
    await this.driver.dispose();
  }
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

/**
 * The signals a backend (or a store before one) named `target` holds; undefined for anything else (a
 * collector, Kafka, a balancer, an agent: on every signal's path).
 */
function backendSignals(endpoints: StackEndpoints, target: string): Signal[] | undefined {
  const holds = SIGNALS.filter(
    (s) => endpoints.backends[s]?.backend === target || endpoints.upstream?.[s]?.backend === target,
  );
  if (holds.length > 0) return holds;
  // A backend that stores none of the run's signals (Phase 2's Prometheus, for the stack's own metrics) costs none.
  return Object.hasOwn(BACKENDS, target) && !endpoints.collectors.some((c) => c.name === target) ? [] : undefined;
}

/** The bytes the object store counted into `bucket` over the handover, as a field (none when it counts none). */
function bucketBytes(
  traffic: Record<string, Record<string, number>> | undefined,
  bucket: string,
): { bucketBytes?: number } {
  for (const counters of Object.values(traffic ?? {})) {
    const n = counters[`s3_bytes_received{bucket=${bucket}}`];
    if (n !== undefined) return { bucketBytes: n };
  }
  return {};
}
