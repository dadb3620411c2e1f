import type { Signal } from '../load/ledger.js';
import { classifyExportError, type ExportFailure, type FailureCause } from '../observe/export-failures.js';
import { count as n } from '../format.js';

/** What the pipeline's own counters say of one signal over a step (restarts joined). */
export interface PipelineCounters {
  /** Items the exporters feeding the backend gave up (send_failed + enqueue_failed), canaries and other traffic included. */
  givenUp: number;
  /** At most how many items the pipeline still held at the last reading (undefined when the counters cannot say). */
  pendingAtMost: number | undefined;
  /** Why `pendingAtMost` is undefined. */
  pendingUnknown: string | undefined;
  /** Per feeding exporter: sent, given up. */
  exporters: { collector: string; exporter: string; sent: number; givenUp: number }[];
  /** Items a processor took in and did not pass on (incoming − outgoing), per collector and processor. */
  processorDrops?: { collector: string; processor: string; items: number }[];
  /** Items a scraping receiver (prometheus) took from a target and its pipeline refused, per collector. */
  scrapeRefusals?: { collector: string; receiver: string; items: number }[];
}

/**
 * Processors whose missing items are no loss: samplers drop by design, and memory_limiter's refusals are
 * answered to the sender (counted apart as refusals).
 */
const NOT_A_CAUSE = /^(tail_sampling|probabilistic_sampler|memory_limiter)(\/|$)/;

/** An exporter as its collector's effective configuration sets it up (the parts a fix names). */
export interface ExporterSetup {
  name: string;
  retry: { enabled: boolean; maxElapsedMs: number };
  queue: { enabled: boolean; size: number; sizer: string; persistent: boolean };
  maxItemsPerRequest: Partial<Record<Signal, number>>;
  batchSize: Partial<Record<Signal, number>>;
}

/** Where items were lost or held, and why, in words. */
export interface LossCause {
  /** e.g. `otelcol → loki`, or `loki` for the backend's own discards. */
  hop: string;
  /** e.g. `102,407 log records given up: requests of 5.28 MB exceed a 4 MiB gRPC message limit`. */
  reason: string;
  /** What fixes it, when the reason is a known configuration limit. */
  fix?: string;
  /** Whether retrying could get the items through (a rate limit) or not (a message over a size limit). */
  retryable: boolean;
}

/**
 * Everything the run holds on one signal's absent items besides the backend's answer: what the collectors
 * gave up, at most how much they still held, what is queued behind an error no retry fixes, and why.
 */
export interface LossEvidence {
  /** Acknowledged items absent from the backend when it was verified (declared rejections included). */
  absent: number;
  /** The collectors' own count of items given up on the way to this backend (all traffic), null when not read. */
  givenUp: number | null;
  /** At most how many items were still in the pipeline when the drain ended (null: nothing bounds it). */
  pendingAtMost: number | null;
  /** How `pendingAtMost` was bounded, or why it could not be. */
  pendingHow: string;
  /** `absent − pendingAtMost`: acknowledged items that can no longer arrive. */
  lostAtLeast: number | null;
  /** Absent items queued behind an error no retry fixes (they will not arrive unless the stack changes). */
  doomed: number;
  /** `lost` is only bounded from below: the drain ended with items still queued. */
  lowerBound: boolean;
  causes: LossCause[];
}

/** The `backend` a forwarding collector's exporter sends to (a node agent's, a gateway's): another collector. */
const NEXT_COLLECTOR = 'the next collector';

/** Where a collector's exporter sends: the backend, or for a forwarding collector Kafka or the next collector. */
function nextHop(
  forwarders: ReadonlySet<string> | undefined,
  collector: string,
  exporter: string,
  backend: string,
): string {
  if (forwarders?.has(collector) !== true) return backend;
  return /^kafka(\/|$)/.test(exporter) ? 'kafka' : NEXT_COLLECTOR;
}

const NOUN: Record<Signal, string> = { traces: 'spans', metrics: 'samples', logs: 'log records' };

/** Counters of a backend that say it discarded items (names with discard, drop, refuse or fail), when they moved. */
export function backendDiscards(counters: Record<string, number> | undefined): [string, number][] {
  const all = Object.entries(counters ?? {});
  // A counter read by label is listed by label, not again as its sum.
  const byLabel = (k: string) => all.some(([other]) => other.startsWith(`${k}{`));
  return all.filter(
    ([k, v]) => v > 0 && !byLabel(k) && /discard|dropped|refused|fail|out_of_order|out_of_bound/.test(k),
  );
}

