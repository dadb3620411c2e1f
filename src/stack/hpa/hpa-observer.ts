import { rateAt } from '../../../generators/rate-profile.js';
import type { ObservedLoad, StackObservation, StackObserver } from '../../observe/observer.js';
import { isPodReady, sleep, type PodObject } from '../../k8s/cluster-waits.js';
import {
  analyseHpa,
  describeHpa,
  type AckReading,
  type CpuReading,
  type HpaSpecSummary,
  type LoadStep,
  type ReplicaReading,
} from './hpa-timeline.js';
import type { KubeClient, KubeList, KubeObject } from '../../k8s/kube-client.js';

interface HpaObject extends KubeObject {
  spec: {
    scaleTargetRef: { apiVersion?: string; kind: string; name: string };
    minReplicas?: number;
    maxReplicas: number;
    metrics?: { type: string; resource?: { name: string; target: { type: string; averageUtilization?: number } } }[];
    behavior?: { scaleDown?: { stabilizationWindowSeconds?: number } };
  };
  status?: {
    currentReplicas?: number;
    desiredReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

interface DeploymentObject extends KubeObject {
  spec: {
    selector: { matchLabels?: Record<string, string> };
    template: { spec: { containers: { resources?: { requests?: { cpu?: string } } }[] } };
  };
  status?: { replicas?: number; readyReplicas?: number };
}

interface EventObject extends KubeObject {
  reason?: string;
  message?: string;
  involvedObject?: { kind?: string; name?: string };
  lastTimestamp?: string;
  eventTime?: string;
}

/** `250m` → 250, `1` → 1000, `1.5` → 1500. */
export function cpuMilli(quantity: string | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  if (quantity.endsWith('n')) return Number(quantity.slice(0, -1)) / 1e6;
  if (quantity.endsWith('u')) return Number(quantity.slice(0, -1)) / 1e3;
  if (quantity.endsWith('m')) return Number(quantity.slice(0, -1));
  const n = Number(quantity);
  return Number.isFinite(n) ? n * 1000 : undefined;
}

/** The steps of a load profile (one step for constant and ramp loads). */
export function loadSteps(load: ObservedLoad): LoadStep[] {
  const p = load.profile;
  if (p.kind !== 'steps') return [{ index: 0, startMs: 0, endMs: load.durationMs, rate: load.rate }];
  const stepMs = load.durationMs / p.steps;
  return Array.from({ length: p.steps }, (_, i) => ({
    index: i,
    startMs: i * stepMs,
    endMs: (i + 1) * stepMs,
    rate: rateAt(p, load.rate, i * stepMs, load.durationMs),
  }));
}

export interface HpaTarget {
  namespace: string;
  name: string;
}

/**
 * Watches one HPA, its Deployment, its pods and their CPU while the load runs, then — once the load has
 * ended — until the HPA scaled back to its minimum (or a time-out computed from its scale-down window),
 * and reports the reaction to every load step.
 */
export class HpaObserver implements StackObserver {
  private readonly stop$ = new AbortController();
  private loadStartMs = 0;
  private loadEndMs: number | undefined;
  private load: ObservedLoad | undefined;
  private hpa: HpaObject | undefined;
  private deployment: DeploymentObject | undefined;
  private readonly readings: ReplicaReading[] = [];
  private readonly acks: AckReading[] = [];
  private readonly cpu: CpuReading[] = [];
  private readonly events: { atMs: number; to: number; message: string }[] = [];
  private readonly pods = new Map<string, { createdMs: number; readyMs?: number; deletedMs?: number }>();
  private readonly tasks: Promise<unknown>[] = [];
  private readonly errors: string[] = [];

  constructor(
    private readonly client: KubeClient,
    private readonly target: HpaTarget,
    private readonly progress: (message: string) => void = () => undefined,
  ) {}

  private get ns(): string {
    return this.target.namespace;
  }

  private rel(ms: number): number {
    return ms - this.loadStartMs;
  }

  start(loadStartMs: number, load?: ObservedLoad): void {
    this.loadStartMs = loadStartMs;
    this.load = load;
    const signal = this.stop$.signal;
    const onError = (what: string) => (err: unknown) => {
      if (this.errors.length < 20) this.errors.push(`${what}: ${(err as Error).message}`);
    };
    this.tasks.push(
      this.client.listAndWatch<HpaObject>(
        `/apis/autoscaling/v2/namespaces/${this.ns}/horizontalpodautoscalers?fieldSelector=metadata.name%3D${this.target.name}`,
        (e) => {
          if (e.type !== 'DELETED') this.hpa = e.object;
          this.record();
        },
        signal,
        onError('HPA watch'),
      ),
    );
    this.tasks.push(this.followDeployment(signal, onError));
    this.tasks.push(
      this.client.listAndWatch<EventObject>(
        `/api/v1/namespaces/${this.ns}/events?fieldSelector=involvedObject.name%3D${this.target.name}`,
        (e) => {
          const o = e.object;
          if (o.reason !== 'SuccessfulRescale' || o.message === undefined) return;
          const size = /New size: (\d+)/.exec(o.message);
          const when = Date.parse(o.eventTime ?? o.lastTimestamp ?? '') || Date.now();
          if (size !== null) this.events.push({ atMs: this.rel(when), to: Number(size[1]), message: o.message });
        },
        signal,
        onError('event watch'),
      ),
    );
    this.tasks.push(this.tick(signal));
  }

  loadEnded(): void {
    this.loadEndMs = this.rel(Date.now());
  }

  private async followDeployment(signal: AbortSignal, onError: (what: string) => (err: unknown) => void) {
    // The HPA names its target; wait for the first HPA reading to know it.
    while (this.hpa === undefined && !signal.aborted) await sleep(200, signal).catch(() => undefined);
    if (signal.aborted || this.hpa === undefined) return;
    const name = this.hpa.spec.scaleTargetRef.name;
    const deploymentWatch = this.client.listAndWatch<DeploymentObject>(
      `/apis/apps/v1/namespaces/${this.ns}/deployments?fieldSelector=metadata.name%3D${name}`,
      (e) => {
        if (e.type !== 'DELETED') this.deployment = e.object;
        this.record();
      },
      signal,
      onError('Deployment watch'),
    );
    while (this.deployment === undefined && !signal.aborted) await sleep(200, signal).catch(() => undefined);
    const selector = Object.entries(this.deployment?.spec.selector.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const podWatch = this.client.listAndWatch<PodObject>(
      `/api/v1/namespaces/${this.ns}/pods?labelSelector=${encodeURIComponent(selector)}`,
      (e, atMs) => {
        const name = e.object.metadata.name;
        const created = Date.parse(e.object.metadata.creationTimestamp ?? '') || atMs;
        const pod = this.pods.get(name) ?? { createdMs: this.rel(created) };
        if (pod.readyMs === undefined && isPodReady(e.object)) pod.readyMs = this.rel(atMs);
        if (e.type === 'DELETED' || e.object.metadata.deletionTimestamp !== undefined) pod.deletedMs ??= this.rel(atMs);
        this.pods.set(name, pod);
      },
      signal,
      onError('pod watch'),
    );
    await Promise.all([deploymentWatch, podWatch]);
  }

  /** Every second: a replica reading and the acknowledged count; every 5 s the pods' CPU. */
  private async tick(signal: AbortSignal): Promise<void> {
    let n = 0;
    while (!signal.aborted) {
      this.record();
      if (this.load !== undefined && this.loadEndMs === undefined) {
        this.acks.push({ atMs: this.rel(Date.now()), acknowledged: this.load.acknowledged() });
      }
      if (n++ % 5 === 0) await this.readCpu().catch(() => undefined);
      await sleep(1000, signal).catch(() => undefined);
    }
  }

  private async readCpu(): Promise<void> {
    const selector = Object.entries(this.deployment?.spec.selector.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    if (selector === '') return;
    const list = await this.client.get<KubeList<KubeObject & { containers?: { usage?: { cpu?: string } }[] }>>(
      `/apis/metrics.k8s.io/v1beta1/namespaces/${this.ns}/pods?labelSelector=${encodeURIComponent(selector)}`,
    );
    const perPod = list.items.map((pod) =>
      (pod.containers ?? []).reduce((m, c) => m + (cpuMilli(c.usage?.cpu) ?? 0), 0),
    );
    const total = perPod.reduce((a, b) => a + b, 0);
    this.cpu.push({
      atMs: this.rel(Date.now()),
      totalMilli: total,
      pods: perPod.length,
      ...(perPod.length === 0 ? {} : { minPodMilli: Math.min(...perPod), maxPodMilli: Math.max(...perPod) }),
    });
  }

  private record(): void {
    const status = this.hpa?.status;
    // A reading needs both objects: the HPA's replicas and the Deployment's ready pods.
    if (status === undefined || this.deployment?.status === undefined) return;
    this.readings.push({
      atMs: this.rel(Date.now()),
      desired: status.desiredReplicas ?? 0,
      current: status.currentReplicas ?? 0,
      ready: this.deployment?.status?.readyReplicas ?? 0,
    });
  }

  private spec(): HpaSpecSummary {
    const h = this.hpa?.spec;
    const cpuTarget = h?.metrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu')?.resource?.target;
    const requests = this.deployment?.spec.template.spec.containers.map((c) => cpuMilli(c.resources?.requests?.cpu));
    const cpuRequest =
      requests === undefined || requests.some((r) => r === undefined)
        ? undefined
        : requests.reduce<number>((n, r) => n + (r ?? 0), 0);
    return {
      minReplicas: h?.minReplicas ?? 1,
      maxReplicas: h?.maxReplicas ?? 1,
      cpuTargetPct: cpuTarget?.averageUtilization ?? 0,
      cpuRequestMilli: cpuRequest,
      scaleDownWindowSeconds: h?.behavior?.scaleDown?.stabilizationWindowSeconds ?? 300,
    };
  }

  private atMinimum(): boolean {
    const min = this.hpa?.spec.minReplicas ?? 1;
    const status = this.hpa?.status;
    return (
      status?.desiredReplicas === min &&
      status.currentReplicas === min &&
      (this.deployment?.status?.readyReplicas ?? 0) === min &&
      (this.deployment?.status?.replicas ?? 0) === min
    );
  }

  /** After the load: waits for the scale-down (bounded), then analyses. */
  async stop(): Promise<StackObservation> {
    const spec = this.spec();
    if (this.loadEndMs !== undefined && !this.stop$.signal.aborted) {
      // Scale-down: the stabilization window, then the seeds' policy (10 % per 60 s: one pod a minute here).
      const budgetMs = (spec.scaleDownWindowSeconds + 60 * (spec.maxReplicas - spec.minReplicas) + 60) * 1000;
      const deadline = this.loadStartMs + this.loadEndMs + budgetMs;
      let lastSaid = 0;
      while (!this.atMinimum() && Date.now() < deadline) {
        if (Date.now() - lastSaid >= 15_000) {
          lastSaid = Date.now();
          const st = this.hpa?.status;
          this.progress(
            `HPA: waiting for the scale-down (${st?.currentReplicas ?? '?'} replicas, desired ${st?.desiredReplicas ?? '?'}, ` +
              `min ${spec.minReplicas}; at most ${Math.round((deadline - Date.now()) / 1000)} s more)`,
          );
        }
        await sleep(1000);
      }
      this.record();
    }
    const endMs = this.rel(Date.now());
    this.stop$.abort();
    await Promise.allSettled(this.tasks);
    const load = this.load;
    const steps = load === undefined ? [] : loadSteps(load);
    const analysis = analyseHpa({
      steps,
      loadEndMs: this.loadEndMs ?? endMs,
      endMs,
      readings: this.readings,
      events: this.events,
      acks: this.acks,
      cpu: this.cpu,
      spec,
    });
    const figures: Record<string, number> = {
      peakReplicas: analysis.peakReplicas,
      minReplicas: spec.minReplicas,
      maxReplicas: spec.maxReplicas,
      podsStarted: [...this.pods.values()].filter((p) => p.createdMs >= 0).length,
      podsTerminated: [...this.pods.values()].filter((p) => p.deletedMs !== undefined).length,
    };
    for (const st of analysis.steps) {
      const k = `step${st.index + 1}`;
      figures[`${k}.rate`] = st.rate;
      if (st.decisionSeconds !== undefined) figures[`${k}.scaleUpDecisionSeconds`] = st.decisionSeconds;
      if (st.readySeconds !== undefined) figures[`${k}.podsReadySeconds`] = st.readySeconds;
      if (st.ackRecoveredSeconds !== undefined) figures[`${k}.ackRecoveredSeconds`] = st.ackRecoveredSeconds;
      figures[`${k}.plateauReady`] = st.plateauReady;
      if (st.cpuCallsFor !== undefined) figures[`${k}.cpuCallsFor`] = st.cpuCallsFor;
    }
    if (analysis.scaleDown.decisionSeconds !== undefined)
      figures['scaleDown.decisionSeconds'] = analysis.scaleDown.decisionSeconds;
    if (analysis.scaleDown.atMinSeconds !== undefined)
      figures['scaleDown.atMinSeconds'] = analysis.scaleDown.atMinSeconds;
    const lines = describeHpa(analysis, spec);
    lines.push(
      `pods: ${figures.podsStarted} started, ${figures.podsTerminated} terminated during the observation; peak ${analysis.peakReplicas} ready`,
    );
    for (const d of analysis.decisions) {
      lines.push(
        `decision at +${(d.atMs / 1000).toFixed(0)} s: ${d.from} → ${d.to}${d.reason === undefined ? '' : ` (${d.reason})`}`,
      );
    }
    if (this.errors.length > 0) lines.push(`watch errors (retried): ${this.errors.slice(0, 3).join('; ')}`);
    const series = this.readings
      .filter((r, i, all) => i === 0 || Math.floor(r.atMs / 1000) !== Math.floor(all[i - 1]!.atMs / 1000))
      .map((r) => {
        const cpu = this.cpu.filter((c) => c.atMs <= r.atMs).at(-1);
        return {
          atMs: r.atMs,
          values: {
            desired: r.desired,
            current: r.current,
            ready: r.ready,
            ...(cpu === undefined ? {} : { cpuMilli: Math.round(cpu.totalMilli) }),
          },
        };
      });
    return {
      name: 'hpa',
      title: `Kubernetes HPA ${this.ns}/${this.target.name}`,
      lines,
      figures,
      series,
    };
  }
}
