import type { FaultKind } from './fault-kind.js';

const DEFAULT_GRACE_S = 30;

/** Graceful: SIGTERM with =<seconds> grace (default 30, the seeds' stop_grace_period), then start — a rolling deploy. */
export const restart: FaultKind = {
  action: 'restart',
  help: 'SIGTERM with =<grace seconds> (default 30), then start',
  duration: 'refused',
  value: { rule: 'grace seconds', example: 'restart:collector@25s=30', default: DEFAULT_GRACE_S, valid: (n) => n >= 0 },
  targets: 'service',
  extraWindowMs: (value) => (value ?? DEFAULT_GRACE_S) * 1000,
  async apply(ctx) {
    await ctx.beforeStop().catch(() => undefined);
    await ctx.target.stop(ctx.id, ctx.value ?? DEFAULT_GRACE_S);
    await ctx.target.start(ctx.id);
    ctx.lifted();
    ctx.ready(await ctx.waitReady());
  },
};
