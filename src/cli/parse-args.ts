import { parseArgs as parseNodeArgs } from 'node:util';
import { didYouMean } from '../options/suggest.js';
import { chaosPresetsDir, listChaosPresets, loadChaosPreset } from '../chaos/chaos-presets.js';
import { isRunId } from '../docker/labels.js';
import { configurationError, ExitCode, HarnessError } from '../harness-error.js';
import { isDnsLabel } from '../k8s/k6-testrun.js';
import { k6Scenario } from '../load/drivers/k6/k6-scenarios.js';
import { parseDurationMs } from '../options/duration.js';
import { bool, duration, envName, keyValue, positiveInt, text, type OptionTable } from '../options/option-table.js';
import { SIGNALS, type Signal } from '../load/ledger.js';
import { ATTACH_OPTIONS } from '../stack/attach/index.js';
import { flagSpecs, resolveOptions, type RawFlags } from '../options/resolve.js';
import { resolveSoakOptions, SOAK_OPTIONS } from '../soak/soak-options.js';
import { CAPACITY_OPTIONS, resolveCapacityOptions } from '../capacity/capacity-options.js';
import type { CapacityPlan } from '../capacity/capacity.js';
import type { GatePlan } from '../gate/gate.js';
import { GATE_OPTIONS, resolveDesign, resolveGateOptions } from '../gate/gate-options.js';
import { checkDriverFitsStack, planSoak, type SoakPlan } from '../soak/soak-plan.js';
import { TOPOLOGIES } from '../stack/registry.js';
import { PORTS_OPTION, resolveStack, STACK_OPTIONS, type ResolvedStack } from '../stack/stack-options.js';
import type { PortMode } from '../stack/docker/boot.js';

export type Command =
  | { name: 'help'; topic?: string }
  | { name: 'version' }
  | { name: 'up'; stack: ResolvedStack; json: boolean; printSpec: boolean }
  | { name: 'soak'; plan: SoakPlan }
  | { name: 'chaos'; preset: string; plan: SoakPlan }
  | { name: 'capacity'; plan: CapacityPlan; reportDir: string; json: boolean }
  | { name: 'gate'; plan: GatePlan; reportDir: string; json: boolean }
  | { name: 'verify'; options: VerifyOptions }
  | { name: 'down'; runId: string | undefined }
  | { name: 'images-build'; components: string[]; force: boolean; verbose: boolean }
  | { name: 'images-list'; json: boolean }
  | { name: 'k6-build'; k6Path: string | undefined }
  | { name: 'k6-manifest'; options: K6ManifestOptions };

/** `otel-harness k6 manifest`: a k6-operator TestRun running a scenario on several runners. */
export interface K6ManifestOptions {
  scenario: string;
  parallelism: number;
  rateRps: number;
  durationMs: number;
  /** OTLP/HTTP endpoint as the runners reach it inside the cluster. */
  endpoint: string;
  namespace: string;
  name: string;
  image: string | undefined;
  k6Path: string | undefined;
}

/** `verify --run-id`: verify a finished run again from its ledger. */
export interface VerifyOptions {
  runId: string;
  reportDir: string;
  verifySample: number | undefined;
  json: boolean;
  /** Without a ledger (a k6-operator run): items per signal, seqs 0…n−1 taken as acknowledged. */
  expected: Partial<Record<Signal, number>>;
  /** …sent within this long before now. */
  sinceMs: number;
  spansPerTrace: number;
  /** Where the backends are, when there is no ledger (attach-mode options). */
  attach: Record<string, unknown> | undefined;
}

