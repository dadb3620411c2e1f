/**
 * Reaction times of a HorizontalPodAutoscaler to load steps, from what was recorded while the load ran:
 * the HPA's status (desired/current replicas), the Deployment's ready replicas, the pods' CPU from the
 * metrics API, and the generator's acknowledged items. Pure: every input carries its time in ms from the
 * load's start.
 */

import { count } from '../../format.js';

export interface ReplicaReading {
  atMs: number;
  /** status.desiredReplicas of the HPA. */
  desired: number;
  /** status.currentReplicas of the HPA. */
  current: number;
  /** status.readyReplicas of the Deployment. */
  ready: number;
}

/** A change of the HPA's desired replicas: a scaling decision. */
export interface ScaleDecision {
  atMs: number;
  from: number;
  to: number;
  /** The SuccessfulRescale event's message when one was seen (e.g. "cpu resource utilization … above target"). */
  reason: string | undefined;
}

/** Cumulative items acknowledged by the stack at a time. */
export interface AckReading {
  atMs: number;
  acknowledged: number;
}

/** The summed CPU of the target's pods, from metrics.k8s.io, in millicores. */
export interface CpuReading {
  atMs: number;
  totalMilli: number;
  pods: number;
  /** The least and most any one pod used: how evenly the load spreads over the replicas. */
  minPodMilli?: number;
  maxPodMilli?: number;
}

export interface LoadStep {
  index: number;
  startMs: number;
  endMs: number;
  /** Offered items/s during the step. */
  rate: number;
}

export interface HpaSpecSummary {
  minReplicas: number;
  maxReplicas: number;
  cpuTargetPct: number;
  cpuRequestMilli: number | undefined;
  scaleDownWindowSeconds: number;
}

export interface StepReaction {
  index: number;
  rate: number;
  startMs: number;
  endMs: number;
  replicasAtStart: number;
  /** First scale-up decision during the step. */
  decision: ScaleDecision | undefined;
  /** Seconds from the step's start to that decision. */
  decisionSeconds: number | undefined;
  /** Seconds from the step's start until the Deployment had that many ready pods. */
  readySeconds: number | undefined;
  /**
   * Seconds from the step's start until the acknowledged rate was back within 5 % of the offered rate for
   * 5 s; 0 when it never fell behind; undefined when it never recovered within the step.
   */
  ackRecoveredSeconds: number | undefined;
  ackFellBehind: boolean;
  /** Ready and desired replicas at the step's end. */
  plateauReady: number;
  plateauDesired: number;
  /**
   * Replicas the pods' measured CPU calls for at the plateau: ceil(CPU / (target × request)), within
   * min..max; undefined without CPU readings or requests.
   */
  cpuCallsFor: number | undefined;
  /** Mean pods' CPU over the step's last third, millicores. */
  plateauCpuMilli: number | undefined;
  /** The last reading's least and most loaded pod in the step, millicores. */
  podSpreadMilli: { min: number; max: number } | undefined;
}

export interface ScaleDownReaction {
  /** Seconds from the load's end to the first scale-down decision. */
  decisionSeconds: number | undefined;
  /** Seconds from the load's end until current and ready replicas were back at minReplicas. */
  atMinSeconds: number | undefined;
  /** Replicas when the load ended. */
  replicasAtLoadEnd: number;
  /** How long the observation lasted after the load's end, s. */
  watchedSeconds: number;
}

export interface HpaAnalysis {
  steps: StepReaction[];
  scaleDown: ScaleDownReaction;
  decisions: ScaleDecision[];
  peakReplicas: number;
}

/** The decisions: every change of desired replicas, in time order. */
export function scaleDecisions(
  readings: readonly ReplicaReading[],
  events: readonly { atMs: number; to: number; message: string }[] = [],
): ScaleDecision[] {
  const out: ScaleDecision[] = [];
  let previous: number | undefined;
  for (const r of [...readings].sort((a, b) => a.atMs - b.atMs)) {
    if (previous !== undefined && r.desired !== previous) {
      const event = events.find((e) => e.to === r.desired && Math.abs(e.atMs - r.atMs) <= 5_000);
      out.push({ atMs: r.atMs, from: previous, to: r.desired, reason: event?.message });
    }
    previous = r.desired;
  }
  return out;
}

