import type { Outcome, Signal } from '../ledger.js';

/** How OTLP goes over the wire: the specification's OTEL_EXPORTER_OTLP_PROTOCOL values the harness speaks. */
export const PROTOCOLS = ['http/protobuf', 'grpc'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** OTEL_EXPORTER_OTLP_COMPRESSION values. */
export const COMPRESSIONS = ['none', 'gzip'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export interface Transport {
  protocol: Protocol;
  compression: Compression;
}

export const DEFAULT_TRANSPORT: Transport = { protocol: 'http/protobuf', compression: 'none' };

/** "OTLP/HTTP protobuf", "OTLP/gRPC gzip": for progress lines and reports. */
export function describeTransport(t: Transport): string {
  const wire = t.protocol === 'grpc' ? 'OTLP/gRPC' : 'OTLP/HTTP protobuf';
  return t.compression === 'none' ? wire : `${wire} ${t.compression}`;
}

/** One export request's answer, as the ledger records it. */
export interface Answer {
  outcome: Outcome;
  /** HTTP status, gRPC status name (OK, UNAVAILABLE, …) or transport error code. */
  answer: string;
  /** Items a successful answer declared rejected (OTLP partial success); 0 when none. */
  rejected: number;
  rejectMessage: string;
  /** A refusal's requested delay before a retry (gRPC RetryInfo, HTTP Retry-After), ms. */
  retryAfterMs?: number;
}

/** Sends one signal's pre-built OTLP protobuf export request and reads its answer. */
export interface OtlpClient {
  post(signal: Signal, body: Uint8Array): Promise<Answer>;
  close(): Promise<void>;
}
