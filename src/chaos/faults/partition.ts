import { heldFault } from './fault-kind.js';

/** Disconnect a backend from the run's network for +duration: the collector cannot reach it. */
export const partition = heldFault({
  action: 'partition',
  help: 'cut a backend off the network for +duration',
  targets: 'backend',
  async hold(ctx) {
    await ctx.target.disconnect(ctx.id);
    return () => ctx.target.connect(ctx.id);
  },
  async afterLift(ctx) {
    ctx.ready(await ctx.waitReady());
  },
});
