import type { Signal } from '../load/ledger.js';
import { SIGNALS } from '../load/ledger.js';
import { BACKEND_COUNTERS, readCounters, type CounterSpec } from '../observe/backend-counters.js';
import { collectorPipelineOf, exportersFeeding, type CollectorPipeline } from '../stack/collector-pipeline.js';
import { CounterSegments } from '../observe/counter-segments.js';
import { scrape, sumOf, type Sample } from '../observe/prometheus-text.js';
import type { CollectorRole, StackEndpoints } from '../stack/stack.js';
import type { IngestCounter, SignalBackend } from '../verify/backends/backend.js';
import type { PipelineCounters } from '../verify/loss-evidence.js';

export type { PipelineCounters } from '../verify/loss-evidence.js';

const ITEM: Record<Signal, string> = { traces: 'spans', metrics: 'metric_points', logs: 'log_records' };

interface Component {
  name: string;
  url: string;
  /** Counter keys read for the report (silent drops, ingest). */
  specs: readonly CounterSpec[];
  read(samples: Sample[], atMs: number): { values: Record<string, number>; uptimeS?: number; instances: string };
  segments: CounterSegments;
  /** The reading under way (readings of one component run one after another). */
  reading: Promise<void>;
  /** Instances (pods) at the first and the latest reading. */
  instances: { first?: string; last?: string };
  collector?: { role: CollectorRole; pipeline: CollectorPipeline | undefined };
  backend?: SignalBackend;
}

const key = (...parts: string[]) => parts.join('|');

const PROCESSOR_IN = /^otelcol_processor_incoming_items(_total)?$/;
const PROCESSOR_OUT = /^otelcol_processor_outgoing_items(_total)?$/;

function sumLabelled(samples: readonly Sample[], name: RegExp, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples)
    if (name.test(s.name)) out[s.labels[label] ?? '?'] = (out[s.labels[label] ?? '?'] ?? 0) + s.value;
  return out;
}

function sumCounter(samples: readonly Sample[], c: IngestCounter): number {
  return sumOf(samples, c.name, c.where);
}

/**
 * Reads every component's silent-drop, ingest and export counters before, during (every few seconds and
 * before each fault) and after a step, so that a process that restarted in between is seen and its
 * counters are joined across the restart instead of read from 0. Answers what the exporters feeding each
 * backend sent and gave up, what the backends received and stored, and how much the pipeline can still hold.
 */
export class CounterWatch {
  private readonly components: Component[] = [];
  private churn: string | undefined;

