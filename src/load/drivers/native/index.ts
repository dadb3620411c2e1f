import { inProcessDriver, type DriveInput, type DriveOutcome, type LoadDriver } from '../driver.js';
import { driveNative } from './native-driver.js';
import { loadsOf } from './signal-loads.js';

/** The native driver: pre-built OTLP protobuf over HTTP or gRPC on the open-model schedule (the fast path). */
export function nativeDriver(): LoadDriver {
  return inProcessDriver('native', async (input: DriveInput): Promise<DriveOutcome> => {
    const { spec } = input;
    const reports = await driveNative(loadsOf(spec, input.runId, input.metricTimeline), input.ledger, input.live, {
      endpoint: input.ingest.otlpHttp,
      grpcEndpoint: input.ingest.otlpGrpc,
      transport: spec.transport,
      headers: input.ingest.headers,
      ...(input.ingest.tls === undefined ? {} : { tls: input.ingest.tls }),
      ...(input.ingest.connections === undefined ? {} : { connections: input.ingest.connections }),
      profile: spec.profile,
      durationMs: spec.durationMs,
      maxInFlight: spec.maxInFlight,
      timeoutMs: spec.requestTimeoutMs,
      signal: input.abort,
    });
    return { reports };
  });
}
