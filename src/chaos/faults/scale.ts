import type { FaultKind } from './fault-kind.js';

/** Resize a scalable role (Phase 2: gateway, processor) to =<count> instances while load runs. */
export const scale: FaultKind = {
  action: 'scale',
  help: 'resize a role (--phase 2: gateway, processor) to =<count> instances',
  duration: 'refused',
  value: { rule: 'a number of instances', example: 'scale:gateway@60s=3', valid: (n) => Number.isInteger(n) && n >= 1 },
  targets: 'role',
  async apply(ctx) {
    if (ctx.target.scale === undefined) throw new Error(`this stack cannot scale ${ctx.id}`);
    await ctx.beforeStop().catch(() => undefined);
    const outcome = await ctx.target.scale(ctx.id, ctx.value ?? 1);
    ctx.lifted();
    ctx.scaled(outcome);
  },
};
