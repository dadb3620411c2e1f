import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configurationError } from '../harness-error.js';
import { stacksDir } from '../paths.js';
import { HOST_DIR_PREFIX } from './docker/cleanup.js';
import { parse } from 'yaml';
import {
  containerLogPath,
  LOG_FILE_FORMATS,
  type ContainerLogLayout,
  type LogFileFormat,
} from '../load/files/container-log-writer.js';
import { byteSize, number, oneOf, type OptionDef } from '../options/option-table.js';
import { SOAK_SERVICE_NAME } from '../load/run-identity.js';
import { globRegExp } from './glob.js';
import { LOG_AGENTS, type LogAgentKind } from '../observe/agent-read-watch.js';
import { promtailReadsNot } from './promtail.js';

/** The pod the harness's log lines come from: its namespace and name (the container is the soak's service). */
export const HARNESS_POD = { namespace: 'otel-harness', name: 'otel-harness-loadgen' } as const;

/** What `--log-source file` asks of the files: format and the kubelet's rotation limits. */
export interface LogFileChoice {
  /** The agent that reads them: the collector's filelog receiver (seed 003) or Promtail (seed 004). */
  agent: LogAgentKind;
  format: LogFileFormat;
  maxBytes: number;
  maxFiles: number;
}

export const LOG_SOURCES = ['otlp', 'file'] as const;

/** The options of a topology that takes `--log-source file`, as read from LOG_FILE_OPTIONS. */
export interface LogFileFlags {
  logSource: (typeof LOG_SOURCES)[number];
  logAgent: LogAgentKind;
  logFormat: LogFileFormat;
  logRotateBytes: number;
  logRotateFiles: number;
}

const FILE_SOURCE = { key: 'logSource', value: 'file' };

/** `--log-source` and the files' format and rotation: one set of options for every topology with a node agent. */
export const LOG_FILE_OPTIONS: readonly OptionDef[] = [
  {
    key: 'logSource',
    flag: 'log-source',
    default: 'otlp',
    parse: oneOf(LOG_SOURCES),
    help:
      'how logs enter: otlp (pushed to the collector), or file (lines in container log files that a node ' +
      "agent, the collector's filelog receiver with checkpoints, reads and forwards: a container in Phases 1 and 2 " +
      '(--collector-config agent=FILE), a DaemonSet in Phase 3)',
  },
  {
    key: 'logAgent',
    onlyWith: FILE_SOURCE,
    flag: 'log-agent',
    default: 'filelog',
    parse: oneOf(LOG_AGENTS),
    help:
      '--log-source file: the node agent that reads the files — filelog (the collector with checkpoints, forwarding ' +
      "to the collectors: seed 003) or promtail (pushing to Loki itself: seed 004's; Phases 1 and 2, " +
      'stacks/phase1/promtail.yaml or --collector-config agent=FILE with a Promtail configuration)',
  },
  {
    key: 'logFormat',
    onlyWith: FILE_SOURCE,
    flag: 'log-format',
    default: 'cri',
    parse: oneOf(LOG_FILE_FORMATS),
    help: "--log-source file: the runtime's line format, cri (containerd, CRI-O) or docker (json-file)",
  },
  {
    key: 'logRotateBytes',
    onlyWith: FILE_SOURCE,
    flag: 'log-rotate-size',
    default: '10Mi',
    parse: byteSize(4096),
    help: "--log-source file: rotate a container log at this size, as the kubelet's containerLogMaxSize",
  },
  {
    key: 'logRotateFiles',
    onlyWith: FILE_SOURCE,
    flag: 'log-rotate-files',
    default: '5',
    parse: number('a whole number ≥ 2', (n) => Number.isInteger(n) && n >= 2),
    help: '--log-source file: files kept per container, the current one included (containerLogMaxFiles)',
  },
];

/** The files' format and rotation with `--log-source file`; undefined for OTLP. */
export function logFileChoice(o: LogFileFlags): LogFileChoice | undefined {
  return o.logSource === 'file'
    ? { agent: o.logAgent, format: o.logFormat, maxBytes: o.logRotateBytes, maxFiles: o.logRotateFiles }
    : undefined;
}

/** A pod UID (a UUID's shape, lower-case hex) derived from the run, so each stack's pod directory is its own. */
export function podUid(runId: string): string {
  const h = createHash('sha256').update(runId).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The harness container's log layout under `root` (the host directory mounted as the agent's /var/log/pods). */