function at<T extends { atMs: number }>(readings: readonly T[], atMs: number): T | undefined {
  let last: T | undefined;
  for (const r of readings) {
    if (r.atMs > atMs) break;
    last = r;
  }
  return last ?? readings[0];
}

/** Acknowledged items/s over [fromMs, toMs) from cumulative readings; undefined without two readings. */
function ackRate(acks: readonly AckReading[], fromMs: number, toMs: number): number | undefined {
  const a = at(acks, fromMs);
  const b = at(acks, toMs);
  if (a === undefined || b === undefined || b.atMs <= a.atMs) return undefined;
  return ((b.acknowledged - a.acknowledged) * 1000) / (b.atMs - a.atMs);
}

const RECOVERY_WINDOW_MS = 5_000;
const RECOVERY_FRACTION = 0.95;

function ackRecovery(
  acks: readonly AckReading[],
  step: LoadStep,
): { fellBehind: boolean; recoveredSeconds: number | undefined } {
  let fellBehind = false;
  // Windows of 5 s, sliding by 1 s, that lie within the step; the first 2 s are the answers' own latency.
  for (let t = step.startMs + 2_000; t + RECOVERY_WINDOW_MS <= step.endMs; t += 1_000) {
    const rate = ackRate(acks, t, t + RECOVERY_WINDOW_MS);
    if (rate === undefined) continue;
    if (rate >= RECOVERY_FRACTION * step.rate) {
      return { fellBehind, recoveredSeconds: fellBehind ? (t + RECOVERY_WINDOW_MS - step.startMs) / 1000 : 0 };
    }
    fellBehind = true;
  }
  return { fellBehind, recoveredSeconds: undefined };
}

function meanCpu(cpu: readonly CpuReading[], fromMs: number, toMs: number): number | undefined {
  const inside = cpu.filter((c) => c.atMs >= fromMs && c.atMs <= toMs);
  if (inside.length === 0) return undefined;
  return inside.reduce((n, c) => n + c.totalMilli, 0) / inside.length;
}

export function analyseHpa(input: {
  steps: readonly LoadStep[];
  loadEndMs: number;
  /** End of the observation (after the load: the scale-down watch). */
  endMs: number;
  readings: readonly ReplicaReading[];
  events?: readonly { atMs: number; to: number; message: string }[];
  acks: readonly AckReading[];
  cpu: readonly CpuReading[];
  spec: HpaSpecSummary;
}): HpaAnalysis {
  const readings = [...input.readings].sort((a, b) => a.atMs - b.atMs);
  const decisions = scaleDecisions(readings, input.events);
  const steps = input.steps.map((step): StepReaction => {
    const start = at(readings, step.startMs);
    const decision = decisions.find((d) => d.to > d.from && d.atMs >= step.startMs && d.atMs < step.endMs);
    const ready =
      decision === undefined
        ? undefined
        : readings.find((r) => r.atMs >= decision.atMs && r.ready >= decision.to && r.atMs < step.endMs + 60_000);
    const end = at(readings, step.endMs);
    const recovery = ackRecovery(input.acks, step);
    const plateauCpu = meanCpu(input.cpu, step.endMs - (step.endMs - step.startMs) / 3, step.endMs);
    const perPod =
      input.spec.cpuRequestMilli === undefined
        ? undefined
        : (input.spec.cpuTargetPct / 100) * input.spec.cpuRequestMilli;
    const cpuCallsFor =
      plateauCpu === undefined || perPod === undefined || perPod <= 0
        ? undefined
        : Math.min(input.spec.maxReplicas, Math.max(input.spec.minReplicas, Math.ceil(plateauCpu / perPod)));
    const last = input.cpu.filter((c) => c.atMs >= step.startMs && c.atMs <= step.endMs).at(-1);
    return {
      podSpreadMilli:
        last?.minPodMilli === undefined || last.maxPodMilli === undefined
          ? undefined
          : { min: last.minPodMilli, max: last.maxPodMilli },
      index: step.index,
      rate: step.rate,
      startMs: step.startMs,
      endMs: step.endMs,
      replicasAtStart: start?.ready ?? 0,
      decision,
      decisionSeconds: decision === undefined ? undefined : (decision.atMs - step.startMs) / 1000,
      readySeconds: ready === undefined ? undefined : (ready.atMs - step.startMs) / 1000,
      ackRecoveredSeconds: recovery.recoveredSeconds,
      ackFellBehind: recovery.fellBehind,
      plateauReady: end?.ready ?? 0,
      plateauDesired: end?.desired ?? 0,
      cpuCallsFor,
      plateauCpuMilli: plateauCpu,
    };
  });
  const atEnd = at(readings, input.loadEndMs);
  // A scale-up decided after the load's end (the HPA reads CPU a period late) is one the scale-down
  // must undo too: the scale-down is counted from the later of the two.
  const lateUp = decisions.filter((d) => d.to > d.from && d.atMs >= input.loadEndMs).at(-1);
  const settleFrom = lateUp?.atMs ?? input.loadEndMs;
  const down = decisions.find((d) => d.to < d.from && d.atMs >= settleFrom);
  const aboveMin = (atEnd !== undefined && atEnd.desired > input.spec.minReplicas) || atEnd === undefined;
  const atMin = readings.find(
    (r) =>
      r.atMs >= settleFrom &&
      r.current === input.spec.minReplicas &&
      r.ready === input.spec.minReplicas &&
      r.desired === input.spec.minReplicas &&
      (aboveMin || lateUp !== undefined ? down !== undefined && r.atMs >= down.atMs : true),
  );
  return {
    steps,
    decisions,
    peakReplicas: readings.reduce((n, r) => Math.max(n, r.ready), 0),
    scaleDown: {
      decisionSeconds: down === undefined ? undefined : (down.atMs - input.loadEndMs) / 1000,
      atMinSeconds: atMin === undefined ? undefined : (atMin.atMs - input.loadEndMs) / 1000,
      replicasAtLoadEnd: atEnd?.ready ?? 0,
      watchedSeconds: (input.endMs - input.loadEndMs) / 1000,
    },
  };
}

