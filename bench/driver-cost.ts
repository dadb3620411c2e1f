/**
 * Benchmark: spans per CPU-second of the load generators, side by side on the same discarding sink in one
 * run — otel-harness's native driver (pre-built OTLP protobuf over HTTP and gRPC, plain and gzip), its SDK driver (OpenTelemetry JS
 * SDK, OTLP gRPC), the k6 traces scenario (k6 built here) and telemetrygen (OpenTelemetry's own Go
 * generator, built from the module proxy).
 *
 *   npm run bench -- [rates=5000,25000] [seconds=20]
 *
 * Each generator runs in its own process; its CPU time is the child's user+system time (bash `times`).
 * Spans counted are the ones the sink's receiver accepted (its self-metrics), not the ones claimed.
 * Prints a table and writes reports/bench/driver-cost-<date>.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDir, packageRoot } from '../src/paths.js';
import { runCommand } from '../src/images/run-command.js';
import { scrape, sumOf } from '../src/observe/prometheus-text.js';
import { startSink, type Sink } from './sink.js';
import { loadCatalog } from '../src/images/catalog.js';
import { ensureK6 } from '../src/load/drivers/k6/k6-binary.js';
import { scenarioPath } from '../src/load/drivers/k6/k6-scenarios.js';
import { describeTransport } from '../src/load/otlp/transport.js';

const TELEMETRYGEN = 'github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen@v0.161.0';
const SPANS_PER_TRACE = 5;

interface Measurement {
  generator: string;
  targetSpansPerSecond: number;
  seconds: number;
  acceptedSpans: number;
  cpuSeconds: number;
  spansPerCpuSecond: number;
  /** CPU used, % of one core, over the run. */
  cpuPctOfCore: number;
  achievedSpansPerSecond: number;
  note: string;
}

async function telemetrygen(): Promise<string> {
  const gobin = join(cacheDir(), 'tools', 'telemetrygen-0.161.0');
  const bin = join(gobin, 'telemetrygen');
  if (!existsSync(bin)) {
    process.stderr.write(`building telemetrygen (${TELEMETRYGEN}) …\n`);
    await runCommand('go', ['install', TELEMETRYGEN], { env: { ...process.env, GOBIN: gobin, CGO_ENABLED: '0' } });
  }
  return bin;
}

/** Runs a command through bash and returns its children's CPU seconds (user + system) and stdout. */
function timed(command: string[]): Promise<{ cpuSeconds: number; stdout: string; stderr: string }> {
  const quoted = command.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `${quoted}; status=$?; times >&2; exit $status`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = stderr.trim().split('\n');
      const times = lines[lines.length - 1]!.match(/(\d+)m([\d.]+)s/g) ?? [];
      const secs = times.map((t) => {
        const [, m, s] = /(\d+)m([\d.]+)s/.exec(t)!;
        return Number(m) * 60 + Number(s);
      });
      if (code !== 0 || secs.length < 2)
        reject(new Error(`${command.join(' ')} failed (${String(code)}): ${stderr.slice(-500)}`));
      else resolve({ cpuSeconds: secs[0]! + secs[1]!, stdout, stderr });
    });
  });
}

async function accepted(sink: Sink): Promise<number> {
  return sumOf(await scrape(sink.metrics), /^otelcol_receiver_accepted_spans(_total)?$/);
}

async function measure(
  sink: Sink,
  generator: string,
  rate: number,
  seconds: number,
  command: string[],
  note: string,
): Promise<Measurement> {
  const before = await accepted(sink);
  const { cpuSeconds } = await timed(command);
  await new Promise((r) => setTimeout(r, 2_000)); // let the sink count the last batches
  const acceptedSpans = (await accepted(sink)) - before;
  const m: Measurement = {
    generator,
    targetSpansPerSecond: rate,
    seconds,
    acceptedSpans,
    cpuSeconds: Math.round(cpuSeconds * 100) / 100,
    spansPerCpuSecond: Math.round(acceptedSpans / cpuSeconds),
    cpuPctOfCore: Math.round((cpuSeconds / seconds) * 1000) / 10,
    achievedSpansPerSecond: Math.round(acceptedSpans / seconds),
    note,
  };
  process.stderr.write(`${generator} @ ${rate} spans/s: ${JSON.stringify(m)}\n`);
  return m;
}

