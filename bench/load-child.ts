/**
 * One generator in its own process, so its CPU time can be measured alone:
 *   node dist/bench/load-child.js <native|sdk> <otlp http url> <otlp grpc host:port> <spans/s> <seconds> [protocol] [compression] [payload]
 * Prints the ledger counts as JSON on stdout.
 */
import { driverOf } from '../src/load/drivers/registry.js';
import { Ledger } from '../src/load/ledger.js';
import { LiveCounters } from '../src/load/live-counters.js';
import { metricTimelineOf, type DriverName } from '../src/load/load-spec.js';
import { SOAK_SERVICE_NAME } from '../src/load/run-identity.js';
import { resolveSoakOptions } from '../src/soak/soak-options.js';
import { planLoad } from '../src/soak/soak-plan.js';

const [driver, http, grpc, rate, seconds, protocol, compression, payload] = process.argv.slice(2);
const spec = planLoad(
  resolveSoakOptions(
    {
      driver,
      signals: 'traces',
      rate,
      duration: `${seconds}s`,
      ...(protocol === undefined ? {} : { protocol }),
      ...(compression === undefined ? {} : { compression }),
      ...(payload === undefined ? {} : { payload }),
    },
    {},
  ),
);
const ledger = new Ledger({ traces: spec.traceShape.spansPerTrace, metrics: 1, logs: 1 });
const runId = `bench-${driver}-${Date.now()}`;
const d = driverOf(driver as DriverName);
await d.prepare(spec, runId, SOAK_SERVICE_NAME, () => undefined);
const { reports } = await d.drive({
  runId,
  serviceName: SOAK_SERVICE_NAME,
  spec,
  ingest: { otlpHttp: http!, otlpGrpc: grpc, headers: {} },
  ledger,
  live: new LiveCounters(),
  abort: new AbortController().signal,
  metricTimeline: metricTimelineOf(spec, Date.now()),
  progress: () => undefined,
});
await d.dispose();
process.stdout.write(
  JSON.stringify({ counts: ledger.counts('traces'), lagMs: reports.get('traces')?.scheduleLagMs }) + '\n',
);
process.exit(0);
