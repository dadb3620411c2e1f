import { holdThenLift, type FaultKind } from './fault-kind.js';

/** Limit the container to =<cpus> CPUs for +duration, then restore its limit. */
export const throttle: FaultKind = {
  action: 'throttle',
  help: '=<cpus> for +duration',
  duration: 'required',
  value: { rule: 'a CPU limit', example: 'throttle:collector@10s+30s=0.25', valid: (n) => n > 0 },
  targets: 'service',
  async apply(ctx) {
    const before = await ctx.target.throttle(ctx.id, ctx.value ?? 1);
    await holdThenLift(ctx, () => ctx.target.throttle(ctx.id, before));
  },
};
