import { readFileSync } from 'node:fs';
import { configurationError } from '../../harness-error.js';
import type { Endpoint, StackEndpoints } from '../stack.js';

/** What attach mode reads from a `--target` file (the output of `otel-harness up --json`). */
export interface TargetFile {
  title: string;
  endpoints: Endpoint[];
  /** The stack's roles as `up --json` writes them (collectors with their configurations, backends). */
  stack: StackEndpoints | undefined;
}

/** Reads a `--target` file. Malformed → exit 2. */
export function readTargetFile(path: string): TargetFile {
  let parsed: { title?: string; endpoints?: Endpoint[]; stack?: StackEndpoints };
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
  const stack = parsed.stack;
  const usable =
    stack !== undefined &&
    typeof stack.otlpHttp === 'string' &&
    Array.isArray(stack.collectors) &&
    typeof stack.backends === 'object';
  return { title: parsed.title ?? `target ${path}`, endpoints: parsed.endpoints, stack: usable ? stack : undefined };
}

/** The endpoint with `label` (as `up` labels them: 'OTLP HTTP', 'Tempo query', 'Loki', …). */
export function endpointByLabel(file: TargetFile | undefined, label: string): string | undefined {
  return file?.endpoints.find((e) => e.label === label)?.address;
}

/** Labels of a target file's entries that say how the cluster runs k6 TestRuns (written by `--phase 3`). */
export const K6_ENDPOINT_LABEL = 'OTLP HTTP in cluster';
export const K6_IMAGE_LABEL = 'k6 runner image';
export const K6_STARTER_LABEL = 'k6 starter image';
