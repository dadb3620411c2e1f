import type { FaultTarget } from '../../stack/stack.js';

/** What a fault's module is given to apply it: the stack, the clock, and how to record its course. */
export interface FaultContext {
  target: FaultTarget;
  /** The service (or, for scale, the role) the fault hits. */
  id: string;
  durationMs: number;
  value: number | undefined;
  /** ms into the load. */
  now(): number;
  sleep(ms: number): Promise<void>;
  /** A last reading of the counters before a process stops. */
  beforeStop(): Promise<void>;
  /** Until the target answers its readiness check again: ms into the load, or undefined. */
  waitReady(): Promise<number | undefined>;
  /**
   * While the fault holds, how to lift it should the run be interrupted (unpause, reconnect, restore CPU);
   * returns the release to call once the fault lifted itself.
   */
  holding(lift: () => Promise<unknown>): () => void;
  /** The fault was lifted (the container started, unpaused, reconnected, unthrottled). */
  lifted(): void;
  /** The target answered its readiness check (or, for scale, the stack settled on the new set). */
  ready(atMs: number | undefined): void;
  scaled(outcome: { started: string[]; removed: string[]; settledMs: number }): void;
}

/**
 * One kind of fault, in one module: how it is written (`action:target@start[+duration][=value]`), what it
 * may hit, and how it is applied and lifted. The registry (./registry.ts) lists them; the plan, the runner
 * and `chaos --help` ask it.
 */
export interface FaultKind {
  action: string;
  /** One line for `chaos --help`. */
  help: string;
  /** `+duration`: required (it lasts), optional (a kill may stay down), or refused (a scale stays). */
  duration: 'required' | 'optional' | 'refused';
  /** `=value`, when it takes one: what it is, an example fault, its default, and its check. */
  value?: { rule: string; example: string; default?: number; valid(n: number): boolean };
  /** What it may hit: any service, a backend only (not the collector), or a scalable role. */
  targets: 'service' | 'backend' | 'role';
  /** How long it disturbs its container beyond `+duration` (a restart's grace), ms. */
  extraWindowMs?(value: number | undefined): number;
  apply(ctx: FaultContext): Promise<void>;
}

/**
 * Keeps a fault that was just applied in place for its +duration, then lifts it with `lift` — which also
 * runs should the run be interrupted meanwhile.
 */
export async function holdThenLift(ctx: FaultContext, lift: () => Promise<unknown>): Promise<void> {
  const release = ctx.holding(lift);
  await ctx.sleep(ctx.durationMs);
  await lift();
  release();
  ctx.lifted();
}

/**
 * A fault that holds for its +duration and is then lifted (pause, partition, throttle): `hold` applies it
 * and returns how to lift it; `afterLift` runs once it is lifted (a reconnected backend answering again).
 */
export function heldFault(
  kind: Omit<FaultKind, 'apply' | 'duration'> & {
    hold: (ctx: FaultContext) => Promise<() => Promise<unknown>>;
    afterLift?: (ctx: FaultContext) => Promise<void>;
  },
): FaultKind {
  const { hold, afterLift, ...rest } = kind;
  return {
    ...rest,
    duration: 'required',
    async apply(ctx) {
      await holdThenLift(ctx, await hold(ctx));
      await afterLift?.(ctx);
    },
  };
}
