import { readFileSync, rmSync } from 'node:fs';

import { join } from 'node:path';
import { ExitCode, HarnessError } from '../../../harness-error.js';

import { runCommand } from '../../../images/run-command.js';
import { describePods, sleep, type PodObject } from '../../../k8s/cluster-waits.js';
import { renderTestRun } from '../../../k8s/k6-testrun.js';
import type { KubeObject } from '../../../k8s/kube-client.js';

import type { ClusterEngine, DriveInput, DriveOutcome, LoadDriver } from '../driver.js';
import { k6Input, prepareK6, type PreparedK6 } from './k6-prepare.js';

import { k6Reports, parseK6Point, parseK6Summary, type K6Summary } from './k6-results.js';
import { k6ArchiveArgs, k6Env } from './k6-scenarios.js';

const TAIL = 40;
/** From the TestRun's creation to its runners started: initializer, runner pods, starter. */
const START_TIMEOUT_MS = 240_000;
/** After the TestRun finished, for the runners' log streams to end. */
const STREAM_END_TIMEOUT_MS = 60_000;
const NUDGE_EVERY_MS = 2_000;
const NUDGE_ANNOTATION = 'otel-harness.io/check-runners';

type Stage = 'initialization' | 'initialized' | 'created' | 'started' | 'stopped' | 'finished' | 'error';
type TestRunObject = KubeObject & { status?: { stage?: Stage; conditions?: { type: string; status: string }[] } };

/**
 * One runner's pod log: k6's JSON points (`--out json` on stdout), the scenario's summary (a pretty-printed
 * JSON object on stdout, from a line `{` to a line `}`), and k6's own log lines. Pure.
 */
export class RunnerLog {
  points = 0;
  summary: K6Summary | undefined;
  readonly tail: string[] = [];
  private summaryLines: string[] | undefined;

  constructor(
    readonly pod: string,
    private readonly onPoint: (line: string) => boolean,
  ) {}

  line(raw: string): void {
    const line = raw.replace(/\r$/, '');
    if (this.summaryLines !== undefined) {
      this.summaryLines.push(line);
      if (line === '}') {
        try {
          this.summary = parseK6Summary(this.summaryLines.join('\n'));
        } catch {
          this.keep(this.summaryLines.join(' '));
        }
        this.summaryLines = undefined;
      }
      return;
    }
    if (line === '{') {
      this.summaryLines = [line];
      return;
    }
    if (line.startsWith('{"')) {
      if (this.onPoint(line)) this.points += 1;
      return;
    }
    if (line.trim() !== '') this.keep(line);
  }

  private keep(line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL) this.tail.shift();
  }

  /** Why this runner's points are not known to be complete, or undefined when they are. */
  gap(): string | undefined {
    if (this.summary === undefined) return `runner ${this.pod} wrote no summary: its iteration count is unknown`;
    if (this.summary.iterations !== this.points)
      return `runner ${this.pod} ran ${this.summary.iterations} iterations, ${this.points} of their answers were read back`;
    return undefined;
  }
}

/** A TestRun's name: a DNS label short enough for the operator's `<name>-initializer` and `<name>-service-<n>`. */
export function testRunName(runId: string): string {
  const tail = runId
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .slice(-16);
  return `otel-harness-${tail}`;
}

/**
 * The k6-operator driver: the scenario's `k6 archive` runs as a TestRun on the cluster's own pods
 * (`--parallelism` runners, each an execution segment of the same arrival rate; iteration numbers, hence
 * item ids, are disjoint across segments). Every runner's `--out json` points are read back by following
 * its pod log while it runs and merged into one ledger; each runner's summary says how many iterations
 * it ran, so a runner whose answers were not all read back makes the verification inconclusive.
 */
