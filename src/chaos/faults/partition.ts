import { holdThenLift, type FaultKind } from './fault-kind.js';

/** Disconnect a backend from the run's network for +duration: the collector cannot reach it. */
export const partition: FaultKind = {
  action: 'partition',
  help: 'cut a backend off the network for +duration',
  duration: 'required',
  targets: 'backend',
  async apply(ctx) {
    await ctx.target.disconnect(ctx.id);
    await holdThenLift(ctx, () => ctx.target.connect(ctx.id));
    ctx.ready(await ctx.waitReady());
  },
};
