import type { FaultKind } from './fault-kind.js';

/** SIGKILL, then start again at once (or after +duration): an OOM kill, a node loss. */
export const kill: FaultKind = {
  action: 'kill',
  help: 'SIGKILL, then start again (+duration: wait before starting)',
  duration: 'optional',
  targets: 'service',
  async apply(ctx) {
    await ctx.beforeStop().catch(() => undefined);
    await ctx.target.kill(ctx.id);
    if (ctx.durationMs > 0) await ctx.sleep(ctx.durationMs);
    await ctx.target.start(ctx.id);
    ctx.lifted();
    ctx.ready(await ctx.waitReady());
  },
};