  constructor(endpoints: StackEndpoints, backends: readonly SignalBackend[]) {
    for (const c of endpoints.collectors) {
      if (c.metricsUrl === undefined) continue;
      this.components.push({
        name: c.name,
        url: c.metricsUrl,
        specs: BACKEND_COUNTERS.otelcol!,
        segments: new CounterSegments(),
        reading: Promise.resolve(),
        instances: {},
        collector: { role: c, pipeline: collectorPipelineOf(c.config) },
        read: (samples) => {
          const values = readCounters(samples, BACKEND_COUNTERS.otelcol!);
          for (const s of SIGNALS) {
            const item = ITEM[s];
            const n = (m: string) => new RegExp(`^otelcol_${m}_${item}(_total)?$`);
            for (const [r, v] of Object.entries(sumLabelled(samples, n('receiver_accepted'), 'receiver')))
              values[key('accepted', s, r)] = v;
            // Refused (downstream said no) or failed (the receiver's own error): either way not taken in.
            for (const m of ['receiver_refused', 'receiver_failed'])
              for (const [r, v] of Object.entries(sumLabelled(samples, n(m), 'receiver')))
                values[key('refused', s, r)] = (values[key('refused', s, r)] ?? 0) + v;
            for (const [e, v] of Object.entries(sumLabelled(samples, n('exporter_sent'), 'exporter')))
              values[key('sent', s, e)] = v;
            for (const [e, v] of Object.entries(sumLabelled(samples, n('exporter_send_failed'), 'exporter')))
              values[key('failed', s, e)] = v;
            for (const [e, v] of Object.entries(sumLabelled(samples, n('exporter_enqueue_failed'), 'exporter')))
              values[key('failed', s, e)] = (values[key('failed', s, e)] ?? 0) + v;
            // Items into and out of each processor (collector 0.110+): what one drops is their difference.
            const ofSignal = samples.filter((x) => x.labels.otel_signal === s);
            for (const [p, v] of Object.entries(sumLabelled(ofSignal, PROCESSOR_IN, 'processor')))
              values[key('in', s, p)] = v;
            for (const [p, v] of Object.entries(sumLabelled(ofSignal, PROCESSOR_OUT, 'processor')))
              values[key('out', s, p)] = v;
          }
          const uptime = samples.filter((x) => /^otelcol_process_uptime(_seconds)?(_total)?$/.test(x.name));
          const pods = [...new Set(samples.flatMap((x) => (x.labels.k8s_pod === undefined ? [] : [x.labels.k8s_pod])))];
          return {
            values,
            // Several pods have one uptime each: restarts are then seen from the counters alone.
            ...(uptime.length === 1 ? { uptimeS: uptime[0]!.value } : {}),
            instances: pods.sort().join(','),
          };
        },
      });
    }
    for (const c of endpoints.counted ?? []) {
      this.components.push({
        name: c.name,
        url: c.metricsUrl,
        specs: c.specs,
        segments: new CounterSegments(),
        reading: Promise.resolve(),
        instances: {},
        read: (samples, atMs) => {
          const start = samples.find((x) => x.name === 'process_start_time_seconds')?.value;
          return {
            values: readCounters(samples, c.specs),
            ...(start === undefined ? {} : { uptimeS: atMs / 1000 - start }),
            instances: '',
          };
        },
      });
    }
    for (const b of backends) {
      if (b.endpoint.metrics === undefined) continue;
      this.components.push({
        name: b.name,
        url: b.endpoint.metrics,
        specs: b.counters,
        segments: new CounterSegments(),
        reading: Promise.resolve(),
        instances: {},
        backend: b,
        read: (samples, atMs) => {
          const values = readCounters(samples, b.counters);
          if (b.received !== undefined) values[key('received', b.signal)] = sumCounter(samples, b.received);
          for (const c of b.receivedNotStored ?? [])
            values[key('notStored', b.signal)] = (values[key('notStored', b.signal)] ?? 0) + sumCounter(samples, c);
          for (const c of b.receivedUnreliableWhen ?? [])
            values[key('unreliable', b.signal)] = (values[key('unreliable', b.signal)] ?? 0) + sumCounter(samples, c);
          // A labelled counter appears with the first push: absent, it has counted nothing yet.
          if (b.receivedBytes !== undefined) values[key('bytes', b.signal)] = sumCounter(samples, b.receivedBytes);
          const start = samples.find((x) => x.name === 'process_start_time_seconds')?.value;
          const uptime = samples.find((x) => /^otelcol_process_uptime(_seconds)?(_total)?$/.test(x.name))?.value;
          return {
            values,
            ...(uptime !== undefined
              ? { uptimeS: uptime }
              : start !== undefined
                ? { uptimeS: atMs / 1000 - start }
                : {}),
            instances: '',
          };
        },
      });
    }
  }

  /** Reads the components; readings of one component never overlap, so they are added in order. */
  private async readAll(which: 'all' | 'collectors' = 'all'): Promise<void> {
    await Promise.all(
      this.components
        .filter((c) => which === 'all' || c.collector !== undefined)
        .map((c) => {
          c.reading = c.reading.then(async () => {
            try {
              const samples = await scrape(c.url);
              const atMs = Date.now();
              const r = c.read(samples, atMs);
              c.segments.add({ atMs, values: r.values, uptimeS: r.uptimeS });
              c.instances.first ??= r.instances;
              c.instances.last = r.instances;
            } catch {
              // unreachable now (stopped by a fault, or gone): the next reading joins the segments
            }
          });
          return c.reading;
        }),
    );
  }

  async before(): Promise<void> {
    await this.readAll();
  }

  /**
   * A reading between the first and the last: of every component just before a fault stops a process, of
   * the collectors alone periodically (a backend that restarts unannounced is still seen from its uptime at
   * the last reading; its /metrics are large, and reading them often would cost the machine the load runs on).
   */
  async sample(which: 'all' | 'collectors' = 'all'): Promise<void> {
    await this.readAll(which);
  }

