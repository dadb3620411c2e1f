import { readFileSync } from 'node:fs';
import { configurationError, ExitCode, HarnessError } from '../harness-error.js';
import type { Endpoint } from '../stack/started-stack.js';

/** Where the harness sends load and asks questions, from a booted stack or a `--target` file. */
export interface StackEndpoints {
  otlpHttp: string;
  /** host:port of OTLP gRPC (used by the SDK driver). */
  otlpGrpc: string | undefined;
  collectorMetrics: string | undefined;
  traces: { backend: 'tempo' | 'jaeger'; query: string; metrics: string | undefined } | undefined;
  loki: { query: string; metrics: string } | undefined;
  prometheus: { query: string; metrics: string } | undefined;
}

/** Maps the endpoint list of a stack (as `up --json` prints it) to what the harness needs. */
export function endpointsFromList(list: readonly Endpoint[], source: string): StackEndpoints {
  const by = (label: string) => list.find((e) => e.label === label)?.address;
  const otlpHttp = by('OTLP HTTP');
  if (otlpHttp === undefined) throw configurationError(`${source} endpoints`, "an 'OTLP HTTP' endpoint", 'missing');
  const tempo = by('Tempo query');
  const jaeger = by('Jaeger query');
  const loki = by('Loki');
  const prometheus = by('Prometheus');
  return {
    otlpHttp,
    otlpGrpc: by('OTLP gRPC'),
    collectorMetrics: by('Collector metrics'),
    traces:
      tempo !== undefined
        ? { backend: 'tempo', query: tempo, metrics: `${tempo}/metrics` }
        : jaeger !== undefined
          ? { backend: 'jaeger', query: jaeger, metrics: by('Jaeger metrics') }
          : undefined,
    loki: loki === undefined ? undefined : { query: loki, metrics: `${loki}/metrics` },
    prometheus: prometheus === undefined ? undefined : { query: prometheus, metrics: `${prometheus}/metrics` },
  };
}

/** Reads a `--target` file (the output of `otel-harness up --json`). Malformed → exit 2. */
export function readTargetFile(path: string): { title: string; endpoints: Endpoint[]; stack: StackEndpoints } {
  let parsed: { title?: string; endpoints?: Endpoint[] };
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as typeof parsed;
  } catch (err) {
    throw configurationError(
      '--target',
      'a JSON file written by `otel-harness up --json`',
      `${path}: ${(err as Error).message}`,
    );
  }
  if (
    !Array.isArray(parsed.endpoints) ||
    !parsed.endpoints.every((e) => typeof e.label === 'string' && typeof e.address === 'string')
  ) {
    throw configurationError('--target', 'a file with an endpoints list (`otel-harness up --json`)', path);
  }
  return {
    title: parsed.title ?? `target ${path}`,
    endpoints: parsed.endpoints,
    stack: endpointsFromList(parsed.endpoints, path),
  };
}

/** Checks each endpoint answers HTTP at all; the first that does not is named in an exit-5 error. */
export async function checkReachable(stack: StackEndpoints): Promise<void> {
  const probes: [string, string][] = [
    ['OTLP HTTP', `${stack.otlpHttp}/v1/traces`],
    ...(stack.collectorMetrics === undefined
      ? []
      : [['collector metrics', stack.collectorMetrics] as [string, string]]),
    ...(stack.traces === undefined ? [] : [[`${stack.traces.backend} query`, stack.traces.query] as [string, string]]),
    ...(stack.loki === undefined ? [] : [['Loki', `${stack.loki.query}/ready`] as [string, string]]),
    ...(stack.prometheus === undefined
      ? []
      : [['Prometheus', `${stack.prometheus.query}/-/ready`] as [string, string]]),
  ];
  for (const [name, url] of probes) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(5_000) }).then((r) => r.body?.cancel());
    } catch (err) {
      const c = (err as { cause?: { code?: string; message?: string } }).cause;
      const cause = c?.code ?? c?.message ?? (err as Error).message;
      throw new HarnessError(`Target endpoint ${name} (${url}) is unreachable: ${cause}`, {
        code: 'TARGET_UNREACHABLE',
        exitCode: ExitCode.stackFailed,
        hint: 'check the stack is up (`otel-harness up --json > stack.json`) and the file names its current ports',
      });
    }
  }
}