export function k6OperatorDriver(): LoadDriver {
  let prepared: PreparedK6 | undefined;
  return {
    name: 'k6-operator',
    async prepare(spec, runId, serviceName, progress) {
      prepared = await prepareK6(spec, runId, serviceName, progress, 'k6-operator', () => 'stdout');
    },
    async drive(input: DriveInput): Promise<DriveOutcome> {
      if (prepared === undefined) throw new Error('k6-operator driver used before prepare()');
      const cluster = input.ingest.cluster;
      if (cluster === undefined)
        throw new HarnessError('--driver k6-operator needs a Kubernetes cluster to run on', {
          code: 'USAGE',
          exitCode: ExitCode.usage,
          hint: 'boot one with --phase 3, or attach with --kubeconfig and --k6-endpoint',
        });
      return driveTestRun(prepared, cluster, input);
    },
    dispose() {
      if (prepared !== undefined) rmSync(prepared.workDir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

async function driveTestRun(
  prepared: { binary: string; script: string; workDir: string },
  cluster: ClusterEngine,
  input: DriveInput,
): Promise<DriveOutcome> {
  const { spec, ledger, live } = input;
  const { client, namespace } = cluster;
  const run = k6Input(
    spec,
    input.runId,
    input.serviceName,
    { otlpHttp: cluster.otlpHttp, otlpGrpc: undefined }, // the operator's runners post OTLP/HTTP only
    input.metricTimeline.startMs,
    'stdout',
  );
  run.headers = input.ingest.headers;
  const env = k6Env(run);
  const archive = join(prepared.workDir, 'archive.tar');
  await runCommand(prepared.binary, k6ArchiveArgs(env, archive, prepared.script), {
    env: { ...process.env, ...env, K6_NO_USAGE_REPORT: 'true' },
  });
  const name = testRunName(input.runId);
  const { configMap, testRun } = renderTestRun({
    name,
    namespace,
    parallelism: spec.k6Parallelism,
    archiveBase64: readFileSync(archive).toString('base64'),
    env,
    runnerImage: cluster.runnerImage,
    ...(cluster.starterImage === undefined ? {} : { starterImage: cluster.starterImage }),
    // Every point on stdout, read back from the pod log; the jobs stay until their logs are read.
    arguments: '--no-usage-report --out json',
    cleanup: 'none',
  });
  const testRunPath = `/apis/k6.io/v1alpha1/namespaces/${namespace}/testruns/${name}`;
  const selector = `k6_cr=${name},runner=true`;
  const runners = new Map<string, RunnerLog>();
  const follows: Promise<void>[] = [];
  const stop = new AbortController();
  let startMs = Date.now();
  let started = false;

  const onPoint = (line: string): boolean => {
    const point = parseK6Point(line, startMs);
    if (point === undefined) return false;
    ledger.record(point.signal, point.entry);
    live.add(point.signal, point.entry.outcome, point.items);
    return true;
  };
  const follow = (pod: string) => {
    if (runners.has(pod)) return;
    const log = new RunnerLog(pod, onPoint);
    runners.set(pod, log);
    follows.push(
      client
        .followLines(
          `/api/v1/namespaces/${namespace}/pods/${pod}/log?follow=true&container=k6`,
          (l) => log.line(l),
          stop.signal,
        )
        .catch((err: unknown) => {
          if (!stop.signal.aborted) log.tail.push(`log stream failed: ${(err as Error).message}`);
        }),
    );
  };
  const exitCodes = new Map<string, number>();
  const pods = client.listAndWatch<PodObject>(
    `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(selector)}`,
    (event) => {
      const pod = event.object;
      const k6 = pod.status?.containerStatuses?.find((c) => c.name === 'k6');
      if (k6?.state?.terminated?.exitCode !== undefined) exitCodes.set(pod.metadata.name, k6.state.terminated.exitCode);
      // A container that runs (or already ran) has a log to follow from its first line.
      if (k6?.state?.running !== undefined || k6?.state?.terminated !== undefined) follow(pod.metadata.name);
    },
    stop.signal,
  );

  const remove = async () => {
    await client.delete(testRunPath).catch(() => undefined);
    await client
      .delete(`/apis/batch/v1/namespaces/${namespace}/jobs?labelSelector=${encodeURIComponent(`k6_cr=${name}`)}`)
      .catch(() => undefined);
    await client.delete(`/api/v1/namespaces/${namespace}/configmaps/${name}-script`).catch(() => undefined);
  };

  let stage: Stage | undefined;
  try {
    input.progress(
      `k6-operator: TestRun ${namespace}/${name}, ${spec.k6Parallelism} runners of ${cluster.runnerImage} → ${cluster.otlpHttp}`,
    );
    await client.apply(configMap as KubeObject);
    await client.apply(testRun as KubeObject);
    const applied = Date.now();
    let lastNudge = 0;
    for (;;) {
      if (input.abort.aborted) break;
      const tr = await client.get<TestRunObject>(testRunPath).catch(() => undefined);
      const now = tr?.status?.stage;
      if (now !== undefined && now !== stage) {
        stage = now;
        input.progress(`k6-operator: TestRun ${name} ${stage} (+${((Date.now() - applied) / 1000).toFixed(0)} s)`);
      }
      if (!started && (stage === 'started' || stage === 'finished')) {
        started = true;
        startMs = Date.now();
        input.onLoadStart?.(startMs);
      }
      if (stage === 'finished' || stage === 'stopped') break;
      if (stage === 'error') {
        throw new HarnessError(`k6-operator: TestRun ${namespace}/${name} failed`, {
          code: 'K6_TESTRUN_FAILED',
          exitCode: ExitCode.stackFailed,
          details: await describePods(client, namespace, `k6_cr=${name}`),
        });
      }
      if (stage === 'created' && !started && Date.now() - lastNudge >= NUDGE_EVERY_MS) {
        // v0.0.19 starts the runners once each runner's REST API answers through its Service; until then
        // each check is a reconcile error, which controller-runtime retries with exponential backoff
        // (5 ms doubling up to 1,000 s): a few early refusals can put the next check minutes away. Any
        // update of the TestRun enqueues it at once, so its annotations are touched until it starts.
        lastNudge = Date.now();
        await client
          .mergePatch(testRunPath, { metadata: { annotations: { [NUDGE_ANNOTATION]: String(lastNudge) } } })
          .catch(() => undefined);
      }
      if (!started && Date.now() - applied > START_TIMEOUT_MS) {
        throw new HarnessError(
          `k6-operator: TestRun ${namespace}/${name} did not start within ${START_TIMEOUT_MS / 1000} s (stage ${stage ?? 'none'})`,
          {
            code: 'K6_TESTRUN_NOT_STARTED',
            exitCode: ExitCode.stackFailed,
            hint: 'is the k6-operator running, and can its pods pull the runner image?',
            details: await describePods(client, namespace, `k6_cr=${name}`),
          },
        );
      }
      await sleep(1_000);
    }
    if (input.abort.aborted) {
      input.progress(`k6-operator: interrupted: deleting TestRun ${name} (its runners stop)`);
      await client.delete(testRunPath).catch(() => undefined);
    }
    // Runner containers have exited: their log streams end once the last line is out.
    const deadline = sleep(STREAM_END_TIMEOUT_MS).then(() => 'timeout' as const);
    const ended = await Promise.race([Promise.all(follows).then(() => 'ended' as const), deadline]);
    if (ended === 'timeout') input.progress('k6-operator: a runner log stream did not end; reading stops here');
  } finally {
    stop.abort();
    await pods.catch(() => undefined);
    await Promise.all(follows);
    await remove();
  }

  const logs = [...runners.values()].sort((a, b) => a.pod.localeCompare(b.pod));
  const gaps = logs.map((l) => l.gap()).filter((g): g is string => g !== undefined);
  if (logs.length < spec.k6Parallelism) gaps.unshift(`${logs.length} of ${spec.k6Parallelism} runners' logs were read`);
  for (const l of logs) {
    input.progress(
      `k6-operator: ${l.pod}: ${l.points} batches read back, summary ${l.summary === undefined ? 'missing' : `${l.summary.iterations} iterations, ${l.summary.droppedIterations} dropped`}`,
    );
  }
  const summary = mergeSummaries(logs.flatMap((l) => (l.summary === undefined ? [] : [l.summary])));
  const signals = spec.signals.map((s) => s.signal);
  for (const s of spec.signals) {
    const dropped =
      summary?.droppedByScenario[s.signal] ?? (signals.length === 1 ? (summary?.droppedIterations ?? 0) : 0);
    if (dropped === 0) continue;
    const items = dropped * s.batchUnits * s.itemsPerUnit;
    ledger.recordUnnumbered(s.signal, 'dropped', items / ledger.itemsPer(s.signal));
    live.add(s.signal, 'dropped', items);
  }
  let lastAtMs = 0;
  for (const signal of signals) {
    for (const e of ledger.entriesOf(signal)) lastAtMs = Math.max(lastAtMs, e.atMs);
  }
  const reports = k6Reports(ledger, signals, lastAtMs, input.abort.aborted);
  const failed = [...exitCodes.values()].find((c) => c !== 0);
  const ledgerGaps =
    gaps.length === 0
      ? undefined
      : Object.fromEntries(signals.map((s) => [s, `the merged ledger may be incomplete: ${gaps.join('; ')}`]));
  return {
    reports,
    k6: {
      scenario: run.scenario,
      binary: cluster.runnerImage,
      exitCode: failed ?? 0,
      summary,
      outputTail: logs.flatMap((l) => l.tail.map((t) => `${l.pod}: ${t}`)).slice(-TAIL),
      runners: logs.map((l) => ({
        pod: l.pod,
        iterations: l.summary?.iterations,
        pointsRead: l.points,
        exitCode: exitCodes.get(l.pod),
      })),
    },
    ...(ledgerGaps === undefined ? {} : { ledgerGaps }),
  };
}

/** The runners' summaries as one: counts added, the p99 the worst runner's, a threshold ok only if ok on all. */
export function mergeSummaries(summaries: readonly K6Summary[]): K6Summary | undefined {
  if (summaries.length === 0) return undefined;
  const first = summaries[0]!;
  const droppedByScenario: Record<string, number> = {};
  for (const s of summaries)
    for (const [k, v] of Object.entries(s.droppedByScenario)) droppedByScenario[k] = (droppedByScenario[k] ?? 0) + v;
  const httpReqs = summaries.reduce((n, s) => n + s.httpReqs, 0);
  const thresholds = first.thresholds.map((t) => ({
    ...t,
    ok: summaries.every(
      (s) => s.thresholds.find((u) => u.metric === t.metric && u.expression === t.expression)?.ok !== false,
    ),
  }));
  return {
    scenario: first.scenario,
    iterations: summaries.reduce((n, s) => n + s.iterations, 0),
    droppedIterations: summaries.reduce((n, s) => n + s.droppedIterations, 0),
    droppedByScenario,
    httpReqs,
    httpReqFailedRate:
      httpReqs === 0 ? 0 : summaries.reduce((n, s) => n + s.httpReqFailedRate * s.httpReqs, 0) / httpReqs,
    httpReqDurationP99Ms: Math.max(...summaries.map((s) => s.httpReqDurationP99Ms)),
    thresholds,
  };
}
