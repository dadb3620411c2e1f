import { SIGNALS, type Signal } from '../load/ledger.js';
import { systemClock, type Clock } from '../time/clock.js';

/** Something still queued in a pipeline component when the drain looked. */
export interface QueueReading {
  component: string;
  /** The queue, e.g. the exporter `otlp_grpc/jaeger`, or a Kafka consumer group's lag. */
  queue: string;
  size: number;
  /** What `size` counts: 'requests' (batches), 'items', 'messages'. */
  unit: string;
  /** The signal whose items it holds, when known. */
  signal?: Signal;
  /** The most items it can hold (size × the most items a request can carry); undefined when nothing caps it. */
  maxItems?: number;
}

/** One signal's part of a condition's look. */
export interface SignalDrainState {
  idle: boolean;
  queued: QueueReading[];
  unobservable?: string;
  /** Changes whenever anything of this signal moved (queue sizes, in flight, sent or failed counters). */
  movement: string;
  /** Items delivered so far (a counter): unchanged while something is queued means nothing gets through. */
  delivered?: number;
}

/** One look at a drain condition. */
export interface DrainState {
  /** Everything this condition watches is empty and has stopped moving. */
  idle: boolean;
  queued: QueueReading[];
  /** Why idleness cannot be confirmed (metric missing, endpoint unreachable); undefined when it can. */
  unobservable?: string;
  /** One line for the progress display. */
  detail: string;
  /** Per signal, when the condition can tell signals apart; otherwise its state holds for every signal. */
  signals?: Partial<Record<Signal, SignalDrainState>>;
}

/** A condition the pipeline must reach before verification: collector queues empty, Kafka lag 0, … */
export interface DrainCondition {
  name: string;
  /** Time between looks (longer than any batching timeout, so a held batch shows as movement). */
  pollMs: number;
  check(): Promise<DrainState>;
  /**
   * Why `signal`'s queued items cannot get through, when the component's own evidence says no retry can
   * fix it (e.g. its exporter keeps failing with a message over the receiver's size limit); undefined when
   * it cannot tell. Asked only when something is queued and nothing was delivered for a while.
   */
  stuck?(signal: Signal): Promise<string | undefined>;
}

/**
 * A condition's state that concerns one signal: that signal's part as measured, every other signal idle (the
 * condition holds none of theirs and delivers none: 0, so that their tracks can still tell when nothing gets
 * through elsewhere).
 */
export function oneSignalState(signal: Signal, state: SignalDrainState, detail: string): DrainState {
  const signals = Object.fromEntries(
    SIGNALS.map((s): [Signal, SignalDrainState] => [
      s,
      s === signal ? state : { idle: true, queued: [], movement: '', delivered: 0 },
    ]),
  );
  return {
    idle: state.idle,
    queued: state.queued,
    ...(state.unobservable === undefined ? {} : { unobservable: state.unobservable }),
    detail,
    signals,
  };
}

export interface DrainOptions {
  conditions: readonly DrainCondition[];
  signals: readonly Signal[];
  /** A cheap count of the run's items per signal in its backend (must only grow as data lands). */
  backendCount: (signal: Signal) => Promise<number>;
  /** Items of the run each backend should end with (acknowledged): below it, counts must hold still for `settleMs`. */
  expected?: (signal: Signal) => number;
  timeoutMs: number;
  /**
   * End the drain early when something is still queued and nothing has moved (queue sizes, in-flight and
   * sent counters, lag) for this long: a batch a backend keeps refusing. Off by default (a backend outage
   * in a chaos run must be waited out); capacity trials use it.
   */
  stallMs?: number;
  /**
   * A signal whose queued items were not delivered for this long is asked about (`stuck`): when the evidence
   * says no retry can get them through, its drain ends there (default 20 s).
   */
  stuckAfterMs?: number;
  backendPollMs: number;
  /**
   * How long a count below `expected` must hold still before it is taken as final: backends make data
   * countable in steps (Tempo's metrics-generator cuts traces after 10–20 s), so two equal polls of a short
   * count prove nothing. Also how long a backend whose count cannot be read is given after the pipeline
   * went idle.
   */
  settleMs?: number | ((signal: Signal) => number);
  clock?: Clock;
  signal?: AbortSignal;
  progress?: (message: string) => void;
}

