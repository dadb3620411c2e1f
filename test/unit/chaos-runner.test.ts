import { describe, expect, it } from 'vitest';
import { planFaults } from '../../src/chaos/chaos-plan.js';
import { ChaosRunner } from '../../src/chaos/chaos-runner.js';
import { CHAOS_ACTIONS, FAULTS } from '../../src/chaos/faults/registry.js';
import type { FaultTarget } from '../../src/stack/stack.js';

/** A stack that records what was done to it, and answers ready at once. */
function recorder(): { target: FaultTarget; calls: string[] } {
  const calls: string[] = [];
  const rec =
    (name: string) =>
    async (id: string, arg?: number): Promise<void> => {
      calls.push(arg === undefined ? `${name} ${id}` : `${name} ${id} ${arg}`);
      await Promise.resolve();
    };
  const target: FaultTarget = {
    targets: () => ['otelcol', 'loki'],
    resolve: (t) => t,
    kill: rec('kill'),
    stop: rec('stop'),
    start: rec('start'),
    pause: rec('pause'),
    unpause: rec('unpause'),
    disconnect: rec('disconnect'),
    connect: rec('connect'),
    throttle: async (id, cpus) => {
      calls.push(`throttle ${id} ${cpus}`);
      return Promise.resolve(2);
    },
    ready: () => Promise.resolve(true),
    scale: async (role, count) => {
      calls.push(`scale ${role} ${count}`);
      return Promise.resolve({ started: [`${role}-3`], removed: [], settledMs: 1_500 });
    },
  };
  return { target, calls };
}

describe('faults, one module each', () => {
  it('lists every action in one registry, each with its help line', () => {
    expect(CHAOS_ACTIONS).toEqual(['kill', 'restart', 'pause', 'partition', 'outage', 'throttle', 'scale']);
    for (const a of CHAOS_ACTIONS) expect(FAULTS[a]!.help.length).toBeGreaterThan(10);
  });

  it('applies each fault through the stack in order, and records when it was lifted and ready again', async () => {
    const { target, calls } = recorder();
    const faults = planFaults(
      ['kill:collector@0s', 'restart:loki@0s=5', 'throttle:collector@100ms+50ms=0.5', 'scale:gateway@0s=3'],
      ['otelcol', 'loki'],
      10_000,
      {},
      ['gateway'],
    );
    const stops: string[] = [];
    const runner = new ChaosRunner(
      target,
      faults,
      () => undefined,
      () => {
        stops.push('read counters');
        return Promise.resolve();
      },
    ).start(Date.now(), new AbortController().signal);
    await new Promise((r) => setTimeout(r, 20));
    await runner.settled();
    await new Promise((r) => setTimeout(r, 200));
    await runner.settled();
    expect(calls).toEqual(
      expect.arrayContaining(['kill otelcol', 'start otelcol', 'stop loki 5', 'start loki', 'scale gateway 3']),
    );
    expect(calls.filter((c) => c.startsWith('throttle'))).toEqual(['throttle otelcol 0.5', 'throttle otelcol 2']);
    expect(stops.length).toBe(3); // kill, restart and scale read the counters first; throttle stops nothing
    for (const e of runner.events) {
      expect(e.error).toBeUndefined();
      expect(e.endedAtMs).toBeGreaterThanOrEqual(e.startedAtMs!);
    }
    const scaled = runner.events.find((e) => e.action === 'scale')!;
    expect(scaled.scaled).toMatchObject({ started: ['gateway-3'], settledAtMs: scaled.startedAtMs! + 1_500 });
    expect(runner.events.find((e) => e.action === 'kill')!.readyAtMs).toBeDefined();
  });

  it('lifts what still holds when the run is interrupted: unpause, reconnect', async () => {
    const { target, calls } = recorder();
    const faults = planFaults(['pause:collector@0s+10s', 'partition:loki@0s+10s'], ['otelcol', 'loki'], 60_000);
    const runner = new ChaosRunner(target, faults, () => undefined).start(Date.now(), new AbortController().signal);
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toEqual(expect.arrayContaining(['pause otelcol', 'disconnect loki']));
    await runner.undo();
    expect(calls).toEqual(expect.arrayContaining(['unpause otelcol', 'connect loki']));
    const lifted = calls.length;
    await runner.undo(); // nothing holds any more
    expect(calls.length).toBe(lifted);
  });

  it('refuses what a fault does not take, from its module', () => {
    const services = ['otelcol', 'loki'];
    expect(() => planFaults(['restart:collector@5s+10s'], services, 60_000)).toThrow(
      /--chaos restart is invalid, expected no \+duration/,
    );
    expect(() => planFaults(['pause:loki@5s+3s=3'], services, 60_000)).toThrow(
      /--chaos pause is invalid, expected no =value/,
    );
  });
});
