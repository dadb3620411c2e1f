import { heldFault } from './fault-kind.js';

/** Freeze the container's processes for +duration, then unpause: a stall, a long GC, a stuck node. */
export const pause = heldFault({
  action: 'pause',
  help: 'freeze for +duration',
  targets: 'service',
  async hold(ctx) {
    await ctx.target.pause(ctx.id);
    return () => ctx.target.unpause(ctx.id);
  },
});