async function main(): Promise<void> {
  const rates = (process.argv[2] ?? '5000,25000').split(',').map(Number);
  const seconds = Number(process.argv[3] ?? '20');
  // An optional third argument keeps only the generators whose name contains it (e.g. "native").
  const only = process.argv[4];
  const wanted = (name: string) => only === undefined || name.includes(only);
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  const tg = await telemetrygen();
  const k6 = await ensureK6(loadCatalog().tools.get('k6')!, {
    cacheDir: cacheDir(),
    progress: (m) => process.stderr.write(`${m}\n`),
  });
  const k6Script = scenarioPath(packageRoot(), 'traces');
  const child = join(packageRoot(), 'dist', 'bench', 'load-child.js');
  const scratch = mkdtempSync(join(tmpdir(), 'otel-harness-bench-'));
  const sink = await startSink();
  const results: Measurement[] = [];
  try {
    for (const rate of rates) {
      for (const [protocol, compression, payload] of [
        ['http/protobuf', 'none', 'synthetic'],
        ['http/protobuf', 'gzip', 'synthetic'],
        ['grpc', 'none', 'synthetic'],
        ['grpc', 'gzip', 'synthetic'],
        ['http/json', 'none', 'synthetic'],
        ['http/protobuf', 'none', 'web'],
      ] as const) {
        const wire = describeTransport({ protocol, compression });
        const name = `otel-harness native, ${wire}${payload === 'web' ? ', web payload' : ''}`;
        if (!wanted(name)) continue;
        results.push(
          await measure(
            sink,
            name,
            rate,
            seconds,
            [
              process.execPath,
              child,
              'native',
              sink.http,
              sink.grpc,
              String(rate),
              String(seconds),
              protocol,
              compression,
              payload,
            ],
            `${wire}, 510 spans/request (--batch 512)${payload === 'web' ? ', --payload web' : ''}`,
          ),
        );
      }
      if (wanted('otel-harness sdk'))
        results.push(
          await measure(
            sink,
            'otel-harness sdk',
            rate,
            seconds,
            [process.execPath, child, 'sdk', sink.http, sink.grpc, String(rate), String(seconds)],
            'JS SDK BatchSpanProcessor, OTLP gRPC',
          ),
        );
      for (const protocol of ['http/protobuf', 'grpc'] as const) {
        const name = `otel-harness k6${protocol === 'grpc' ? ', OTLP/gRPC' : ''}`;
        if (!wanted(name)) continue;
        results.push(
          await measure(
            sink,
            name,
            rate,
            seconds,
            [
              'env',
              `OTLP_HTTP=${sink.http}`,
              ...(protocol === 'grpc' ? ['PROTOCOL=grpc', `OTLP_GRPC=${sink.grpc}`] : []),
              `RUN_ID=bench-k6-${rate}`,
              `DURATION=${seconds}s`,
              `RATE=${rate}`,
              'BATCH=510',
              `SPANS_PER_TRACE=${SPANS_PER_TRACE}`,
              `SUMMARY_FILE=${join(scratch, 'k6-summary.json')}`,
              'K6_NO_USAGE_REPORT=true',
              k6,
              'run',
              '--quiet',
              '--out',
              `json=${join(scratch, 'k6-ledger.json')}`,
              k6Script,
            ],
            `k6 traces scenario, ${protocol === 'grpc' ? 'OTLP/gRPC (k6/net/grpc)' : 'OTLP/HTTP protobuf'}, 510 spans/request, per-batch ledger to JSON`,
          ),
        );
      }
      const attrs = Array.from({ length: 8 }, (_, i) => [
        '--telemetry-attributes',
        `attr.${i}="abcdefghijklmnop"`,
      ]).flat();
      for (const workers of [1, 4]) {
        if (!wanted(`telemetrygen (${workers} worker${workers > 1 ? 's' : ''})`)) continue;
        results.push(
          await measure(
            sink,
            `telemetrygen (${workers} worker${workers > 1 ? 's' : ''})`,
            rate,
            seconds,
            [
              tg,
              'traces',
              '--otlp-endpoint',
              sink.grpc,
              '--otlp-insecure',
              '--rate',
              String(rate / workers),
              '--workers',
              String(workers),
              '--duration',
              `${seconds}s`,
              '--child-spans',
              String(SPANS_PER_TRACE - 1),
              ...attrs,
            ],
            'Go SDK BatchSpanProcessor, OTLP gRPC, 8 span attributes of 16 bytes',
          ),
        );
      }
    }
  } finally {
    await sink.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  const header = ['generator', 'target spans/s', 'achieved spans/s', 'CPU s', '% of a core', 'spans per CPU-second'];
  const rows = results.map((m) => [
    m.generator,
    String(m.targetSpansPerSecond),
    String(m.achievedSpansPerSecond),
    m.cpuSeconds.toFixed(2),
    m.cpuPctOfCore.toFixed(1),
    String(m.spansPerCpuSecond),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows]) process.stdout.write(r.map((c, i) => c.padEnd(widths[i]!)).join('  ') + '\n');
  const dir = join(packageRoot(), 'reports', 'bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `driver-cost-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ seconds, results }, null, 2) + '\n');
  process.stdout.write(`\n${file}\n`);
}

await main();
process.exit(0);