export const VERIFY_OPTIONS: OptionTable = {
  name: 'verify',
  title: 'verify options',
  options: [
    {
      key: 'runId',
      flag: 'run-id',
      default: undefined,
      parse: text,
      help: 'the run to verify (its reports/<run id>/ledger.json)',
    },
    { key: 'reportDir', flag: 'report-dir', default: 'reports', parse: text, help: 'where reports/<run id>/ is' },
    {
      key: 'verifySample',
      flag: 'verify-sample',
      default: undefined,
      parse: positiveInt,
      help: 'check only a uniform sample of this many traces',
    },
    { key: 'json', flag: 'json', default: 'false', parse: bool, help: 'print result.json on stdout', boolean: true },
    {
      key: 'expected',
      flag: 'expected',
      default: undefined,
      parse: keyValue('a signal and its item count'),
      repeatable: true,
      help: 'without a ledger (a k6-operator run): SIGNAL=ITEMS, seqs from 0 taken as acknowledged',
    },
    {
      key: 'sinceMs',
      flag: 'since',
      default: '1h',
      parse: duration,
      help: 'with --expected: the items were sent within this long',
    },
    {
      key: 'spansPerTrace',
      flag: 'spans-per-trace',
      default: '5',
      parse: positiveInt,
      help: 'with --expected: spans per trace',
    },
  ],
};

/** Soak flags a gate refuses: its trials are steady, fault-free and verified in full. */
export const GATE_REFUSED_FLAGS = [
  'chaos',
  'chaos-file',
  'verify-sample',
  'verify-from-store',
  'store-handover',
  'profile',
] as const;

export const COMMANDS = ['soak', 'chaos', 'capacity', 'gate', 'verify', 'up', 'down', 'images', 'k6', 'help'] as const;
export const IMAGES_SUBCOMMANDS = ['build', 'list'] as const;

type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;

const K6_MANIFEST_SPEC: OptionSpec = {
  scenario: { type: 'string' },
  parallelism: { type: 'string' },
  rate: { type: 'string' },
  duration: { type: 'string' },
  'k6-endpoint': { type: 'string' },
  namespace: { type: 'string' },
  name: { type: 'string' },
  image: { type: 'string' },
  k6: { type: 'string' },
};

/** The options each command (and subcommand) takes: what it parses, and what its help lists. */
export function commandSpecs(): Record<string, OptionSpec> {
  return {
    up: { ...flagSpecs(UP_STACK_TABLES), json: { type: 'boolean' }, 'print-spec': { type: 'boolean' } },
    soak: flagSpecs([...ALL_STACK_TABLES, SOAK_OPTIONS]),
    chaos: flagSpecs([...ALL_STACK_TABLES, SOAK_OPTIONS]),
    capacity: flagSpecs([...ALL_STACK_TABLES, SOAK_OPTIONS, CAPACITY_OPTIONS]),
    gate: flagSpecs([SOAK_OPTIONS, GATE_OPTIONS]),
    verify: flagSpecs([VERIFY_OPTIONS, ATTACH_OPTIONS]),
    down: { 'run-id': { type: 'string' } },
    'images build': { force: { type: 'boolean' }, verbose: { type: 'boolean' } },
    'images list': { json: { type: 'boolean' } },
    'k6 build': { k6: { type: 'string' } },
    'k6 manifest': K6_MANIFEST_SPEC,
  };
}

function parse(
  command: string,
  args: string[],
  options: OptionSpec,
): { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] } {
  try {
    const parsed = parseNodeArgs({
      args,
      options: { ...options, help: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
    return { values: parsed.values, positionals: parsed.positionals };
  } catch (err) {
    // node:util reports unknown options and missing values as TypeErrors with a code.
    const message = err instanceof Error ? err.message : String(err);
    const code = (err as { code?: string }).code;
    const option = /'([^']+)'/.exec(message)?.[1] ?? message;
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const flag = /^(--?[\w-]+)/.exec(option)?.[1] ?? option;
      throw new HarnessError(`Configuration: ${flag} needs a value`, {
        code: 'CONFIGURATION',
        exitCode: ExitCode.usage,
        hint: `\`otel-harness ${command} --help\` says what it takes`,
      });
    }
    throw unknownOption(command, option, Object.keys(options));
  }
}

