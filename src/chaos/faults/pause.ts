import { holdThenLift, type FaultKind } from './fault-kind.js';

/** Freeze the container's processes for +duration, then unpause: a stall, a long GC, a stuck node. */
export const pause: FaultKind = {
  action: 'pause',
  help: 'freeze for +duration',
  duration: 'required',
  targets: 'service',
  async apply(ctx) {
    await ctx.target.pause(ctx.id);
    await holdThenLift(ctx, () => ctx.target.unpause(ctx.id));
  },
};
