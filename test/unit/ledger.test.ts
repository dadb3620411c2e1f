import { describe, expect, it } from 'vitest';
import { Ledger, mergeRanges, rangesSize, seqsOf, toRanges } from '../../src/load/ledger.js';

describe('Ledger', () => {
  const ledger = new Ledger({ traces: 5, metrics: 1, logs: 1 });
  ledger.record('traces', { first: 0, count: 10, outcome: 'acknowledged', answer: '200', atMs: 1 });
  ledger.record('traces', { first: 20, count: 10, outcome: 'acknowledged', answer: '200', atMs: 3 });
  ledger.record('traces', { first: 10, count: 10, outcome: 'refused', answer: '503', atMs: 2 });
  ledger.record('traces', { first: 30, count: 4, outcome: 'dropped', atMs: 4 });
  ledger.record('traces', { first: 34, count: 1, outcome: 'failed', answer: 'ECONNREFUSED', atMs: 5 });

  it('sums up the retry delays refusals asked for, and says nothing when none did', () => {
    const l = new Ledger({ traces: 5, metrics: 1, logs: 1 });
    l.record('logs', { first: 0, count: 5, outcome: 'refused', answer: 'UNAVAILABLE', atMs: 1, retryAfterMs: 1_000 });
    l.record('logs', { first: 5, count: 5, outcome: 'refused', answer: 'UNAVAILABLE', atMs: 2, retryAfterMs: 250 });
    l.record('logs', { first: 10, count: 5, outcome: 'refused', answer: 'UNAVAILABLE', atMs: 3 });
    expect(l.retryAfter('logs')).toEqual({ batches: 2, minMs: 250, maxMs: 1_000 });
    expect(ledger.retryAfter('traces')).toBeUndefined();
  });

  it('counts items per outcome (spans = traces × spans per trace)', () => {
    expect(ledger.counts('traces')).toEqual({
      acknowledged: 100,
      refused: 50,
      failed: 5,
      dropped: 20,
      attempted: 155,
      offered: 175,
      rejected: 0,
    });
    expect(ledger.counts('logs')).toEqual({
      acknowledged: 0,
      refused: 0,
      failed: 0,
      dropped: 0,
      attempted: 0,
      offered: 0,
      rejected: 0,
    });
    expect(ledger.answerCounts('traces')).toEqual({ '200': 100, '503': 50, ECONNREFUSED: 5 });
    expect(ledger.signals()).toEqual(['traces']);
  });

  it('keeps sequence ranges per outcome, merged and sorted', () => {
    expect(ledger.ranges('traces', 'acknowledged')).toEqual([
      { first: 0, count: 10 },
      { first: 20, count: 10 },
    ]);
    expect(ledger.ranges('traces', 'refused')).toEqual([{ first: 10, count: 10 }]);
  });
});

describe('ranges', () => {
  it('merges, sizes, iterates and compresses', () => {
    const merged = mergeRanges([
      { first: 0, count: 3 },
      { first: 3, count: 2 },
      { first: 4, count: 4 },
      { first: 10, count: 1 },
    ]);
    expect(merged).toEqual([
      { first: 0, count: 8 },
      { first: 10, count: 1 },
    ]);
    expect(rangesSize(merged)).toBe(9);
    expect([...seqsOf([{ first: 5, count: 3 }])]).toEqual([5, 6, 7]);
    expect(toRanges([1, 2, 3, 7, 9, 10])).toEqual([
      { first: 1, count: 3 },
      { first: 7, count: 1 },
      { first: 9, count: 2 },
    ]);
  });
});
