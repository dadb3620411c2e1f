import { describe, expect, it } from 'vitest';
import { LineRing } from '../../src/stack/docker/line-ring.js';
import type { Clock } from '../../src/time/clock.js';
import { retryUntil } from '../../src/time/retry-until.js';

function fakeClock(): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: (ms) => {
      slept.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

describe('retryUntil', () => {
  it('returns the first value that satisfies the predicate, with the attempts it took', async () => {
    const clock = fakeClock();
    let n = 0;
    const outcome = await retryUntil(
      () => Promise.resolve(++n),
      (v) => v === 3,
      { timeoutMs: 10_000, intervalMs: 500, clock },
    );
    expect(outcome).toEqual({ status: 'done', value: 3, elapsedMs: 1000, attempts: 3 });
    expect(clock.slept).toEqual([500, 500]);
  });

  it('times out keeping the last value and the last error', async () => {
    const clock = fakeClock();
    let n = 0;
    const outcome = await retryUntil(
      () => (++n % 2 === 0 ? Promise.reject(new Error('refused')) : Promise.resolve(n)),
      () => false,
      { timeoutMs: 2_000, intervalMs: 500, clock },
    );
    expect(outcome.status).toBe('timeout');
    if (outcome.status !== 'timeout') return;
    expect(outcome.attempts).toBe(5);
    expect(outcome.elapsedMs).toBe(2_000);
    expect(outcome.last).toBe(5);
  });

  it('stops early when told the wait is hopeless', async () => {
    const clock = fakeClock();
    const outcome = await retryUntil(
      () => Promise.resolve('exited'),
      () => false,
      {
        timeoutMs: 60_000,
        intervalMs: 500,
        clock,
        stop: (v) => v === 'exited',
      },
    );
    expect(outcome).toMatchObject({ status: 'timeout', attempts: 1, elapsedMs: 0 });
  });
});

describe('LineRing', () => {
  it('keeps the last lines across chunk boundaries', () => {
    const ring = new LineRing(3);
    ring.push('a\nb');
    ring.push('c\nd\ne\r\nf');
    expect(ring.snapshot()).toEqual(['d', 'e', 'f']);
  });
});
