import { configurationError } from '../harness-error.js';
import { IMAGE_SOURCES, type ImageSource } from '../images/image-source.js';
import { TRACES_BACKENDS, type TracesBackend } from '../stack/phase1.js';
import type { PortMode } from '../stack/stack-runner.js';

export const PHASES = [1] as const;
export type Phase = (typeof PHASES)[number];
export const PORT_MODES = ['standard', 'random'] as const;

export interface StackOptions {
  phase: Phase;
  traces: TracesBackend;
  source: ImageSource;
  ports: PortMode;
}

/** The defaults, defined once. `--help` prints them from here. */
export function stackDefaults(): StackOptions {
  return { phase: 1, traces: 'jaeger', source: 'local', ports: 'standard' };
}

/** Environment variables read for each option (second layer, after flags). */
export const STACK_ENV = {
  phase: 'OTEL_HARNESS_PHASE',
  traces: 'OTEL_HARNESS_TRACES',
  source: 'OTEL_HARNESS_SOURCE',
  ports: 'OTEL_HARNESS_PORTS',
} as const satisfies Record<keyof StackOptions, string>;

export type RawStackOptions = Partial<Record<keyof StackOptions, string>>;

function oneOf<T extends string | number>(name: string, allowed: readonly T[], raw: string): T {
  const match = allowed.find((a) => String(a) === raw);
  if (match === undefined) throw configurationError(name, `one of ${allowed.join(', ')}`, raw);
  return match;
}

/**
 * Merges flags, then environment, then defaults, and validates the result. Every invalid value is a
 * configuration error (exit 2) raised before anything starts; environment values are held to the same rules.
 */
export function resolveStackOptions(flags: RawStackOptions, env: NodeJS.ProcessEnv = process.env): StackOptions {
  const defaults = stackDefaults();
  const pick = (key: keyof StackOptions): { raw: string; name: string } | undefined => {
    const flag = flags[key];
    if (flag !== undefined) return { raw: flag, name: `--${key}` };
    const fromEnv = env[STACK_ENV[key]];
    if (fromEnv !== undefined && fromEnv !== '') return { raw: fromEnv, name: STACK_ENV[key] };
    return undefined;
  };
  const phase = pick('phase');
  const traces = pick('traces');
  const source = pick('source');
  const ports = pick('ports');
  return {
    phase: phase === undefined ? defaults.phase : oneOf(phase.name, PHASES, phase.raw),
    traces: traces === undefined ? defaults.traces : oneOf(traces.name, TRACES_BACKENDS, traces.raw),
    source: source === undefined ? defaults.source : oneOf(source.name, IMAGE_SOURCES, source.raw),
    ports: ports === undefined ? defaults.ports : oneOf(ports.name, PORT_MODES, ports.raw),
  };
}
