import { inProcessDriver, type DriveInput, type DriveOutcome, type LoadDriver } from '../driver.js';
import { driveSdk, type SdkSignalLoad } from './sdk-driver.js';

/**
 * The SDK driver: traces, metrics and logs through the OpenTelemetry JS SDK and its OTLP exporters (gRPC or HTTP
 * protobuf), as an application sends them.
 */
export function sdkDriver(): LoadDriver {
  return inProcessDriver('sdk', async (input: DriveInput): Promise<DriveOutcome> => {
    const { spec } = input;
    const loadOf = (signal: 'traces' | 'metrics' | 'logs'): SdkSignalLoad | undefined => {
      const s = spec.signals.find((x) => x.signal === signal);
      return s === undefined ? undefined : { rateRps: s.rateRps, unitRate: s.unitRate, batchUnits: s.batchUnits };
    };
    const traces = loadOf('traces');
    const logs = loadOf('logs');
    const metrics = loadOf('metrics');
    if (traces === undefined && logs === undefined && metrics === undefined) return { reports: new Map() };
    const reports = await driveSdk(
      {
        ...(traces === undefined ? {} : { traces }),
        ...(logs === undefined ? {} : { logs }),
        ...(metrics === undefined ? {} : { metrics }),
        traceShape: spec.traceShape,
        logShape: spec.logShape,
        metricShape: spec.metricShape,
        metricTimeline: input.metricTimeline,
        batchItems: spec.batchItems,
        profile: spec.profile,
        durationMs: spec.durationMs,
        requestTimeoutMs: spec.requestTimeoutMs,
        transport: spec.transport,
      },
      input.runId,
      input.ledger,
      input.live,
      { otlpHttp: input.ingest.otlpHttp, otlpGrpc: input.ingest.otlpGrpc },
      input.abort,
      input.ingest.headers,
    );
    return { reports };
  });
}
