import type { FaultKind } from './fault-kind.js';

/** Stop a component for +duration, then start it (longer than an exporter's retry max_elapsed_time to provoke its give-up). */
export const outage: FaultKind = {
  action: 'outage',
  help: 'stop for +duration, then start',
  duration: 'required',
  targets: 'service',
  async apply(ctx) {
    await ctx.beforeStop().catch(() => undefined);
    await ctx.target.stop(ctx.id, 10);
    await ctx.sleep(ctx.durationMs);
    await ctx.target.start(ctx.id);
    ctx.lifted();
    ctx.ready(await ctx.waitReady());
  },
};
