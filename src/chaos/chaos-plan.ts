import { configurationError } from '../harness-error.js';
import { formatDuration, parseDurationMs } from '../options/duration.js';
import { CHAOS_ACTIONS, FAULTS } from './faults/registry.js';

export { CHAOS_ACTIONS } from './faults/registry.js';

/** A fault's action: a key of the fault registry (src/chaos/faults/registry.ts). */
export type ChaosAction = string;

export interface ChaosFault {
  action: ChaosAction;
  /** Stack service name (collector → otelcol), or a role for scale. */
  target: string;
  /** When the fault starts, ms into the load. */
  atMs: number;
  /** How long it lasts (0 for an instant kill/restart). */
  durationMs: number;
  /** restart: grace seconds; throttle: CPUs; scale: instances. */
  value: number | undefined;
  /** The fault as written. */
  spec: string;
}

const ALIASES: Record<string, string> = { collector: 'otelcol', 'otel-collector': 'otelcol' };

/**
 * Parses `action:target@at[+duration][=value]`, e.g. `kill:collector@60s`, `pause:loki@30s+20s`, checked
 * against what the fault's module (src/chaos/faults/) says it takes and the topology's targets.
 */
export function parseFault(
  spec: string,
  services: readonly string[],
  aliases: Readonly<Record<string, string>> = {},
  scalable: readonly string[] = [],
): ChaosFault {
  const m = /^([a-z]+):([a-z0-9-]+)@([0-9.]+[a-z]*)(?:\+([0-9.]+[a-z]*))?(?:=([0-9.]+))?$/.exec(spec.trim());
  if (m === null)
    throw configurationError(
      '--chaos',
      "faults like 'kill:collector@60s', 'pause:loki@30s+20s', 'throttle:collector@10s+30s=0.25', 'scale:gateway@60s=3'",
      spec,
    );
  const [, action, targetRaw, atRaw, durationRaw, valueRaw] = m as unknown as [
    string,
    string,
    string,
    string,
    string?,
    string?,
  ];
  const kind = FAULTS[action];
  if (kind === undefined) throw configurationError('--chaos action', `one of ${CHAOS_ACTIONS.join(', ')}`, action);
  let target: string;
  if (kind.targets === 'role') {
    if (scalable.length === 0)
      throw configurationError(`--chaos ${action}`, 'a topology with scalable roles (--phase 2)', spec);
    if (!scalable.includes(targetRaw))
      throw configurationError(`--chaos ${action} target`, `one of ${scalable.join(', ')}`, targetRaw);
    target = targetRaw;
  } else {
    target = aliases[targetRaw] ?? ALIASES[targetRaw] ?? targetRaw;
    if (!services.includes(target))
      throw configurationError(
        '--chaos target',
        `one of collector, ${services.filter((s) => s !== 'otelcol').join(', ')}`,
        targetRaw,
      );
    if (kind.targets === 'backend' && target === 'otelcol')
      throw configurationError(
        `--chaos ${action} target`,
        'a backend (the collector keeps its network; the backend is cut off)',
        targetRaw,
      );
  }
  if (kind.duration === 'refused' && durationRaw !== undefined)
    throw configurationError(`--chaos ${action}`, `no +duration (${kind.help})`, spec);
  const durationMs = durationRaw === undefined ? 0 : parseDurationMs(durationRaw, `--chaos ${spec} duration`);
  if (kind.duration === 'required' && durationMs <= 0)
    throw configurationError(`--chaos ${action}`, `a duration, e.g. ${action}:${targetRaw}@30s+20s`, spec);
  let value: number | undefined;
  if (kind.value === undefined) {
    if (valueRaw !== undefined) throw configurationError(`--chaos ${action}`, 'no =value', spec);
  } else {
    value = valueRaw === undefined ? kind.value.default : Number(valueRaw);
    if (value === undefined || !kind.value.valid(value))
      throw configurationError(`--chaos ${action}`, `${kind.value.rule}, e.g. ${kind.value.example}`, spec);
  }
  return {
    action,
    target,
    atMs: parseDurationMs(atRaw, `--chaos ${spec} start`),
    durationMs,
    value,
    spec: spec.trim(),
  };
}

/** The window a fault keeps its container disturbed (a restart's grace counts). */
export function faultWindow(f: ChaosFault): { startMs: number; endMs: number } {
  const extra = FAULTS[f.action]?.extraWindowMs?.(f.value) ?? 0;
  return { startMs: f.atMs, endMs: f.atMs + Math.max(f.durationMs, extra) };
}

/**
 * Parses and checks a schedule: every fault starts before the load ends, and faults on one container do
 * not overlap. Any violation is a configuration error (exit 2) before anything starts.
 */
export function planFaults(
  specs: readonly string[],
  services: readonly string[],
  loadDurationMs: number,
  aliases: Readonly<Record<string, string>> = {},
  scalable: readonly string[] = [],
): ChaosFault[] {
  const faults = specs
    .filter((s) => s.trim() !== '')
    .map((s) => parseFault(s, services, aliases, scalable))
    .sort((a, b) => a.atMs - b.atMs);
  for (const f of faults) {
    if (f.atMs >= loadDurationMs) {
      throw configurationError(
        `--chaos ${f.spec}`,
        `a start before the load ends (${formatDuration(loadDurationMs)})`,
        formatDuration(f.atMs),
      );
    }
  }
  for (let i = 0; i < faults.length; i++) {
    for (let j = i + 1; j < faults.length; j++) {
      const a = faults[i]!;
      const b = faults[j]!;
      if (a.target !== b.target) continue;
      const wa = faultWindow(a);
      const wb = faultWindow(b);
      if (wb.startMs <= wa.endMs)
        throw configurationError('--chaos', `faults on ${a.target} that do not overlap`, `${a.spec} and ${b.spec}`);
    }
  }
  return faults;
}