/**
 * One message for an option the command does not take: the nearest options it does take, or the
 * commands the option belongs to — never the whole list (`--help` has it).
 */
function unknownOption(command: string, option: string, known: readonly string[]): HarnessError {
  const name = option.replace(/^-+/, '').replace(/=.*$/, '');
  const elsewhere = Object.entries(commandSpecs())
    .filter(([c, spec]) => c !== command && Object.hasOwn(spec, name))
    .map(([c]) => c);
  const hint =
    elsewhere.length > 0 && !known.includes(name)
      ? `--${name} is an option of ${elsewhere.join(', ')}`
      : (didYouMean(name, known, '--') ?? undefined);
  return new HarnessError(`Configuration: ${command} has no option ${option.startsWith('-') ? option : `--${name}`}`, {
    code: 'CONFIGURATION',
    exitCode: ExitCode.usage,
    hint: `${hint === undefined ? '' : `${hint}; `}\`otel-harness ${command} --help\` lists its options`,
  });
}

function noArguments(command: string, positionals: readonly string[]): void {
  if (positionals.length > 0)
    throw configurationError('argument', `no positional arguments for ${command}`, positionals[0]);
}

function resolveManifestOptions(
  values: Record<string, string | boolean | (string | boolean)[] | undefined>,
): K6ManifestOptions {
  const scenario = k6Scenario(str(values.scenario) ?? 'traces').name;
  const parallelismRaw = str(values.parallelism);
  if (parallelismRaw === undefined)
    throw configurationError('--parallelism', 'the number of k6 runners (a whole number ≥ 1)', 'missing');
  const parallelism = Number(parallelismRaw);
  if (!Number.isInteger(parallelism) || parallelism < 1)
    throw configurationError('--parallelism', 'a whole number ≥ 1', parallelismRaw);
  const rateRaw = str(values.rate) ?? '1000';
  const rateRps = Number(rateRaw);
  if (!Number.isFinite(rateRps) || rateRps <= 0) throw configurationError('--rate', 'a number > 0', rateRaw);
  const name = str(values.name) ?? `otel-harness-${scenario}`;
  if (!isDnsLabel(name))
    throw configurationError('--name', 'a lower-case DNS label (a-z, 0-9, -), at most 63 characters', name);
  const namespace = str(values.namespace) ?? 'default';
  if (!isDnsLabel(namespace)) throw configurationError('--namespace', 'a lower-case DNS label', namespace);
  const endpoint = str(values['k6-endpoint']) ?? 'http://otel-collector:4318';
  if (!/^https?:\/\/[^/\s]+/.test(endpoint))
    throw configurationError('--k6-endpoint', "an http(s) URL of the collector's OTLP/HTTP receiver", endpoint);
  return {
    scenario,
    parallelism,
    rateRps,
    durationMs: parseDurationMs(str(values.duration) ?? '1m', '--duration'),
    endpoint,
    namespace,
    name,
    image: str(values.image),
    k6Path: str(values.k6),
  };
}

function str(value: string | boolean | (string | boolean)[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** parseArgs values → raw flags for the resolver (booleans as 'true'/'false'). */
function rawFlags(values: Record<string, string | boolean | (string | boolean)[] | undefined>): RawFlags {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [
      k,
      typeof v === 'boolean' ? String(v) : Array.isArray(v) ? v.map(String) : v,
    ]),
  );
}

/** Every stack flag any topology understands (another topology's flags are refused by the resolver by name). */
const ALL_STACK_TABLES: OptionTable[] = [STACK_OPTIONS, ...TOPOLOGIES.map((t) => t.options)];

/** `up` boots a stack: every topology's options but attach mode's (there is nothing to boot). */
export const UP_STACK_TABLES: OptionTable[] = [
  STACK_OPTIONS,
  ...TOPOLOGIES.filter((t) => t.capabilities.boots).map((t) => t.options),
  PORTS_OPTION,
];

