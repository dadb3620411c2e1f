import { OtlpGrpcClient } from './otlp-grpc-client.js';
import { OtlpHttpClient } from './otlp-http-client.js';
import type { OtlpClient, OtlpClientOptions, Transport } from './transport.js';

/**
 * Where OTLP/gRPC goes: `host:port` (cleartext HTTP/2, as the harness's stacks listen) or a URL whose scheme
 * says cleartext (http) or TLS (https), as OTEL_EXPORTER_OTLP_ENDPOINT gives it.
 */
export function grpcTarget(address: string): { target: string; secure: boolean } {
  if (!address.includes('://')) return { target: address, secure: false };
  const url = new URL(address);
  const secure = url.protocol === 'https:';
  return { target: `${url.hostname}:${url.port === '' ? (secure ? '443' : '80') : url.port}`, secure };
}

/**
 * The client of `transport` to a stack's OTLP receivers. gRPC goes to the stack's gRPC address; without
 * one (an endpoint given alone, as OTEL_EXPORTER_OTLP_ENDPOINT with OTEL_EXPORTER_OTLP_PROTOCOL=grpc), to
 * the OTLP endpoint itself.
 */
/** The address `transport` sends to: the stack's gRPC address for gRPC (else its OTLP endpoint), else OTLP/HTTP. */
export function otlpAddress(
  endpoints: { otlpHttp: string; otlpGrpc: string | undefined },
  transport: Transport,
): string {
  return transport.protocol === 'grpc' ? (endpoints.otlpGrpc ?? endpoints.otlpHttp) : endpoints.otlpHttp;
}

export function otlpClient(
  endpoints: { otlpHttp: string; otlpGrpc: string | undefined },
  transport: Transport,
  options: Omit<OtlpClientOptions, 'compression'>,
): OtlpClient {
  const common = { ...options, compression: transport.compression };
  if (transport.protocol !== 'grpc')
    return new OtlpHttpClient(endpoints.otlpHttp, { ...common, json: transport.protocol === 'http/json' });
  const { target, secure } = grpcTarget(otlpAddress(endpoints, transport));
  return new OtlpGrpcClient(target, { ...common, secure });
}
