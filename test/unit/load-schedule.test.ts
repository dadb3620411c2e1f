import { describe, expect, it } from 'vitest';
import { parseDurationMs } from '../../src/options/duration.js';
import { runOpenModel, type Ticket } from '../../src/load/open-model-scheduler.js';
import { dueTimeMs, itemsDue, parseProfile, rateAt, totalItems } from '../../src/load/rate-profile.js';
import type { Clock } from '../../src/time/clock.js';

/** A clock that only moves when the code under test sleeps; pending sends resolve on their own timers. */
function fakeClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  const timers: { at: number; fire: () => void }[] = [];
  const fireDue = () => {
    for (const t of timers.filter((t) => t.at <= now)) {
      timers.splice(timers.indexOf(t), 1);
      t.fire();
    }
  };
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
      fireDue();
      await Promise.resolve();
    },
    advance(ms: number) {
      now += ms;
      fireDue();
    },
    // answers that take `ms` of fake time
    ...{ later: (ms: number, fire: () => void) => timers.push({ at: now + ms, fire }) },
  };
}

describe('durations and profiles', () => {
  it('parses durations', () => {
    expect(parseDurationMs('30s', 'd')).toBe(30_000);
    expect(parseDurationMs('1m30s', 'd')).toBe(90_000);
    expect(parseDurationMs('250ms', 'd')).toBe(250);
    expect(() => parseDurationMs('2', 'd')).toThrow(/d is invalid, expected a duration with its unit/);
    expect(parseDurationMs('0', 'd')).toBe(0);
    expect(() => parseDurationMs('ten minutes', '--duration')).toThrow(/--duration is invalid, expected a duration/);
    expect(() => parseDurationMs('10x', '--duration')).toThrow(/actual: '10x'/);
  });

  it('integrates constant, ramp and step profiles exactly', () => {
    const constant = parseProfile('constant');
    expect(totalItems(constant, 1000, 10_000)).toBe(10_000);
    const ramp = parseProfile('ramp:10s');
    expect(rateAt(ramp, 1000, 5_000, 20_000)).toBe(500);
    expect(totalItems(ramp, 1000, 20_000)).toBe(5_000 + 10_000); // triangle + rectangle
    const steps = parseProfile('steps:4');
    expect([0, 2_500, 5_000, 9_999].map((t) => rateAt(steps, 400, t, 10_000))).toEqual([100, 200, 300, 400]);
    expect(totalItems(steps, 400, 10_000)).toBe(250 + 500 + 750 + 1000);
    expect(itemsDue(steps, 400, 3_750, 10_000)).toBeCloseTo(250 + 250);
    expect(dueTimeMs(constant, 1000, 500, 10_000)).toBeCloseTo(500, 1);
    expect(() => parseProfile('sine')).toThrow(/--profile is invalid/);
    expect(() => parseProfile('steps:0')).toThrow(/--profile is invalid/);
  });
});

describe('runOpenModel', () => {
  it('issues every due unit exactly once, in order, in batches', async () => {
    const clock = fakeClock();
    const tickets: Ticket[] = [];
    const report = await runOpenModel(
      {
        unitRate: 1000,
        profile: parseProfile('constant'),
        durationMs: 2_000,
        batchUnits: 100,
        maxInFlight: 10,
        clock,
        tickMs: 10,
      },
      { send: (t) => (tickets.push(t), Promise.resolve()), drop: () => expect.fail('nothing should be dropped') },
    );
    expect(report).toMatchObject({ offeredUnits: 2000, sentUnits: 2000, droppedUnits: 0, interrupted: false });
    expect(tickets.map((t) => t.firstSeq)).toEqual(Array.from({ length: 20 }, (_, i) => i * 100));
    expect(tickets.every((t) => t.count === 100)).toBe(true);
    // each batch is issued on the first tick at or after it came due
    for (const t of tickets) {
      expect(t.issuedAtMs).toBeGreaterThanOrEqual(t.dueAtMs - 0.01);
      expect(t.issuedAtMs - t.dueAtMs).toBeLessThan(10);
    }
    expect(report.scheduleLagMs.max).toBeLessThanOrEqual(10);
  });

  it('sends a short last batch at the end of the run', async () => {
    const clock = fakeClock();
    const counts: number[] = [];
    await runOpenModel(
      { unitRate: 250, profile: parseProfile('constant'), durationMs: 1_000, batchUnits: 100, maxInFlight: 5, clock },
      { send: (t) => (counts.push(t.count), Promise.resolve()), drop: () => undefined },
    );
    expect(counts).toEqual([100, 100, 50]);
  });

  it('drops batches at the generator instead of slowing down when answers are slow (open model)', async () => {
    const clock = fakeClock() as ReturnType<typeof fakeClock> & { later(ms: number, fire: () => void): void };
    const dropped: Ticket[] = [];
    const run = runOpenModel(
      {
        unitRate: 1000,
        profile: parseProfile('constant'),
        durationMs: 1_000,
        batchUnits: 100,
        maxInFlight: 2,
        clock,
        tickMs: 10,
      },
      {
        // every answer takes 350 ms: at most 2 in flight, so only some batches can be sent
        send: () => new Promise<void>((resolve) => clock.later(350, resolve)),
        drop: (t) => dropped.push(t),
      },
    );
    // Once issuing is over, keep fake time moving so the pending answers arrive.
    let settled = false;
    void run.finally(() => (settled = true));
    while (!settled) {
      clock.advance(50);
      await new Promise((r) => setImmediate(r));
    }
    const report = await run;
    expect(report.offeredUnits).toBe(1000);
    expect(report.sentUnits + report.droppedUnits).toBe(1000);
    expect(report.droppedUnits).toBe(dropped.reduce((n, t) => n + t.count, 0));
    expect(report.droppedUnits).toBeGreaterThan(0);
    expect(report.issueElapsedMs).toBeLessThanOrEqual(1_010); // the schedule did not stretch
  });

  it('stops issuing when aborted', async () => {
    const clock = fakeClock();
    const controller = new AbortController();
    let sent = 0;
    const report = await runOpenModel(
      {
        unitRate: 1000,
        profile: parseProfile('constant'),
        durationMs: 10_000,
        batchUnits: 100,
        maxInFlight: 5,
        clock,
        signal: controller.signal,
      },
      {
        send: (t) => {
          sent += t.count;
          if (sent >= 500) controller.abort();
          return Promise.resolve();
        },
        drop: () => undefined,
      },
    );
    expect(report.interrupted).toBe(true);
    expect(report.offeredUnits).toBe(500);
  });
});