/**
 * The environment of a command that boots its stacks (up, chaos, capacity, gate): OTEL_EXPORTER_OTLP_ENDPOINT,
 * which selects attach mode for soak, is an application's setting there, not a target.
 */
function bootingEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const rest = { ...env };
  delete rest.OTEL_EXPORTER_OTLP_ENDPOINT;
  return rest;
}

function soakPlanOf(flags: RawFlags, env: NodeJS.ProcessEnv): SoakPlan {
  const stack = resolveStack(flags, env, 'random');
  return planSoak(resolveSoakOptions(flags, env), stack);
}

/** Environment variables of the harness that are no option: where its cache is, which Chromium opens reports. */
const OTHER_VARIABLES = ['OTEL_HARNESS_CACHE', 'OTEL_HARNESS_CHROMIUM'];

/**
 * An `OTEL_HARNESS_*` variable that names no option of any command is a typo that would silently be
 * ignored: one message, exit 2, with the nearest names.
 */
function checkEnvironment(env: NodeJS.ProcessEnv): void {
  const known = new Set(OTHER_VARIABLES);
  // Only the options the resolver reads (k6 manifest, images and down take flags only).
  const specs = commandSpecs();
  for (const command of ['up', 'soak', 'chaos', 'capacity', 'gate', 'verify'])
    for (const flag of Object.keys(specs[command] ?? {})) known.add(envName(flag));
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('OTEL_HARNESS_') || known.has(name)) continue;
    throw new HarnessError(`Configuration: the environment variable ${name} names no option of otel-harness`, {
      code: 'CONFIGURATION',
      exitCode: ExitCode.usage,
      hint: `${didYouMean(name, [...known]) ?? 'each option --x-y is read from OTEL_HARNESS_X_Y'}; unset it or correct it`,
    });
  }
}

/**
 * Parses the command line (without `node` and the script). Pure: the environment is passed in, nothing
 * starts. Invalid input throws a configuration error (exit 2) naming the valid values.
 */
