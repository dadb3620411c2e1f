import { inProcessDriver, type DriveInput, type DriveOutcome, type LoadDriver } from '../driver.js';
import { driveNative } from './native-driver.js';
import { loadsOf } from './signal-loads.js';

/**
 * The connections to open: `--connections` when given (keeping a stack's recycling of them, e.g. Phase 3's
 * spread over pods behind a Service), else the stack's own, else the driver's default.
 */
function connectionsOf(
  asked: number | undefined,
  stack: { connections: number; requestsPerConnection: number } | undefined,
): { connections?: { connections: number; requestsPerConnection?: number } } {
  if (asked !== undefined) return { connections: { ...stack, connections: asked } };
  return stack === undefined ? {} : { connections: stack };
}

/** The native driver: pre-built OTLP protobuf over HTTP or gRPC on the open-model schedule (the fast path). */
export function nativeDriver(): LoadDriver {
  return inProcessDriver('native', async (input: DriveInput): Promise<DriveOutcome> => {
    const { spec } = input;
    const reports = await driveNative(
      loadsOf(spec, input.runId, input.metricTimeline, input.ingest.logFiles),
      input.ledger,
      input.live,
      {
        endpoint: input.ingest.otlpHttp,
        grpcEndpoint: input.ingest.otlpGrpc,
        transport: spec.transport,
        headers: input.ingest.headers,
        ...(input.ingest.tls === undefined ? {} : { tls: input.ingest.tls }),
        ...connectionsOf(spec.connections, input.ingest.connections),
        profile: spec.profile,
        durationMs: spec.durationMs,
        maxInFlight: spec.maxInFlight,
        timeoutMs: spec.requestTimeoutMs,
        signal: input.abort,
      },
    );
    return { reports };
  });
}