  /** The last reading, then the report's counters per component; `undefined` for one that could not be read twice. */
  async deltas(): Promise<Record<string, Record<string, number> | undefined>> {
    await this.readAll();
    return Object.fromEntries(
      this.components.map((c) => {
        const d = c.segments.deltas();
        if (d === undefined) return [c.name, undefined];
        return [c.name, Object.fromEntries(Object.entries(d).filter(([k]) => !k.includes('|')))];
      }),
    );
  }

  /** Components whose process restarted between readings, with how many times and the widest gap. */
  restarts(): { component: string; restarts: number; gapMs: number }[] {
    return this.components
      .filter((c) => c.segments.restarts > 0)
      .map((c) => ({ component: c.name, restarts: c.segments.restarts, gapMs: Math.max(...c.segments.gapsMs) }));
  }

  /**
   * Pods came and went between the readings even if the same ones are there at both (an HPA scaled up and
   * back down): the collectors' counters are no census.
   */
  markChurn(reason: string): void {
    this.churn = reason;
  }

  private exporting(): Component[] {
    return this.components.filter((c) => c.collector?.role.exportsToBackends === true);
  }

  /** Why the collectors' counters are no census of the step (pods came and went), or undefined. */
  sentUnobservable(): string | undefined {
    if (this.churn !== undefined) return this.churn;
    for (const c of this.components.filter((x) => x.collector !== undefined)) {
      const a = c.instances.first;
      const b = c.instances.last;
      if (a !== undefined && b !== undefined && a !== b)
        return `the instances of ${c.name} changed during the run (${a.split(',').length} at the start, ${b.split(',').length} at the end; a removed pod's counters go with it)`;
    }
    return undefined;
  }

  /** The exporters of each exporting collector that feed the backend of `signal`; a reason when it cannot tell. */
  private feeding(
    signal: Signal,
    backend: SignalBackend | undefined,
  ): { component: Component; exporters: string[] }[] | string {
    const exporting = this.exporting();
    if (exporting.length === 0) return 'no collector that exports to the backends exposes its metrics';
    const out: { component: Component; exporters: string[] }[] = [];
    for (const c of exporting) {
      const pipeline = c.collector!.pipeline;
      const seen = Object.keys(c.segments.latest?.values ?? {})
        .filter((k) => k.startsWith(`sent|${signal}|`) || k.startsWith(`failed|${signal}|`))
        .map((k) => k.split('|')[2]!);
      if (pipeline === undefined) {
        const distinct = [...new Set(seen)];
        if (distinct.length > 1)
          return `${c.name} counts ${signal} sent by ${distinct.join(', ')}, and without its configuration the harness cannot tell which feeds ${backend?.name ?? 'the backend'}`;
        out.push({ component: c, exporters: distinct });
        continue;
      }
      const hosts = backend === undefined ? [] : [hostOf(backend.endpoint.query)];
      const feeding = exportersFeeding(pipeline, signal, { name: backend?.name ?? '', hosts });
      if (feeding === undefined)
        return `${c.name} has several ${signal} exporters (${pipeline.exporters
          .filter((e) => e.signals.includes(signal) && !e.sink)
          .map((e) => e.name)
          .join(', ')}) and none names ${backend?.name ?? 'the backend'} in its endpoint`;
      out.push({ component: c, exporters: feeding.map((e) => e.name) });
    }
    return out;
  }

  /** What the exporters feeding the backend of `signal` sent during the step, restarts joined. */
  sentTo(
    signal: Signal,
    backend?: SignalBackend,
  ): { value: number; describe: string; restarts: number; gapMs: number } | undefined {
    if (this.sentUnobservable() !== undefined) return undefined;
    const feeding = this.feeding(signal, backend);
    if (typeof feeding === 'string') return undefined;
    let sum = 0;
    let restarts = 0;
    let gapMs = 0;
    for (const f of feeding) {
      for (const e of f.exporters) {
        const d = f.component.segments.delta(key('sent', signal, e));
        if (d === undefined) return undefined;
        sum += d;
      }
      restarts += f.component.segments.restarts;
      gapMs = Math.max(gapMs, ...f.component.segments.gapsMs, 0);
    }
    const names = feeding.flatMap((f) => f.exporters.map((e) => `${f.component.name} ${e}`));
    return { value: sum, describe: `sent by ${names.join(', ')}`, restarts, gapMs };
  }

