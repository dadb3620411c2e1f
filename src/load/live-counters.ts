import type { Outcome, Signal } from './ledger.js';

/** Running totals in items, read by the progress display while the load runs. */
export class LiveCounters {
  readonly bySignal = new Map<Signal, Record<Outcome, number> & { bytes: number }>();

  add(signal: Signal, outcome: Outcome, items: number, bytes = 0): void {
    let c = this.bySignal.get(signal);
    if (c === undefined)
      this.bySignal.set(signal, (c = { acknowledged: 0, refused: 0, failed: 0, dropped: 0, bytes: 0 }));
    c[outcome] += items;
    c.bytes += bytes;
  }

  total(outcome: Outcome): number {
    let n = 0;
    for (const c of this.bySignal.values()) n += c[outcome];
    return n;
  }
}
