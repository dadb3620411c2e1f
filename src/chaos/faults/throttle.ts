import { heldFault } from './fault-kind.js';

/** Limit the container to =<cpus> CPUs for +duration, then restore its limit. */
export const throttle = heldFault({
  action: 'throttle',
  help: '=<cpus> for +duration',
  value: { rule: 'a CPU limit', example: 'throttle:collector@10s+30s=0.25', valid: (n) => n > 0 },
  targets: 'service',
  async hold(ctx) {
    const before = await ctx.target.throttle(ctx.id, ctx.value ?? 1);
    return () => ctx.target.throttle(ctx.id, before);
  },
});
