import { configurationError } from '../harness-error.js';
import { formatDuration, parseDurationMs } from '../options/duration.js';

/**
 * Faults a run can inject:
 *  - kill      SIGKILL, then start again at once (or after +duration)
 *  - restart   graceful: SIGTERM with =<seconds> grace (default 30, the seeds' stop_grace_period), then start
 *  - pause     freeze the container's processes for +duration, then unpause
 *  - partition disconnect a backend from the run network (the collector cannot reach it) for +duration
 *  - outage    stop a component for +duration, then start it (longer than the exporter's retry
 *              max_elapsed_time to provoke its give-up)
 *  - throttle  limit the container to =<cpus> CPUs for +duration
 *  - scale     resize a scalable role (Phase 2: gateway, processor) to =<count> instances
 */
export const CHAOS_ACTIONS = ['kill', 'restart', 'pause', 'partition', 'outage', 'throttle', 'scale'] as const;
export type ChaosAction = (typeof CHAOS_ACTIONS)[number];

export interface ChaosFault {
  action: ChaosAction;
  /** Stack service name (collector → otelcol). */
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

const NEEDS_DURATION: readonly ChaosAction[] = ['pause', 'partition', 'outage', 'throttle'];
const ALIASES: Record<string, string> = { collector: 'otelcol', 'otel-collector': 'otelcol' };
const DEFAULT_GRACE_S = 30;

/** Parses `action:target@at[+duration][=value]`, e.g. `kill:collector@60s`, `pause:loki@30s+20s`. */
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
  const [, actionRaw, targetRaw, atRaw, durationRaw, valueRaw] = m;
  if (!(CHAOS_ACTIONS as readonly string[]).includes(actionRaw!)) {
    throw configurationError('--chaos action', `one of ${CHAOS_ACTIONS.join(', ')}`, actionRaw);
  }
  const action = actionRaw as ChaosAction;
  if (action === 'scale') return parseScale(spec, targetRaw!, atRaw!, durationRaw, valueRaw, scalable);
  const target = aliases[targetRaw!] ?? ALIASES[targetRaw!] ?? targetRaw!;
  if (!services.includes(target))
    throw configurationError(
      '--chaos target',
      `one of collector, ${services.filter((s) => s !== 'otelcol').join(', ')}`,
      targetRaw,
    );
  if (action === 'partition' && target === 'otelcol') {
    throw configurationError(
      '--chaos partition target',
      'a backend (the collector keeps its network; the backend is cut off)',
      targetRaw,
    );
  }
  const durationMs = durationRaw === undefined ? 0 : parseDurationMs(durationRaw, `--chaos ${spec} duration`);
  if (NEEDS_DURATION.includes(action) && durationMs <= 0)
    throw configurationError(`--chaos ${action}`, `a duration, e.g. ${action}:${targetRaw}@30s+20s`, spec);
  let value: number | undefined;
  if (action === 'restart') value = valueRaw === undefined ? DEFAULT_GRACE_S : Number(valueRaw);
  if (action === 'throttle') {
    value = Number(valueRaw);
    if (valueRaw === undefined || !(value > 0))
      throw configurationError('--chaos throttle', 'a CPU limit, e.g. throttle:collector@10s+30s=0.25', spec);
  }
  if (valueRaw !== undefined && action !== 'restart' && action !== 'throttle')
    throw configurationError(`--chaos ${action}`, 'no =value', spec);
  return {
    action,
    target,
    atMs: parseDurationMs(atRaw!, `--chaos ${spec} start`),
    durationMs,
    value,
    spec: spec.trim(),
  };
}

/** `scale:<role>@<at>=<count>`: a role of the topology, a whole number of instances, no duration. */
function parseScale(
  spec: string,
  role: string,
  atRaw: string,
  durationRaw: string | undefined,
  valueRaw: string | undefined,
  scalable: readonly string[],
): ChaosFault {
  if (scalable.length === 0)
    throw configurationError('--chaos scale', 'a topology with scalable roles (--phase 2)', spec);
  if (!scalable.includes(role)) throw configurationError('--chaos scale target', `one of ${scalable.join(', ')}`, role);
  const count = Number(valueRaw);
  if (valueRaw === undefined || !Number.isInteger(count) || count < 1)
    throw configurationError('--chaos scale', `a number of instances, e.g. scale:${role}@60s=3`, spec);
  if (durationRaw !== undefined) throw configurationError('--chaos scale', 'no +duration (a scale stays)', spec);
  return {
    action: 'scale',
    target: role,
    atMs: parseDurationMs(atRaw, `--chaos ${spec} start`),
    durationMs: 0,
    value: count,
    spec: spec.trim(),
  };
}

/** The window a fault keeps its container disturbed (a restart's grace counts). */
export function faultWindow(f: ChaosFault): { startMs: number; endMs: number } {
  const grace = f.action === 'restart' ? (f.value ?? DEFAULT_GRACE_S) * 1000 : 0;
  return { startMs: f.atMs, endMs: f.atMs + Math.max(f.durationMs, grace) };
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
