/**
 * One generator in its own process, so its CPU time can be measured alone:
 *   node dist/bench/load-child.js <native|sdk> <otlp http url> <otlp grpc host:port> <spans/s> <seconds>
 * Prints the ledger counts as JSON on stdout.
 */
import { resolveSoakOptions } from '../src/config/soak-options.js';
import { Ledger } from '../src/load/ledger.js';
import { driveNative, LiveCounters } from '../src/load/native-driver.js';
import { driveSdk } from '../src/load/sdk-driver.js';
import { planSoak, sdkLoadOf } from '../src/run/soak-plan.js';
import { loadsOf } from '../src/load/signal-loads.js';

const [driver, http, grpc, rate, seconds] = process.argv.slice(2);
const options = resolveSoakOptions({ driver, signals: 'traces', rate, duration: `${seconds}s` }, {});
const plan = planSoak(options);
const ledger = new Ledger({ traces: plan.traceShape.spansPerTrace, metrics: 1, logs: 1 });
const live = new LiveCounters();
const runId = `bench-${driver}-${Date.now()}`;
const abort = new AbortController().signal;
const reports =
  driver === 'sdk'
    ? await driveSdk(sdkLoadOf(plan)!, runId, ledger, live, grpc, abort)
    : await driveNative(loadsOf(plan, runId, Date.now()), ledger, live, {
        endpoint: http!,
        profile: options.profile,
        durationMs: options.durationMs,
        maxInFlight: options.maxInFlight,
        timeoutMs: options.requestTimeoutMs,
        signal: abort,
      });
process.stdout.write(
  JSON.stringify({ counts: ledger.counts('traces'), lagMs: reports.get('traces')?.scheduleLagMs }) + '\n',
);
process.exit(0);