  /** Why `sentTo` is undefined. */
  sentMissing(signal: Signal, backend?: SignalBackend): string | undefined {
    const churn = this.sentUnobservable();
    if (churn !== undefined) return churn;
    const feeding = this.feeding(signal, backend);
    return typeof feeding === 'string' ? feeding : undefined;
  }

  /**
   * What the collectors' own counters say of `signal`: items the exporters feeding the backend gave up, and
   * at most how many items the pipeline still held at the last reading — what its entry receivers accepted
   * less what left it (sent to the backend, given up anywhere). Other traffic only raises that bound, so it
   * holds for the run's items; a restart or pods that came and went leave it unknown (the counters of a
   * stopped process are not all seen).
   */
  pipeline(signal: Signal, backend?: SignalBackend): PipelineCounters | undefined {
    const feeding = this.feeding(signal, backend);
    if (typeof feeding === 'string') return undefined;
    const exporters: PipelineCounters['exporters'] = [];
    let givenUp = 0;
    for (const f of feeding) {
      for (const e of f.exporters) {
        const sent = f.component.segments.delta(key('sent', signal, e));
        const failed = f.component.segments.delta(key('failed', signal, e));
        if (sent === undefined || failed === undefined) return undefined;
        exporters.push({ collector: f.component.name, exporter: e, sent, givenUp: failed });
        givenUp += failed;
      }
    }
    const collectors = this.components.filter((c) => c.collector !== undefined);
    let pendingUnknown: string | undefined = this.sentUnobservable();
    const restarted = collectors.find((c) => c.segments.restarts > 0);
    if (restarted !== undefined)
      pendingUnknown = `${restarted.name} restarted during the run (what it took in just before it stopped is not counted)`;
    let pending = 0;
    for (const c of collectors) {
      const d = c.segments.deltas();
      if (d === undefined) {
        pendingUnknown ??= `${c.name}'s counters could not be read twice`;
        break;
      }
      const pipeline = c.collector!.pipeline;
      // Items in: every receiver but a Kafka one (those were counted in when a gateway took them).
      for (const [k, v] of Object.entries(d)) {
        const [kind, s, component] = k.split('|');
        if (kind === 'accepted' && s === signal && !component!.startsWith('kafka')) pending += v;
      }
      const out = (kind: string, e: string) => d[key(kind, signal, e)] ?? 0;
      const nonSink = (pipeline?.exporters ?? [])
        .filter((e) => e.signals.includes(signal) && !e.sink)
        .map((e) => e.name);
      const names =
        nonSink.length > 0
          ? nonSink
          : [
              ...new Set(
                Object.keys(d)
                  .filter((k) => k.startsWith(`sent|${signal}|`))
                  .map((k) => k.split('|')[2]!),
              ),
            ];
      if (names.length === 0) continue;
      if (c.collector!.role.exportsToBackends) {
        // Out of the pipeline: the least any of its exporters passed on or gave up (fan-out copies each item).
        pending -= Math.min(...names.map((e) => out('sent', e) + out('failed', e)));
      } else {
        // A hop in between (gateways): what it gave up left the pipeline; what it sent stays in it (Kafka).
        pending -= Math.min(...names.map((e) => out('failed', e)));
      }
    }
    return {
      givenUp,
      pendingAtMost: pendingUnknown === undefined ? Math.max(0, pending) : undefined,
      pendingUnknown,
      exporters,
      processorDrops: this.processorDrops(signal),
      scrapeRefusals: this.scrapeRefusals(signal),
    };
  }

  /**
   * Items of `signal` a collector's scraping receivers (prometheus) took from a target and its pipeline refused
   * (memory_limiter, a full queue): nobody sends a scrape again, so they are gone. Pushing receivers' refusals
   * are answered to their sender and retried there.
   */
  private scrapeRefusals(signal: Signal): PipelineCounters['scrapeRefusals'] {
    const out: PipelineCounters['scrapeRefusals'] = [];
    for (const c of this.components.filter((x) => x.collector !== undefined)) {
      const d = c.segments.deltas();
      if (d === undefined) continue;
      for (const [k, v] of Object.entries(d)) {
        const [kind, s, receiver] = k.split('|');
        if (kind === 'refused' && s === signal && receiver !== undefined && SCRAPER.test(receiver) && v > 0)
          out.push({ collector: c.name, receiver, items: v });
      }
    }
    return out;
  }

