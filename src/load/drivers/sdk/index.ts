import { configurationError } from '../../../harness-error.js';
import { inProcessDriver, type DriveInput, type DriveOutcome, type LoadDriver } from '../driver.js';
import { driveSdk } from './sdk-driver.js';

/** The SDK driver: traces through @opentelemetry/sdk-node and its OTLP gRPC exporter, as an application sends them. */
export function sdkDriver(): LoadDriver {
  return inProcessDriver('sdk', async (input: DriveInput): Promise<DriveOutcome> => {
    const { spec } = input;
    const traces = spec.signals.find((s) => s.signal === 'traces');
    if (traces === undefined) return { reports: new Map() };
    if (input.ingest.otlpGrpc === undefined)
      throw configurationError('--driver', 'native for a stack without an OTLP gRPC endpoint', 'sdk');
    const reports = await driveSdk(
      {
        traceShape: spec.traceShape,
        rateRps: traces.rateRps,
        unitRate: traces.unitRate,
        batchUnits: traces.batchUnits,
        batchItems: spec.batchItems,
        profile: spec.profile,
        durationMs: spec.durationMs,
        requestTimeoutMs: spec.requestTimeoutMs,
      },
      input.runId,
      input.ledger,
      input.live,
      input.ingest.otlpGrpc,
      input.abort,
      input.ingest.headers,
    );
    return { reports };
  });
}
