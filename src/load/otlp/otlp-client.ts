import { configurationError } from '../../harness-error.js';
import { OtlpGrpcClient } from './otlp-grpc-client.js';
import { OtlpHttpClient } from './otlp-http-client.js';
import type { OtlpClient, Transport } from './transport.js';

/** The client of `transport` to a stack's OTLP receivers; a gRPC one needs the stack's gRPC address. */
export function otlpClient(
  endpoints: { otlpHttp: string; otlpGrpc: string | undefined },
  transport: Transport,
  options: { connections: number; timeoutMs: number; headers?: Record<string, string>; requestsPerConnection?: number },
): OtlpClient {
  const common = { ...options, compression: transport.compression };
  if (transport.protocol === 'http/protobuf') return new OtlpHttpClient(endpoints.otlpHttp, common);
  if (endpoints.otlpGrpc === undefined)
    throw configurationError(
      '--protocol',
      "http/protobuf, or grpc with the stack's OTLP/gRPC address (attach mode: --otlp-grpc host:port)",
      'grpc',
    );
  return new OtlpGrpcClient(endpoints.otlpGrpc, common);
}