/** A fix for a known configuration limit, from the cause and the exporter's settings; undefined when none is known. */
export function fixFor(
  cause: FailureCause,
  backend: string,
  signal: Signal,
  exporter: ExporterSetup | undefined,
  largestBytes: number | undefined,
  outcome: ExportFailure['outcome'],
  /** Bytes per item of a dropped request that named both (exact), when the collector logged one. */
  bytesPerItem?: number,
): string | undefined {
  const retryOff = exporter !== undefined && !exporter.retry.enabled;
  switch (cause.kind) {
    case 'message-too-large':
    case 'payload-too-large': {
      const max = exporter?.maxItemsPerRequest[signal];
      const size = exporter?.batchSize[signal];
      const items = size ?? max;
      const bytes = largestBytes ?? cause.sizeBytes;
      const limit = cause.limitBytes;
      const fit = (perItem: number) => n(Math.max(100, Math.floor((limit! * 0.8) / perItem / 500) * 500));
      // A request's item count is logged only when it is dropped; otherwise a full batch is assumed, and a
      // batch cut by its timeout holds fewer, larger-per-item records: the count is then at most.
      const advice =
        limit === undefined
          ? ''
          : bytesPerItem !== undefined
            ? ` — about ${fit(bytesPerItem)} items at the ${bytesPerItem.toFixed(0)} bytes per item of the requests it dropped`
            : items !== undefined && bytes !== undefined
              ? ` — at most about ${fit(bytes / items)} items (if the ${(bytes / 1e6).toFixed(2)} MB request held a full batch of ${n(items)}; fewer items make each larger)`
              : '';
      const receiver =
        backend === NEXT_COLLECTOR
          ? "the next collector's OTLP receiver max_recv_msg_size_mib (gRPC, 4 MiB by default)"
          : backend === 'loki'
            ? "Loki's server.grpc_server_max_recv_msg_size and ingester_client.grpc_client_config.max_send_msg_size (distributor → ingester)"
            : backend === 'tempo'
              ? "Tempo's server.grpc_server_max_recv_msg_size and its distributor's ingester client limit"
              : `${backend}'s receive limit`;
      return `make requests smaller than the limit: set the batch processor's send_batch_max_size${max !== undefined ? ` (now ${n(max)})` : ' (unset: no maximum)'}${advice}; or raise ${receiver}`;
    }
    case 'rate-limited': {
      const limit =
        backend === 'loki'
          ? "Loki's limits_config.ingestion_rate_mb and ingestion_burst_size_mb (per_stream_rate_limit for one stream)"
          : backend === 'tempo'
            ? "Tempo's overrides ingestion rate_limit_bytes and burst_size_bytes"
            : backend === 'mimir'
              ? "Mimir's ingestion_rate and ingestion_burst_size"
              : backend === NEXT_COLLECTOR
                ? "the next collector's memory_limiter (limit_mib: it refuses while over it) and its CPU"
                : `${backend}'s ingestion limit`;
      return retryOff || outcome === 'rejected'
        ? `turn ${exporter?.name ?? 'the exporter'}'s retry_on_failure${exporter?.queue.enabled === false ? ' and sending_queue' : ''} on (a 429 is meant to be retried), or raise ${limit}`
        : `raise ${limit}, or give the exporter's retries more time (retry_on_failure.max_elapsed_time${exporter !== undefined ? `, now ${exporter.retry.maxElapsedMs / 1000} s` : ''})`;
    }
    case 'out-of-order':
      return backend === 'prometheus'
        ? "set Prometheus's storage.tsdb.out_of_order_time_window, or send each series from one writer"
        : 'send each series from one writer, or accept out-of-order samples in the backend';
    case 'too-old':
      return backend === 'loki'
        ? "raise Loki's limits_config.reject_old_samples_max_age, or shorten what delays the items"
        : `raise ${backend}'s accepted sample age, or shorten what delays the items`;
    case 'unauthorized':
      return `check ${exporter?.name ?? 'the exporter'}'s credentials and the backend's tenant`;
    case 'queue-full':
      return `raise ${exporter?.name ?? 'the exporter'}'s sending_queue.queue_size${exporter !== undefined ? ` (now ${n(exporter.queue.size)} ${exporter.queue.sizer})` : ''}, or let the client see backpressure (no batch processor before a full queue)`;
    case 'timeout':
      return `${backend} answered slower than ${exporter?.name ?? 'the exporter'}'s timeout: raise the timeout (a request that times out after it arrived is sent again) or give ${backend} more CPU${retryOff ? `, and turn retry_on_failure on` : ''}`;
    case 'unavailable':
    case 'connection':
      if (outcome === 'retrying') return undefined;
      return retryOff
        ? `turn ${exporter?.name ?? 'the exporter'}'s retry_on_failure on`
        : `the backend stayed unreachable longer than retry_on_failure.max_elapsed_time${exporter !== undefined ? ` (${exporter.retry.maxElapsedMs / 1000} s)` : ''}: raise it (0 retries for ever) and keep a persistent sending_queue`;
    default:
      return undefined;
  }
}