export function harnessLogLayout(root: string, runId: string, choice: LogFileChoice): ContainerLogLayout {
  return {
    root,
    pod: { ...HARNESS_POD, uid: podUid(runId) },
    container: SOAK_SERVICE_NAME,
    format: choice.format,
    maxBytes: choice.maxBytes,
    maxFiles: choice.maxFiles,
  };
}

/**
 * Why an agent configuration reads no line the harness writes to `path` (as the agent sees it), or undefined
 * when a filelog receiver of one of its logs pipelines includes the file and excludes it not. The
 * collector's own `validate` checks the rest.
 */
export function agentReadsNot(config: string, path: string): string | undefined {
  let raw: {
    receivers?: Record<string, { include?: unknown; exclude?: unknown } | null>;
    service?: { pipelines?: Record<string, { receivers?: string[] } | null> };
  };
  try {
    raw = (parse(config) as typeof raw | null) ?? {};
  } catch (err) {
    return `it is not YAML (${(err as Error).message.split('\n')[0]})`;
  }
  const inLogs = new Set(
    Object.entries(raw.service?.pipelines ?? {})
      .filter(([name, p]) => name.split('/')[0] === 'logs' && p !== null)
      .flatMap(([, p]) => p?.receivers ?? []),
  );
  const filelogs = [...inLogs].filter((r) => /^file_?log(\/|$)/.test(r));
  if (filelogs.length === 0)
    return `no logs pipeline has a filelog receiver (logs pipelines' receivers: ${[...inLogs].join(', ') || 'none'})`;
  const globs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((g): g is string => typeof g === 'string') : []);
  const seen: string[] = [];
  for (const name of filelogs) {
    const r = raw.receivers?.[name] ?? {};
    const include = globs(r.include);
    const exclude = globs(r.exclude);
    seen.push(
      `${name} includes [${include.join(', ')}]${exclude.length > 0 ? ` excludes [${exclude.join(', ')}]` : ''}`,
    );
    if (include.some((g) => globRegExp(g).test(path)) && !exclude.some((g) => globRegExp(g).test(path)))
      return undefined;
  }
  return `its filelog receivers do not read ${path}, where the harness writes the logs: ${seen.join('; ')}`;
}

/** `agentReadsNot` for the harness's file under the agent's `/var/log/pods`. */
export function agentReadsNotHarnessFile(config: string, logRoot: string, choice: LogFileChoice): string | undefined {
  const path = containerLogPath(harnessLogLayout(logRoot, 'check', choice), logRoot);
  return choice.agent === 'promtail' ? promtailReadsNot(config, path) : agentReadsNot(config, path);
}

/**
 * A run's pod log directory on the host (`$TMPDIR/otel-harness-pods-<run id>-…`, removed by `down` after a
 * SIGKILL), which an agent running as its own user can enter.
 */
export function makePodLogsDir(runId: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${HOST_DIR_PREFIX}${runId}-`));
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * `--log-source file`: the agent configuration (a user's `--collector-config agent=FILE`, else
 * stacks/phase1/agent.yaml) must read the file the harness writes under `logRoot`; exit 2 naming its
 * include and exclude patterns otherwise.
 */
export function checkAgentReadsFiles(agentConfig: string | undefined, logRoot: string, choice: LogFileChoice): void {
  const file = `${choice.agent === 'promtail' ? 'promtail' : 'agent'}.yaml`;
  const shipped = `stacks/phase1/${file}`;
  const why = agentReadsNotHarnessFile(
    readFileSync(agentConfig ?? join(stacksDir(), 'phase1', file), 'utf8'),
    logRoot,
    choice,
  );
  if (why !== undefined)
    throw configurationError(
      '--collector-config',
      `an agent configuration that reads the container log files the harness writes${choice.agent === 'promtail' ? ' (a Promtail configuration with --log-agent promtail)' : ''}`,
      `agent=${agentConfig ?? shipped}: ${why}`,
    );
}

/**
 * `logFileChoice` where the topology runs only the collector's filelog agent (Phases 2 and 3):
 * `--log-agent promtail` is exit 2.
 */
export function filelogChoice(o: LogFileFlags, phase: number): LogFileChoice | undefined {
  const choice = logFileChoice(o);
  if (choice?.agent === 'promtail')
    throw configurationError(
      '--log-agent',
      `filelog with --phase ${phase} (Promtail runs beside the Docker stacks of Phases 1 and 2; Phase ${phase}'s node agent is the collector's filelog receiver)`,
      'promtail',
    );
  return choice;
}