export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Command {
  const [first, ...rest] = argv;
  if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
    if (first !== 'help' || rest[0] === undefined) return { name: 'help' };
    const topics = COMMANDS.filter((c) => c !== 'help');
    if (!(topics as readonly string[]).includes(rest[0]))
      throw configurationError(
        'help topic',
        `a command: one of ${topics.join(', ')}`,
        rest[0],
        didYouMean(rest[0], topics),
      );
    return { name: 'help', topic: rest[0] };
  }
  if (first === '--version' || first === '-v') return { name: 'version' };
  checkEnvironment(env);

  switch (first) {
    case 'up': {
      const { values, positionals } = parse('up', rest, commandSpecs().up!);
      if (values.help === true) return { name: 'help', topic: 'up' };
      noArguments('up', positionals);
      const flags = rawFlags(values);
      const ports = resolveOptions([PORTS_OPTION], flags, env).values.ports as PortMode;
      return {
        name: 'up',
        stack: resolveStack(flags, bootingEnv(env), ports),
        json: values.json === true,
        printSpec: values['print-spec'] === true,
      };
    }
    case 'soak': {
      const { values, positionals } = parse('soak', rest, commandSpecs().soak!);
      if (values.help === true) return { name: 'help', topic: 'soak' };
      noArguments('soak', positionals);
      return { name: 'soak', plan: soakPlanOf(rawFlags(values), env) };
    }
    case 'chaos': {
      // chaos = soak with a preset of faults (stacks/chaos/<name>.yaml); its --scenario names the preset.
      const { values, positionals } = parse('chaos', rest, commandSpecs().chaos!);
      if (values.help === true) return { name: 'help', topic: 'chaos' };
      noArguments('chaos', positionals);
      const presetName = str(values.scenario);
      // Presets are per phase (stacks/chaos for Phase 1, stacks/chaos/phase<N> otherwise).
      const phase = str(values.phase) ?? env.OTEL_HARNESS_PHASE ?? '1';
      const presets = chaosPresetsDir(phase);
      if (presetName === undefined)
        throw configurationError(
          '--scenario',
          `a chaos preset of phase ${phase}: one of ${listChaosPresets(presets).join(', ')}`,
          'missing',
        );
      const preset = loadChaosPreset(presetName, presets);
      const user = rawFlags(Object.fromEntries(Object.entries(values).filter(([k]) => k !== 'scenario')));
      const flags = {
        ...preset.defaults,
        ...(preset.faults.length > 0 ? { chaos: preset.faults.join(',') } : {}),
        ...user,
      };
      return { name: 'chaos', preset: preset.name, plan: soakPlanOf(flags, bootingEnv(env)) };
    }
    case 'capacity': {
      const { values, positionals } = parse('capacity', rest, commandSpecs().capacity!);
      if (values.help === true) return { name: 'help', topic: 'capacity' };
      noArguments('capacity', positionals);
      const flags = rawFlags(values);
      const options = resolveCapacityOptions(flags, env);
      // Each trial sets its own rate and length; the rest of the load's shape comes from the soak options.
      const soak = resolveSoakOptions({ ...flags, rate: String(options.fromRps) }, env);
      const stack = resolveStack(flags, bootingEnv(env), 'random');
      if (!stack.topology.capabilities.boots)
        throw configurationError(
          '--target',
          'a stack booted by the search (--phase 1 or 2): trials measure its containers',
          typeof stack.options.target === 'string' ? stack.options.target : 'attach flags',
        );
      checkDriverFitsStack(soak.driver, stack);
      if (/=/.test(soak.signals))
        throw configurationError(
          '--signals',
          'signals without rates (the search sets the total rate; signals share it evenly)',
          soak.signals,
        );
      return { name: 'capacity', plan: { options, soak, stack }, reportDir: soak.reportDir, json: soak.json };
    }
    case 'gate': {
      const { values, positionals } = parse('gate', rest, commandSpecs().gate!);
      if (values.help === true) return { name: 'help', topic: 'gate' };
      noArguments('gate', positionals);
      const flags = rawFlags(values);
      for (const flag of GATE_REFUSED_FLAGS)
        if (flags[flag] !== undefined)
          throw configurationError(
            `--${flag}`,
            'nothing: a gate compares the two specs at a steady load, with no faults and every item verified',
            flags[flag],
          );
      const soak = resolveSoakOptions(flags, env);
      const options = resolveGateOptions(flags, env, soak.durationMs);
      // Each spec is resolved (and checked) before anything is built: a bad one is exit 2 here.
      const armOf = (flag: string, file: string) => {
        let resolved: ResolvedStack;
        try {
          resolved = resolveStack({ stack: file }, bootingEnv(env), 'random');
        } catch (err) {
          if (!(err instanceof HarnessError)) throw err;
          throw configurationError(
            `--${flag}`,
            'a valid stack spec (YAML, `up --print-spec`)',
            `${file}: ${err.message}`,
          );
        }
        if (!resolved.topology.capabilities.boots)
          throw configurationError(`--${flag}`, 'a spec of a stack the gate boots (phase 1 or 2)', file);
        checkDriverFitsStack(soak.driver, resolved);
        return resolved;
      };
      const baseline = armOf('baseline', options.baseline);
      const candidate = armOf('candidate', options.candidate);
      resolveDesign(options, baseline.topology, candidate.topology);
      const plan: GatePlan = { baseline, candidate, soak, options };
      if (options.atKneeFraction !== undefined) {
        if (/=/.test(soak.signals))
          throw configurationError(
            '--signals',
            'signals without rates with --at-knee-fraction (the knee is searched on the total rate)',
            soak.signals,
          );
        // The knee is searched with the capacity defaults, to 10 %: the trials run well below it anyway.
        plan.knee = resolveCapacityOptions({ precision: '10%' }, env);
      }
      return { name: 'gate', plan, reportDir: soak.reportDir, json: soak.json };
    }
    case 'verify': {
      const { values, positionals } = parse('verify', rest, commandSpecs().verify!);
      if (values.help === true) return { name: 'help', topic: 'verify' };
      noArguments('verify', positionals);
      const flags = rawFlags(values);
      const v = resolveOptions([VERIFY_OPTIONS], flags, env).values;
      const expected: Partial<Record<Signal, number>> = {};
      for (const { key, value } of v.expected as { key: string; value: string }[]) {
        if (!(SIGNALS as readonly string[]).includes(key))
          throw configurationError('--expected', `signals from ${SIGNALS.join(', ')}`, key);
        const n = Number(value);
        if (!Number.isInteger(n) || n <= 0)
          throw configurationError(`--expected ${key}`, 'a whole number of items > 0', value);
        expected[key as Signal] = n;
      }
      const attachGiven = ATTACH_OPTIONS.options.some((o) => flags[o.flag] !== undefined);
      if (v.runId === undefined)
        throw configurationError('--run-id', 'the id of a finished run (reports/<run id>/)', 'missing');
      if (!isRunId(v.runId as string))
        throw configurationError('--run-id', 'a run id like oh-20260101-120000-0123456789abcdef', v.runId);
      return {
        name: 'verify',
        options: {
          runId: v.runId as string,
          reportDir: v.reportDir as string,
          verifySample: v.verifySample as number | undefined,
          json: v.json as boolean,
          expected,
          sinceMs: v.sinceMs as number,
          spansPerTrace: v.spansPerTrace as number,
          attach: attachGiven ? resolveOptions([ATTACH_OPTIONS], flags, env).values : undefined,
        },
      };
    }
    case 'down': {
      const { values, positionals } = parse('down', rest, commandSpecs().down!);
      if (values.help === true) return { name: 'help', topic: 'down' };
      noArguments('down', positionals);
      const runId = str(values['run-id']);
      if (runId !== undefined && !isRunId(runId)) {
        throw configurationError('--run-id', 'a run id like oh-20260101-120000-0123456789abcdef', runId);
      }
      return { name: 'down', runId };
    }
    case 'images': {
      const [sub, ...subArgs] = rest;
      if (sub === '--help' || sub === undefined) return { name: 'help', topic: 'images' };
      if (sub === 'build') {
        const { values, positionals } = parse('images build', subArgs, commandSpecs()['images build']!);
        if (values.help === true) return { name: 'help', topic: 'images' };
        return {
          name: 'images-build',
          components: positionals,
          force: values.force === true,
          verbose: values.verbose === true,
        };
      }
      if (sub === 'list') {
        const { values, positionals } = parse('images list', subArgs, commandSpecs()['images list']!);
        if (values.help === true) return { name: 'help', topic: 'images' };
        noArguments('images list', positionals);
        return { name: 'images-list', json: values.json === true };
      }
      throw configurationError('images subcommand', `one of ${IMAGES_SUBCOMMANDS.join(', ')}`, sub);
    }
    case 'k6': {
      const [sub, ...subArgs] = rest;
      if (sub === undefined || sub === '--help') return { name: 'help', topic: 'k6' };
      if (sub === 'build') {
        const { values } = parse('k6 build', subArgs, commandSpecs()['k6 build']!);
        if (values.help === true) return { name: 'help', topic: 'k6' };
        return { name: 'k6-build', k6Path: str(values.k6) };
      }
      if (sub === 'manifest') {
        const { values, positionals } = parse('k6 manifest', subArgs, K6_MANIFEST_SPEC);
        if (values.help === true) return { name: 'help', topic: 'k6' };
        noArguments('k6 manifest', positionals);
        return { name: 'k6-manifest', options: resolveManifestOptions(values) };
      }
      throw configurationError('k6 subcommand', 'one of build, manifest', sub);
    }
    default:
      throw configurationError('command', `one of ${COMMANDS.join(', ')}`, first, didYouMean(first, COMMANDS));
  }
}
