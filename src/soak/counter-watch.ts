import type { Signal } from '../load/ledger.js';
import { BACKEND_COUNTERS, deltas, readCounters, type CounterSpec } from '../observe/backend-counters.js';
import { collectorMetricNames } from '../observe/collector-metrics.js';
import { scrape, sumOf, type Sample } from '../observe/prometheus-text.js';
import type { StackEndpoints } from '../stack/stack.js';
import type { SignalBackend } from '../verify/backends/backend.js';

interface Reading {
  counters: Record<string, number>;
  /** Items the component's exporters counted as sent, per signal (collectors). */
  sent: Partial<Record<Signal, number>>;
  /** Items the component received, per signal (backends with an ingest counter). */
  received: Partial<Record<Signal, number>>;
  /** Bytes the component received, per signal; absent when its byte counter is not exposed. */
  bytes: Partial<Record<Signal, number>>;
  /** The instances (pods) whose samples the reading holds, sorted, comma-joined; '' for one process. */
  instances?: string;
}

interface Component {
  name: string;
  url: string;
  specs: readonly CounterSpec[];
  read(samples: Sample[]): Reading;
}

/**
 * Reads every component's silent-drop and ingest counters before and after a step: backends by their
 * modules' counter lists, collectors by theirs, plus what the last collectors sent and the backends
 * received (for data delivered more than once).
 */
export class CounterWatch {
  private readonly components: Component[] = [];
  private readonly exporting: string[] = [];
  private readonly receiving = new Map<Signal, { component: string; describe: string }>();
  private readonly receivingBytes = new Map<Signal, { component: string; describe: string }>();
  private start = new Map<string, Reading>();
  private end = new Map<string, Reading>();
  private churn: string | undefined;

  constructor(endpoints: StackEndpoints, backends: readonly SignalBackend[]) {
    for (const c of endpoints.collectors) {
      if (c.metricsUrl === undefined) continue;
      if (c.exportsToBackends) this.exporting.push(c.name);
      this.components.push({
        name: c.name,
        url: c.metricsUrl,
        specs: BACKEND_COUNTERS.otelcol!,
        read: (samples) => ({
          counters: readCounters(samples, BACKEND_COUNTERS.otelcol!),
          sent: Object.fromEntries(
            (['traces', 'metrics', 'logs'] as const).map((s) => [
              s,
              sumOf(samples, collectorMetricNames(s).exporterSent),
            ]),
          ),
          received: {},
          bytes: {},
          // A collector role of several instances (Phase 3's pods) labels each sample with its pod.
          instances: [...new Set(samples.flatMap((s) => (s.labels.k8s_pod === undefined ? [] : [s.labels.k8s_pod])))]
            .sort()
            .join(','),
        }),
      });
    }
    for (const b of backends) {
      if (b.endpoint.metrics === undefined) continue;
      const received = b.received;
      if (received !== undefined) this.receiving.set(b.signal, { component: b.name, describe: received.describe });
      const bytes = b.receivedBytes;
      if (bytes !== undefined) this.receivingBytes.set(b.signal, { component: b.name, describe: bytes.describe });
      this.components.push({
        name: b.name,
        url: b.endpoint.metrics,
        specs: b.counters,
        read: (samples) => ({
          counters: readCounters(samples, b.counters),
          sent: {},
          received: received === undefined ? {} : { [b.signal]: sumOf(samples, received.name, received.where) },
          // A labelled counter appears with the first push: absent before the step it counts from 0, absent
          // after it there is no figure.
          bytes:
            bytes === undefined || !samples.some((s) => bytes.name.test(s.name))
              ? {}
              : { [b.signal]: sumOf(samples, bytes.name, bytes.where) },
        }),
      });
    }
  }

  private async readAll(): Promise<Map<string, Reading>> {
    const out = new Map<string, Reading>();
    await Promise.all(
      this.components.map(async (c) => {
        try {
          out.set(c.name, c.read(await scrape(c.url)));
        } catch {
          // unreachable: its counters are undefined in the report
        }
      }),
    );
    return out;
  }

  async before(): Promise<void> {
    this.start = await this.readAll();
  }

  /** Deltas per component; `undefined` for a component that could not be read twice. */
  async deltas(): Promise<Record<string, Record<string, number> | undefined>> {
    this.end = await this.readAll();
    return Object.fromEntries(
      this.components.map((c) => {
        const a = this.start.get(c.name);
        const b = this.end.get(c.name);
        return [c.name, a === undefined || b === undefined ? undefined : deltas(a.counters, b.counters)];
      }),
    );
  }

  private delta(component: string, pick: (r: Reading) => number | undefined): number | undefined {
    const a = this.start.get(component);
    const b = this.end.get(component);
    if (a === undefined || b === undefined) return undefined;
    const x = pick(a);
    const y = pick(b);
    if (x === undefined || y === undefined) return undefined;
    return y >= x ? y - x : y;
  }

  /**
   * Why the exporting collectors' sent counters are no census of the step: instances (pods) that came or
   * went between the readings took their counters with them. Undefined when they are one.
   */
  sentUnobservable(): string | undefined {
    if (this.churn !== undefined) return this.churn;
    for (const name of this.exporting) {
      const a = this.start.get(name)?.instances;
      const b = this.end.get(name)?.instances;
      if (a !== undefined && b !== undefined && a !== b)
        return `the instances of ${name} changed during the run (${a.split(',').length} at the start, ${b.split(',').length} at the end; a removed pod's counters go with it)`;
    }
    return undefined;
  }

  /**
   * Instances came and went between the readings even if the same ones are there at both (an HPA scaled
   * up and back down): the sent counters are no census either.
   */
  markChurn(reason: string): void {
    this.churn = reason;
  }

  /** What the collectors that export to the backends counted as sent of `signal` during the step. */
  sentTo(signal: Signal): { value: number; describe: string } | undefined {
    if (this.exporting.length === 0 || this.sentUnobservable() !== undefined) return undefined;
    let sum = 0;
    for (const name of this.exporting) {
      const d = this.delta(name, (r) => r.sent[signal]);
      if (d === undefined) return undefined;
      sum += d;
    }
    return { value: sum, describe: `the exporters of ${this.exporting.join(', ')} counted as sent` };
  }

  /** Uncompressed bytes the backend of `signal` says it received during the step (canaries included). */
  bytesReceivedBy(signal: Signal): { backend: string; bytes: number; describe: string } | undefined {
    const r = this.receivingBytes.get(signal);
    if (r === undefined) return undefined;
    const a = this.start.get(r.component);
    const b = this.end.get(r.component)?.bytes[signal];
    if (a === undefined || b === undefined) return undefined;
    const x = a.bytes[signal] ?? 0;
    return { backend: r.component, bytes: b >= x ? b - x : b, describe: r.describe };
  }

  /** What the backend of `signal` says it received during the step. */
  receivedBy(signal: Signal): { value: number; describe: string } | undefined {
    const r = this.receiving.get(signal);
    if (r === undefined) return undefined;
    const d = this.delta(r.component, (x) => x.received[signal]);
    return d === undefined ? undefined : { value: d, describe: r.describe };
  }
}