/**
 * The causes of a signal's absent items from the evidence: the exporters' failures as their collectors
 * logged them (grouped by cause, with what was given up and what waits behind them), counters given up
 * without a log, and the backend's own discard counters. Pure.
 */
export function causesOf(input: {
  signal: Signal;
  backend: string;
  failures: readonly ExportFailure[];
  counters: PipelineCounters | undefined;
  exporters: readonly ExporterSetup[];
  backendCounters: Record<string, number> | undefined;
  /** Absent items queued behind the failures (a blocked drain). */
  doomed: number;
  /** Collectors that send to another collector, not to the backend (a node agent, gateways): their hop is named so. */
  forwarders?: ReadonlySet<string>;
}): LossCause[] {
  const out: LossCause[] = [];
  const noun = NOUN[input.signal];
  const byExporter = new Map<string, ExportFailure[]>();
  for (const f of input.failures)
    byExporter.set(`${f.collector}\0${f.exporter}`, [...(byExporter.get(`${f.collector}\0${f.exporter}`) ?? []), f]);
  let doomedLeft = input.doomed;
  for (const [id, failures] of byExporter) {
    const [collector, exporter] = id.split('\0') as [string, string];
    const setup = input.exporters.find((e) => e.name === exporter);
    const counted = input.counters?.exporters.find((e) => e.collector === collector && e.exporter === exporter);
    // The cause that gave up most, else the latest retrying one.
    const main = failures.find((f) => f.outcome !== 'retrying') ?? failures[0]!;
    const givenUp = counted?.givenUp ?? failures.reduce((s, f) => s + f.droppedItems, 0);
    const parts: string[] = [];
    if (givenUp > 0) parts.push(`${n(givenUp)} ${noun} given up`);
    const blocking = failures.every((f) => !f.cause.retryable) && doomedLeft > 0;
    if (blocking) {
      parts.push(`${n(doomedLeft)} queued behind the same error`);
      doomedLeft = 0;
    }
    if (parts.length === 0) parts.push(`${main.count} failed attempt(s), retried`);
    const attempts = failures.reduce((s, f) => s + f.count, 0);
    const forwards = input.forwarders?.has(collector) === true;
    const to = forwards ? NEXT_COLLECTOR : input.backend;
    const perItem = failures.reduce<number | undefined>(
      (m, f) => (f.bytesPerItem === undefined ? m : Math.max(m ?? 0, f.bytesPerItem)),
      undefined,
    );
    const fix = fixFor(main.cause, to, input.signal, setup, main.largestBytes, main.outcome, perItem);
    out.push({
      hop: forwards ? `${collector} → the next collector (${exporter})` : `${collector} → ${input.backend}`,
      reason: `${parts.join(' and ')}: ${main.cause.summary} (${exporter}; ${attempts} failure line(s) in the collector's log${setup !== undefined && !setup.retry.enabled ? '; its retries are off' : ''})`,
      ...(fix === undefined ? {} : { fix }),
      retryable: main.cause.retryable,
    });
  }
  for (const e of input.counters?.exporters ?? []) {
    if (e.givenUp === 0 || byExporter.has(`${e.collector}\0${e.exporter}`)) continue;
    const to = nextHop(input.forwarders, e.collector, e.exporter, input.backend);
    out.push({
      hop: to === input.backend ? `${e.collector} → ${to}` : `${e.collector} → ${to} (${e.exporter})`,
      reason: `${n(e.givenUp)} ${noun} given up by ${e.exporter} (its send_failed and enqueue_failed counters; no log line said why)`,
      retryable: true,
    });
  }
  for (const p of input.counters?.processorDrops ?? []) {
    if (NOT_A_CAUSE.test(p.processor)) continue;
    out.push({
      hop: `${p.collector} processor ${p.processor}`,
      reason: `${n(p.items)} ${noun} taken in and not passed on (its incoming − outgoing items, all traffic in the run's window)`,
      ...(p.processor.startsWith('filter')
        ? { fix: `check ${p.processor}'s conditions: it drops what they match` }
        : {}),
      retryable: false,
    });
  }
  for (const r of input.counters?.scrapeRefusals ?? [])
    out.push({
      hop: `${r.collector} receiver ${r.receiver}`,
      reason: `${n(r.items)} ${noun} scraped and then refused inside ${r.collector} (its receiver's refused and failed counters: memory_limiter or a full pipeline; "Scrape commit failed" in its log): nobody scrapes them again`,
      fix: `give ${r.collector} more memory (memory_limiter's limit_mib, the container's limit) or scrape fewer series per target`,
      retryable: false,
    });
  const discards = backendDiscards(input.backendCounters);
  if (discards.length > 0) {
    // A backend's own reason for discarding, where it is a known limit, names the same fix as its refusal.
    const reasons = discards.map(([k]) => k).join(' ');
    const cause: FailureCause | undefined = /rate_limit/.test(reasons)
      ? classifyExportError('rate limit')
      : /too_old|max_sample_age|too_far_behind/.test(reasons)
        ? classifyExportError('too old')
        : /out_of_order/.test(reasons)
          ? classifyExportError('out of order sample')
          : undefined;
    const feeding = input.exporters.find((e) => input.counters?.exporters.some((c) => c.exporter === e.name));
    const fix =
      cause === undefined ? undefined : fixFor(cause, input.backend, input.signal, feeding, undefined, 'given-up');
    out.push({
      hop: input.backend,
      reason: `${input.backend} counted items it discarded: ${discards.map(([k, v]) => `${k} ${n(v)}`).join(', ')}`,
      ...(fix === undefined ? {} : { fix }),
      retryable: cause?.retryable ?? false,
    });
  }
  return out;
}