  /**
   * Items of `signal` each collector's processors took in and did not pass on over the step (their
   * incoming − outgoing items; all traffic, canaries included), where that is more than 0.
   */
  private processorDrops(signal: Signal): PipelineCounters['processorDrops'] {
    const out: PipelineCounters['processorDrops'] = [];
    for (const c of this.components.filter((x) => x.collector !== undefined)) {
      const d = c.segments.deltas();
      if (d === undefined) continue;
      for (const k of Object.keys(d)) {
        const [kind, s, processor] = k.split('|');
        if (kind !== 'in' || s !== signal || processor === undefined) continue;
        const dropped = d[k]! - (d[key('out', signal, processor)] ?? 0);
        if (dropped > 0) out.push({ collector: c.name, processor, items: dropped });
      }
    }
    return out;
  }

  /**
   * Items of `signal` read again from Kafka: what the collectors reading it (kafka receivers) accepted beyond
   * what the collectors writing it (kafka exporters) sent, over the step, restarts joined. Undefined where no
   * collector reads Kafka, or a counter could not be read.
   */
  redeliveredBy(signal: Signal): { value: number; note: string } | undefined {
    if (this.sentUnobservable() !== undefined) return undefined;
    let produced = 0;
    let consumed = 0;
    let readers = 0;
    for (const c of this.components.filter((x) => x.collector !== undefined)) {
      const d = c.segments.deltas();
      if (d === undefined) return undefined;
      for (const [k, v] of Object.entries(d)) {
        const [kind, s, component] = k.split('|');
        if (s !== signal || component === undefined || !component.startsWith('kafka')) continue;
        if (kind === 'sent') produced += v;
        if (kind === 'accepted') {
          consumed += v;
          readers++;
        }
      }
    }
    if (readers === 0) return undefined;
    const restarts = this.restarts().filter((r) => this.components.some((c) => c.name === r.component && c.collector));
    return {
      value: Math.max(0, consumed - produced),
      note: `the collectors reading Kafka accepted ${consumed}, the ones writing it sent ${produced}${restarts.length > 0 ? `; counters joined across ${restarts.reduce((n, r) => n + r.restarts, 0)} restart(s), each read just before it when a fault caused it` : ''}`,
    };
  }

  /** Uncompressed bytes the backend of `signal` says it received during the step (canaries included). */
  bytesReceivedBy(signal: Signal): { backend: string; bytes: number; describe: string } | undefined {
    const c = this.components.find((x) => x.backend?.signal === signal && x.backend.receivedBytes !== undefined);
    if (c === undefined) return undefined;
    const d = c.segments.delta(key('bytes', signal));
    return d === undefined ? undefined : { backend: c.name, bytes: d, describe: c.backend!.receivedBytes!.describe };
  }

  /**
   * What the backend of `signal` received and kept over the step: its ingest counter less its own counts
   * of what it discarded. `unreliable` says why the difference is no count of what it stored.
   */
  receivedBy(signal: Signal): { value: number; describe: string; restarts: number; unreliable?: string } | undefined {
    const c = this.components.find((x) => x.backend?.signal === signal && x.backend.received !== undefined);
    if (c === undefined) return undefined;
    const b = c.backend!;
    const received = c.segments.delta(key('received', signal));
    if (received === undefined) return undefined;
    const notStored = c.segments.delta(key('notStored', signal)) ?? 0;
    const unreliable = c.segments.delta(key('unreliable', signal)) ?? 0;
    const describe = `${b.received!.describe}${notStored > 0 ? ` less ${notStored} it counted as discarded` : ''}`;
    return {
      value: received - notStored,
      describe,
      restarts: c.segments.restarts,
      ...(unreliable > 0
        ? {
            unreliable: `${b.name} ${(b.receivedUnreliableWhen ?? []).map((x) => x.describe).join(' / ')}: ${unreliable} — its ${b.received!.describe} include items it did not store`,
          }
        : {}),
    };
  }
}

/** Receivers that scrape (pull) rather than take pushes: their refusals are retried by no one. */
const SCRAPER = /^prometheus(\/|$)/;

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}