/** How one signal's drain ended. */
export interface SignalDrain {
  drained: boolean;
  /** When this signal's drain ended, ms after the drain started. */
  elapsedMs: number;
  /** When every pipeline condition was idle for this signal. */
  pipelineIdleAtMs: number | undefined;
  /** When the backend's count was stable (or, not readable, the settle time had passed). */
  backendStableAtMs: number | undefined;
  finalCount: number | undefined;
  reason: string | undefined;
  stalled?: boolean;
  /** Items are queued behind an error no retry can fix (the evidence, in words). */
  blocked?: string;
  /** What was still queued at the last look (empty when drained). */
  stillQueued: QueueReading[];
  /** Queues of this signal the drain could not see. */
  unobservable: string[];
  /** The backend's count could not be read (why): the drain waited `settleMs` after the pipeline went idle instead. */
  countUnobservable?: string;
}

export interface DrainReport {
  /** Every signal drained. */
  drained: boolean;
  elapsedMs: number;
  /** When every pipeline condition was idle (queues empty, counters still), ms after drain start. */
  collectorIdleAtMs: number | undefined;
  /** When every backend count was stable across two polls. */
  backendsStableAtMs: number | undefined;
  finalCounts: Partial<Record<Signal, number>>;
  /** Why the drain ended without reaching every condition (signals joined). */
  reason: string | undefined;
  /** It ended because nothing moved for `stallMs` while something was queued. */
  stalled?: boolean;
  /** What was still queued at the last look (empty when drained). */
  stillQueued: QueueReading[];
  /**
   * Queues the drain could not see (a metric missing, an endpoint unreachable), with why: even a drain that
   * ended cannot prove those were empty.
   */
  unobservable: string[];
  /** Each signal's own drain: one signal's trouble never holds back another's. */
  signals?: Partial<Record<Signal, SignalDrain>>;
}

/** `75 requests in otelcol (otlp_grpc/jaeger), 3 items in …`. */
export function describeQueued(queued: readonly QueueReading[]): string {
  return queued.map((q) => `${q.size} ${q.unit} in ${q.component} (${q.queue})`).join(', ');
}

/** The part of a drain report that concerns `signal` (the whole report when it has no per-signal parts). */
export function drainOf(report: DrainReport, signal: Signal): SignalDrain {
  const own = report.signals?.[signal];
  if (own !== undefined) return own;
  return {
    drained: report.drained,
    elapsedMs: report.elapsedMs,
    pipelineIdleAtMs: report.collectorIdleAtMs,
    backendStableAtMs: report.backendsStableAtMs,
    finalCount: report.finalCounts[signal],
    reason: report.reason,
    ...(report.stalled === true ? { stalled: true } : {}),
    stillQueued: report.stillQueued,
    unobservable: report.unobservable,
  };
}

const COUNT_FAILURES_BEFORE_UNOBSERVABLE = 3;

interface Track {
  signal: Signal;
  phase: 'pipeline' | 'backend' | 'done';
  out: SignalDrain;
  lastMove: { key: string; at: number } | undefined;
  lastDelivery: { value: number | undefined; at: number } | undefined;
  previousCount: string | undefined;
  stillSince: number;
  countFailures: number;
}

/**
 * After the load stops, per signal: wait until every pipeline condition is idle for it (sending queues
 * empty, nothing in flight, sent counters still; Kafka lag 0 …), then until its backend's count of the run's
 * items is the same in two consecutive polls. Bounded by `timeoutMs`. Each signal ends on its own — drained,
 * timed out, stalled, or blocked behind an error no retry fixes — and a backend whose count cannot be read
 * is given `settleMs` after its pipeline went idle, so one signal's trouble never holds another back. The
 * report says which condition held, what was still queued, and what could not be observed — a drain that did
 * not finish makes missing items "still queued" until the evidence decides, never "lost" on its own.
 */