/**
 * The loss a signal's evidence proves: absent items less the most the pipeline could still hold is a lower
 * bound; absent items queued behind an error no retry fixes (a blocked drain) will not arrive. Pure.
 */
export function evidenceOf(input: {
  absent: number;
  drained: boolean;
  blocked: string | undefined;
  /** Queues the drain saw at its end, with the most items each can hold when known. */
  stillQueued: readonly { maxItems?: number }[];
  /** Queues the drain could not see. */
  unobservable: readonly string[];
  counters: PipelineCounters | undefined;
  causes: LossCause[];
}): LossEvidence {
  const { absent } = input;
  let pendingAtMost: number | null = null;
  let pendingHow: string;
  if (input.drained && input.unobservable.length === 0) {
    pendingAtMost = 0;
    pendingHow = 'the drain finished: every queue empty and every counter still';
  } else if (input.counters?.pendingAtMost !== undefined) {
    pendingAtMost = input.counters.pendingAtMost;
    pendingHow =
      "the collectors' counters: items their entry receivers accepted less those sent, given up or passed on";
  } else if (
    input.unobservable.length === 0 &&
    input.stillQueued.length > 0 &&
    input.stillQueued.every((q) => q.maxItems !== undefined)
  ) {
    pendingAtMost = input.stillQueued.reduce((s, q) => s + q.maxItems!, 0);
    pendingHow = 'the queues still holding requests × the most items a request carries (the batch limit)';
  } else {
    pendingHow =
      input.unobservable.length > 0
        ? `a queue could not be seen (${input.unobservable.join('; ')})`
        : (input.counters?.pendingUnknown ?? "the collectors' counters were not read");
  }
  const lostAtLeast = pendingAtMost === null ? null : Math.max(0, absent - pendingAtMost);
  const doomed = input.blocked === undefined ? 0 : absent - (lostAtLeast ?? 0);
  return {
    absent,
    givenUp: input.counters?.givenUp ?? null,
    pendingAtMost,
    pendingHow,
    lostAtLeast,
    doomed,
    lowerBound: !(input.drained && input.unobservable.length === 0) && pendingAtMost !== 0,
    causes: input.causes,
  };
}

/** `otelcol → loki: 102,407 log records given up …; fix: …` for a verdict line. */
export function describeCauses(causes: readonly LossCause[]): string {
  return causes.map((c) => `${c.hop}: ${c.reason}${c.fix === undefined ? '' : `; fix: ${c.fix}`}`).join(' | ');
}
