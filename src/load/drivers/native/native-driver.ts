import type { Batch } from '../../../../generators/index.js';
import type { Clock } from '../../../time/clock.js';
import { systemClock } from '../../../time/clock.js';
import type { Ledger, Signal } from '../../ledger.js';
import type { LiveCounters } from '../../live-counters.js';
import { runOpenModel, type SchedulerReport } from '../../open-model-scheduler.js';
import { otlpClient } from '../../otlp/otlp-client.js';
import { DEFAULT_TRANSPORT, type TlsSettings, type Transport } from '../../otlp/transport.js';
import type { RateProfile } from '../../rate-profile.js';

/** One signal's load: its unit rate and how to build a batch of units. */
export interface SignalLoad {
  signal: Signal;
  /** Sequence units per second at the target rate (traces/s for traces). */
  unitRate: number;
  batchUnits: number;
  /** Items per unit (spans per trace; 1 otherwise). */
  itemsPerUnit: number;
  build(firstSeq: number, count: number, nowMs: number): Batch;
  /**
   * Delivers a batch another way than OTLP (a container log file an agent reads): done when it returns,
   * which acknowledges the batch; a throw fails it with the error's code.
   */
  deliver?(firstSeq: number, count: number, nowMs: number): { items: number; bytes: number };
}

export interface DriveOptions {
  /** OTLP/HTTP base URL, e.g. http://127.0.0.1:4318. */
  endpoint: string;
  /** OTLP/gRPC host:port, for `transport.protocol` grpc. */
  grpcEndpoint?: string | undefined;
  /** Protocol and compression (default: OTLP/HTTP protobuf, uncompressed). */
  transport?: Transport;
  /** Headers on every request (OTEL_EXPORTER_OTLP_HEADERS, a tenant). */
  headers?: Record<string, string>;
  /** TLS to an https endpoint. */
  tls?: TlsSettings;
  /** Connections and requests per connection (spreading over replicas behind an L4 balancer). */
  connections?: { connections: number; requestsPerConnection?: number };
  profile: RateProfile;
  durationMs: number;
  maxInFlight: number;
  timeoutMs: number;
  signal?: AbortSignal;
  clock?: Clock;
}

/**
 * The native driver: pre-built OTLP protobuf over HTTP or gRPC (gzip-compressed when asked), one open-model
 * schedule per signal, all signals concurrently over one connection pool. Every batch's answer goes into
 * the ledger.
 */
export async function driveNative(
  loads: readonly SignalLoad[],
  ledger: Ledger,
  live: LiveCounters,
  options: DriveOptions,
): Promise<Map<Signal, SchedulerReport>> {
  const clock = options.clock ?? systemClock;
  const transport = options.transport ?? DEFAULT_TRANSPORT;
  const client = otlpClient({ otlpHttp: options.endpoint, otlpGrpc: options.grpcEndpoint }, transport, {
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    // HTTP/2 carries many calls per connection: two sessions do what a pool of HTTP/1.1 connections does.
    connections:
      options.connections?.connections ?? (transport.protocol === 'grpc' ? 2 : Math.max(4, loads.length * 4)),
    ...(options.connections === undefined ? {} : { requestsPerConnection: options.connections.requestsPerConnection }),
    timeoutMs: options.timeoutMs,
  });
  const start = clock.now();
  try {
    const reports = await Promise.all(
      loads.map(async (load) => {
        const report = await runOpenModel(
          {
            unitRate: load.unitRate,
            profile: options.profile,
            durationMs: options.durationMs,
            batchUnits: load.batchUnits,
            maxInFlight: options.maxInFlight,
            clock,
            ...(options.signal === undefined ? {} : { signal: options.signal }),
          },
          {
            send: async (ticket) => {
              if (load.deliver !== undefined) {
                deliverOther(load, ticket, ledger, live, clock.now() - start);
                return;
              }
              const batch = load.build(ticket.firstSeq, ticket.count, Date.now());
              const answer = await client.post(load.signal, batch.body);
              ledger.record(load.signal, {
                first: ticket.firstSeq,
                count: ticket.count,
                outcome: answer.outcome,
                answer: answer.answer,
                atMs: clock.now() - start,
                ...(answer.rejected > 0 ? { rejected: answer.rejected, rejectMessage: answer.rejectMessage } : {}),
                ...(answer.retryAfterMs === undefined ? {} : { retryAfterMs: answer.retryAfterMs }),
              });
              live.add(load.signal, answer.outcome, batch.items, batch.body.length);
            },
            drop: (ticket) => {
              ledger.record(load.signal, {
                first: ticket.firstSeq,
                count: ticket.count,
                outcome: 'dropped',
                atMs: ticket.issuedAtMs,
              });
              live.add(load.signal, 'dropped', ticket.count * load.itemsPerUnit);
            },
          },
        );
        return [load.signal, report] as const;
      }),
    );
    return new Map(reports);
  } finally {
    await client.close();
  }
}

/** A batch delivered by the load's own means: acknowledged once written, failed with the error's code. */
function deliverOther(
  load: SignalLoad,
  ticket: { firstSeq: number; count: number },
  ledger: Ledger,
  live: LiveCounters,
  atMs: number,
): void {
  try {
    const { items, bytes } = load.deliver!(ticket.firstSeq, ticket.count, Date.now());
    ledger.record(load.signal, { first: ticket.firstSeq, count: ticket.count, outcome: 'acknowledged', atMs });
    live.add(load.signal, 'acknowledged', items, bytes);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    ledger.record(load.signal, { first: ticket.firstSeq, count: ticket.count, outcome: 'failed', answer: code, atMs });
    live.add(load.signal, 'failed', ticket.count * load.itemsPerUnit);
  }
}
