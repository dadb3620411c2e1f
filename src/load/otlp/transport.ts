import type { Outcome, Signal } from '../ledger.js';

/** How OTLP goes over the wire: the specification's OTEL_EXPORTER_OTLP_PROTOCOL values the harness speaks. */
export const PROTOCOLS = ['http/protobuf', 'grpc', 'http/json'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** OTEL_EXPORTER_OTLP_COMPRESSION values. */
export const COMPRESSIONS = ['none', 'gzip'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export interface Transport {
  protocol: Protocol;
  compression: Compression;
}

/**
 * TLS to an OTLP target (OTEL_EXPORTER_OTLP_CERTIFICATE, _CLIENT_CERTIFICATE, _CLIENT_KEY): PEM contents,
 * read from their files before the run. Used when the endpoint's scheme is https.
 */
export interface TlsSettings {
  /** The CA that signed the target's certificate (else the system's CAs). */
  ca?: string;
  /** Client certificate and key (mutual TLS). */
  cert?: string;
  key?: string;
  /** Accept any server certificate (--insecure-skip-verify): said on the run's first line. */
  insecureSkipVerify?: boolean;
}

/** Node's TLS options of `tls` (for undici's connect and http2.connect). */
export function tlsOptionsOf(tls: TlsSettings | undefined): {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized?: boolean;
} {
  if (tls === undefined) return {};
  return {
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
    ...(tls.insecureSkipVerify === true ? { rejectUnauthorized: false } : {}),
  };
}

/** Options every OTLP client takes. */
export interface OtlpClientOptions {
  connections: number;
  timeoutMs: number;
  headers?: Record<string, string>;
  /** Requests a connection carries before it is closed and replaced (default: unlimited). */
  requestsPerConnection?: number;
  compression?: Compression;
  tls?: TlsSettings;
  /** OTLP/HTTP JSON instead of protobuf: each request's protobuf is written as OTLP/JSON before it is sent. */
  json?: boolean;
}

export const DEFAULT_TRANSPORT: Transport = { protocol: 'http/protobuf', compression: 'none' };

/** "OTLP/HTTP protobuf", "OTLP/gRPC gzip": for progress lines and reports. */
export function describeTransport(t: Transport): string {
  const wire =
    t.protocol === 'grpc' ? 'OTLP/gRPC' : t.protocol === 'http/json' ? 'OTLP/HTTP JSON' : 'OTLP/HTTP protobuf';
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