const s = (seconds: number | undefined) => (seconds === undefined ? '—' : `${seconds.toFixed(0)} s`);

/** Sentences for the summary, one per step and one for the scale-down. */
export function describeHpa(a: HpaAnalysis, spec: HpaSpecSummary): string[] {
  const lines: string[] = [];
  for (const st of a.steps) {
    const scale =
      st.decision === undefined
        ? `no scale-up decision (${st.replicasAtStart} ready)`
        : `${st.decision.from} → ${st.decision.to} replicas decided at +${s(st.decisionSeconds)}, ready at +${s(st.readySeconds)}`;
    const ack = !st.ackFellBehind
      ? 'acknowledged rate kept up'
      : st.ackRecoveredSeconds === undefined
        ? 'acknowledged rate did not recover within the step'
        : `acknowledged rate recovered at +${s(st.ackRecoveredSeconds)}`;
    const cpu =
      st.cpuCallsFor === undefined
        ? ''
        : `; pods' CPU ${Math.round(st.plateauCpuMilli ?? 0)}m calls for ${st.cpuCallsFor} at ${spec.cpuTargetPct} % of ${spec.cpuRequestMilli ?? '?'}m`;
    const spread =
      st.podSpreadMilli === undefined
        ? ''
        : ` (per pod ${Math.round(st.podSpreadMilli.min)}–${Math.round(st.podSpreadMilli.max)}m at the step's end)`;
    lines.push(
      `step ${st.index + 1} (${count(st.rate)} items/s from +${s(st.startMs / 1000)}): ${scale}; ${ack}; plateau ${st.plateauReady} ready / ${st.plateauDesired} desired${cpu}${spread}`,
    );
  }
  const d = a.scaleDown;
  if (d.replicasAtLoadEnd <= spec.minReplicas && d.decisionSeconds === undefined) {
    lines.push(
      `scale-down: nothing to scale down (${d.replicasAtLoadEnd} replicas at the load's end, min ${spec.minReplicas})`,
    );
  } else if (d.decisionSeconds === undefined) {
    lines.push(
      `scale-down: not observed within ${s(d.watchedSeconds)} after the load (stabilization window ${spec.scaleDownWindowSeconds} s)`,
    );
  } else {
    lines.push(
      `scale-down: first decision ${s(d.decisionSeconds)} after the load's end (stabilization window ${spec.scaleDownWindowSeconds} s), ` +
        (d.atMinSeconds === undefined
          ? `not back at ${spec.minReplicas} replicas within ${s(d.watchedSeconds)}`
          : `back at ${spec.minReplicas} replicas at ${s(d.atMinSeconds)}`),
    );
  }
  return lines;
}