export async function drain(options: DrainOptions): Promise<DrainReport> {
  const clock = options.clock ?? systemClock;
  const start = clock.now();
  const elapsed = () => clock.now() - start;
  const deadline = start + options.timeoutMs;
  const progress = options.progress ?? (() => undefined);
  const settle = options.settleMs ?? 30_000;
  const settleMs = (signal: Signal) => (typeof settle === 'number' ? settle : settle(signal));
  const stuckAfterMs = options.stuckAfterMs ?? 20_000;
  const conditionPollMs = Math.max(0, ...options.conditions.map((c) => c.pollMs));
  const tracks: Track[] = options.signals.map((signal) => ({
    signal,
    phase: options.conditions.length > 0 ? 'pipeline' : 'backend',
    out: {
      drained: false,
      elapsedMs: 0,
      pipelineIdleAtMs: options.conditions.length > 0 ? undefined : 0,
      backendStableAtMs: undefined,
      finalCount: undefined,
      reason: undefined,
      stillQueued: [],
      unobservable: [],
    },
    lastMove: undefined,
    lastDelivery: undefined,
    previousCount: undefined,
    stillSince: start,
    countFailures: 0,
  }));
  const finish = (t: Track, drained: boolean, reason?: string) => {
    t.phase = 'done';
    t.out.drained = drained;
    t.out.elapsedMs = elapsed();
    if (reason !== undefined) t.out.reason = reason;
    if (drained) t.out.stillQueued = [];
  };
  let nextConditionsAt = start;

  while (tracks.some((t) => t.phase !== 'done')) {
    options.signal?.throwIfAborted();
    const now = clock.now();

    // ── pipeline: queues, in flight, lag ────────────────────────────────────────────────────────────────
    const inPipeline = tracks.filter((t) => t.phase === 'pipeline');
    if (inPipeline.length > 0 && now >= nextConditionsAt) {
      nextConditionsAt = now + conditionPollMs;
      const states = await Promise.all(
        options.conditions.map((c) =>
          c.check().catch((err: unknown): DrainState => ({
            idle: false,
            queued: [],
            unobservable: `${c.name} could not be read (${(err as Error).message})`,
            detail: `${c.name} unreachable`,
          })),
        ),
      );
      progress(`drain: ${states.map((s) => s.detail).join('; ')}`);
      for (const t of inPipeline) {
        const own = states.map((s) => s.signals?.[t.signal] ?? stateOf(s));
        t.out.stillQueued = own.flatMap((s) => s.queued);
        t.out.unobservable = [...new Set(own.flatMap((s) => (s.unobservable === undefined ? [] : [s.unobservable])))];
        if (own.every((s) => s.idle)) {
          t.out.pipelineIdleAtMs = elapsed();
          t.phase = 'backend';
          t.stillSince = clock.now();
          continue;
        }
        const key = JSON.stringify(own.map((s) => s.movement));
        if (t.lastMove?.key !== key) t.lastMove = { key, at: now };
        const delivered = own.some((s) => s.delivered === undefined)
          ? undefined
          : own.reduce((n, s) => n + (s.delivered ?? 0), 0);
        if (t.lastDelivery === undefined || delivered === undefined || delivered !== t.lastDelivery.value)
          t.lastDelivery = { value: delivered, at: now };
        const stalling = options.stallMs !== undefined && now - t.lastMove.at >= options.stallMs;
        if (
          t.out.stillQueued.length > 0 &&
          delivered !== undefined &&
          (now - t.lastDelivery.at >= stuckAfterMs || stalling)
        ) {
          const why = (
            await Promise.all(
              options.conditions.map((c) =>
                c.stuck === undefined ? Promise.resolve(undefined) : c.stuck(t.signal).catch(() => undefined),
              ),
            )
          ).find((x) => x !== undefined);
          if (why !== undefined) {
            t.out.blocked = why;
            finish(
              t,
              false,
              `${describeQueued(t.out.stillQueued)} queued behind an error no retry fixes (${why}); nothing delivered for ${Math.round((now - t.lastDelivery.at) / 1000)} s`,
            );
            continue;
          }
        }
        if (stalling) {
          t.out.stalled = true;
          finish(
            t,
            false,
            `the pipeline stalled: nothing moved for ${Math.round((now - t.lastMove.at) / 1000)} s${t.out.stillQueued.length > 0 ? ` while ${describeQueued(t.out.stillQueued)} stayed queued` : ''}`,
          );
          continue;
        }
        if (now + conditionPollMs > deadline) {
          finish(
            t,
            false,
            `the pipeline did not become idle before the drain timeout${t.out.stillQueued.length > 0 ? `: ${describeQueued(t.out.stillQueued)} still queued` : ''}`,
          );
        }
      }
    }

    // ── backends: the run's items countable, and stable ─────────────────────────────────────────────────
    const inBackend = tracks.filter((t) => t.phase === 'backend');
    await Promise.all(
      inBackend.map(async (t) => {
        if (t.out.countUnobservable !== undefined) {
          // The count cannot be read: the backend gets `settleMs` after the pipeline went idle.
          if (elapsed() - (t.out.pipelineIdleAtMs ?? 0) >= settleMs(t.signal)) {
            t.out.backendStableAtMs = elapsed();
            finish(t, true);
          }
          return;
        }
        try {
          const n = await options.backendCount(t.signal);
          t.countFailures = 0;
          t.out.finalCount = n;
          const key = String(n);
          const short = options.expected !== undefined && n < options.expected(t.signal);
          if (key !== t.previousCount) t.stillSince = clock.now();
          else if (!short || clock.now() - t.stillSince >= settleMs(t.signal)) {
            t.out.backendStableAtMs = elapsed();
            finish(t, true);
            return;
          }
          t.previousCount = key;
        } catch (err) {
          t.countFailures++;
          t.previousCount = undefined;
          const message = (err as Error).message;
          progress(`drain: ${t.signal} backend count failed (${message})`);
          if (t.countFailures >= COUNT_FAILURES_BEFORE_UNOBSERVABLE) {
            t.out.countUnobservable = message;
            progress(
              `drain: ${t.signal}: the backend's count cannot be read; giving it ${Math.round(settleMs(t.signal) / 1000)} s after the pipeline went idle`,
            );
          }
        }
      }),
    );
    const counted = inBackend.filter((t) => t.phase === 'backend' && t.out.countUnobservable === undefined);
    if (counted.length > 0)
      progress(
        `drain: backend counts ${counted.map((t) => `${t.signal}=${t.out.finalCount ?? '?'}${options.expected === undefined ? '' : `/${options.expected(t.signal)}`}`).join(' ')}`,
      );
    for (const t of tracks) {
      if (t.phase === 'backend' && clock.now() + options.backendPollMs > deadline)
        finish(t, false, 'backend counts were still changing at the drain timeout');
    }
    if (tracks.every((t) => t.phase === 'done')) break;
    const waitMs = tracks.some((t) => t.phase === 'backend')
      ? options.backendPollMs
      : Math.max(0, nextConditionsAt - clock.now());
    await clock.sleep(waitMs, options.signal);
  }

  const signals = Object.fromEntries(tracks.map((t) => [t.signal, t.out])) as Partial<Record<Signal, SignalDrain>>;
  const all = tracks.map((t) => t.out);
  const ended = tracks.filter((t) => t.out.reason !== undefined);
  const distinct = [...new Set(ended.map((t) => t.out.reason!))];
  // One reason for every signal that ended early is said once; different ones name their signal.
  const reasons =
    distinct.length === 1 && ended.length === tracks.length
      ? distinct
      : ended.map((t) => `${t.signal}: ${t.out.reason}`);
  const idle = all.map((s) => s.pipelineIdleAtMs);
  const stable = all.map((s) => s.backendStableAtMs);
  return {
    drained: all.every((s) => s.drained),
    elapsedMs: Math.max(0, ...all.map((s) => s.elapsedMs)),
    collectorIdleAtMs: allDefined(idle) ? Math.max(0, ...idle) : undefined,
    backendsStableAtMs: allDefined(stable) ? Math.max(0, ...stable) : undefined,
    finalCounts: Object.fromEntries(
      tracks.flatMap((t) => (t.out.finalCount === undefined ? [] : [[t.signal, t.out.finalCount]])),
    ),
    reason: reasons.length > 0 ? reasons.join('; ') : undefined,
    ...(all.some((s) => s.stalled === true) ? { stalled: true } : {}),
    stillQueued: all.flatMap((s) => s.stillQueued),
    unobservable: [...new Set(all.flatMap((s) => s.unobservable))],
    signals,
  };
}

function allDefined(values: readonly (number | undefined)[]): values is number[] {
  return values.every((x) => x !== undefined);
}

/** A condition's whole state as one signal's (conditions that cannot tell signals apart). */
function stateOf(s: DrainState): SignalDrainState {
  return {
    idle: s.idle,
    queued: s.queued,
    ...(s.unobservable === undefined ? {} : { unobservable: s.unobservable }),
    movement: JSON.stringify([s.queued, s.detail]),
  };
}
