/** One reading of a process's counters: values by key, and how long the process had been up, if known. */
export interface CounterReading {
  atMs: number;
  values: Record<string, number>;
  /** The process's uptime at the reading (s); a smaller uptime than time passed means it restarted. */
  uptimeS?: number | undefined;
}

/**
 * A process's counters across restarts: readings taken before, during and after a step are joined into
 * segments — when the process restarts (its uptime went back, or a counter went down) its counters start
 * again from 0, and what it counted up to its last reading before the restart is kept. What it counted
 * between that reading and its stop is not seen: `gapAtRestarts` says so. Pure apart from the readings given.
 */
export class CounterSegments {
  private first: CounterReading | undefined;
  private last: CounterReading | undefined;
  private readonly closed: Record<string, number> = {};
  private segmentStart: Record<string, number> = {};
  /** Restarts seen between readings. */
  restarts = 0;
  /** For each restart, ms between the last reading before it and the first after it. */
  readonly gapsMs: number[] = [];

  add(reading: CounterReading): void {
    if (this.first === undefined || this.last === undefined) {
      this.first = reading;
      this.last = reading;
      this.segmentStart = { ...reading.values };
      return;
    }
    const prev = this.last;
    const passedS = (reading.atMs - prev.atMs) / 1000;
    const uptimeBack =
      reading.uptimeS !== undefined && prev.uptimeS !== undefined && reading.uptimeS + 1 < prev.uptimeS + passedS - 1;
    const counterBack = Object.entries(prev.values).some(([k, v]) => (reading.values[k] ?? 0) < v);
    if (uptimeBack || counterBack) {
      this.restarts++;
      this.gapsMs.push(reading.atMs - prev.atMs);
      for (const [k, v] of Object.entries(prev.values)) {
        this.closed[k] = (this.closed[k] ?? 0) + v - (this.segmentStart[k] ?? 0);
      }
      this.segmentStart = {};
    }
    this.last = reading;
  }

  /** Readings joined: at least two. */
  get complete(): boolean {
    return this.first !== undefined && this.last !== undefined && this.first !== this.last;
  }

  /** What `key` counted from the first reading to the last, restarts joined; undefined before two readings. */
  delta(key: string): number | undefined {
    if (!this.complete) return undefined;
    const end = this.last!.values[key] ?? 0;
    return (this.closed[key] ?? 0) + end - (this.segmentStart[key] ?? 0);
  }

  /** Every key's delta. */
  deltas(): Record<string, number> | undefined {
    if (!this.complete) return undefined;
    const keys = new Set([
      ...Object.keys(this.first!.values),
      ...Object.keys(this.last!.values),
      ...Object.keys(this.closed),
    ]);
    return Object.fromEntries([...keys].map((k) => [k, this.delta(k)!]));
  }

  /** The latest reading. */
  get latest(): CounterReading | undefined {
    return this.last;
  }

  get earliest(): CounterReading | undefined {
    return this.first;
  }
}
