import * as hdr from 'hdr-histogram-js';

export interface Percentiles {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/**
 * An HDR histogram of non-negative values (milliseconds here), 3 significant digits, up to one hour.
 * Pure JS (no WebAssembly), so results are the same everywhere.
 */
export class Histogram {
  private readonly h = hdr.build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });

  record(value: number): void {
    this.h.recordValue(Math.max(0, Math.round(value)));
  }

  get count(): number {
    return this.h.totalCount;
  }

  percentiles(): Percentiles {
    if (this.h.totalCount === 0) return { count: 0, min: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
    return {
      count: this.h.totalCount,
      min:
        this.h.minNonZeroValue === Number.MAX_SAFE_INTEGER
          ? 0
          : Math.min(this.h.minNonZeroValue, this.h.getValueAtPercentile(0)),
      p50: this.h.getValueAtPercentile(50),
      p90: this.h.getValueAtPercentile(90),
      p99: this.h.getValueAtPercentile(99),
      p999: this.h.getValueAtPercentile(99.9),
      max: this.h.maxValue,
      mean: Math.round(this.h.mean * 100) / 100,
    };
  }
}
