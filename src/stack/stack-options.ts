import { dirname, isAbsolute, join, resolve as resolvePath } from 'node:path';
import { distributionFor } from '../images/collector-components.js';
import { stacksDir } from '../paths.js';
import { configurationError } from '../harness-error.js';
import { loadCatalog } from '../images/catalog.js';
import { capabilitiesOf, DRIVERS, type DriverName } from '../load/drivers/capabilities.js';
import { IMAGE_SOURCE_TEXT, IMAGE_SOURCES, type ImageSource } from '../images/image-source.js';
import { isImageReference } from '../images/versioned.js';
import { keyValue, oneOf, text, type OptionTable } from '../options/option-table.js';
import { resolveOptions, type RawFlags } from '../options/resolve.js';
import { wantsAttach } from './attach/index.js';
import type { PortMode } from './docker/boot.js';
import { PHASE_TOPOLOGIES, topologyNamed, TOPOLOGIES } from './registry.js';
import { readStackSpec, type StackSpec } from './stack-spec.js';
import type { StackChoice, Topology } from './topology.js';
import type { ImageProgress } from '../images/image-builder.js';
import type { StartedStack } from './stack.js';

export const PORT_MODES = ['standard', 'random'] as const;

/** Options every stack verb shares: which stack, which images, whose collector configuration. */
export const STACK_OPTIONS: OptionTable = {
  name: 'stack',
  title: 'stack options',
  options: [
    {
      key: 'phase',
      flag: 'phase',
      default: '1',
      parse: oneOf(Object.keys(PHASE_TOPOLOGIES)),
      help: `stack phase: ${Object.keys(PHASE_TOPOLOGIES).join(', ')}`,
    },
    {
      key: 'source',
      flag: 'source',
      default: 'auto',
      parse: oneOf(IMAGE_SOURCES),
      help: `images: ${IMAGE_SOURCES.map((s) => `${s} = ${IMAGE_SOURCE_TEXT[s]}`).join('; ')}`,
    },
    {
      key: 'image',
      flag: 'image',
      default: undefined,
      parse: keyValue('a component and a version or image reference'),
      repeatable: true,
      help: 'COMPONENT=VERSION (built here) or COMPONENT=REF (an image), e.g. otelcol=0.157.0',
    },
    {
      key: 'collectorConfig',
      flag: 'collector-config',
      default: undefined,
      parse: (raw) => raw,
      repeatable: true,
      help: "[ROLE=]FILE: your collector configuration (checked with the collector's validate command)",
    },
    {
      key: 'manifest',
      flag: 'otelcol-manifest',
      default: undefined,
      parse: text,
      help: 'your OCB manifest: the collector is built from it',
    },
    {
      key: 'stack',
      flag: 'stack',
      default: undefined,
      parse: text,
      help: 'a stack spec (YAML, `up --print-spec`): topology, images, configs',
    },
  ],
};

/** `--ports` (up only: soak, chaos and the tests use random ports). */
export const PORTS_OPTION: OptionTable = {
  name: 'ports',
  title: 'up',
  options: [
    {
      key: 'ports',
      flag: 'ports',
      default: 'standard',
      parse: oneOf(PORT_MODES),
      help: "host ports on 127.0.0.1: the seed's (standard) or free ones (random)",
    },
  ],
};

/** Whether `--driver` (as given; checked by the soak options) names a driver that runs on the stack's cluster. */
function runsOnCluster(driver: string | readonly string[] | undefined): boolean {
  return (
    typeof driver === 'string' &&
    (DRIVERS as readonly string[]).includes(driver) &&
    capabilitiesOf(driver as DriverName).onCluster
  );
}

/**
 * One `--image COMPONENT=VERSION|REF`, checked before anything starts: a component of the catalog, and a
 * release version (`0.155.0`, a module version `v…`) or an image reference (with a `/` or a `:tag`). Whether
 * the module proxy serves the version is asked when the images are resolved.
 */
function imageOverride(component: string, value: string): string {
  const known = [...loadCatalog().components.keys()].filter((n) => n !== 'toolbox');
  if (!known.includes(component))
    throw configurationError('--image', `a component of the catalog (${known.join(', ')})`, component);
  if (!isImageReference(value) && !/^v?\d+\.\d+\.\d+(?:[-+][\w.+-]+)?$/.test(value))
    throw configurationError(
      `--image ${component}`,
      'a release version like 0.155.0 (built here) or an image reference with a registry path or :tag',
      value,
      `tags such as latest name no release: give the version, e.g. --image ${component}=${loadCatalog().components.get(component)?.version ?? '1.2.3'}`,
    );
  return value;
}

/** A resolved stack: its topology, that topology's options, and the shared choice of images and configs. */
export interface ResolvedStack {
  topology: Topology;
  options: Record<string, unknown>;
  choice: StackChoice;
  /** The spec file it came from, if any. */
  specFile: string | undefined;
}

/**
 * Picks the topology (a stack spec's, attach mode when a target or OTLP endpoint is given, else `--phase`)
 * and resolves its options with the one resolver; another topology's flags are refused by name. Files
 * named in a spec are relative to the spec.
 */
export function resolveStack(flags: RawFlags, env: NodeJS.ProcessEnv, ports: PortMode | undefined): ResolvedStack {
  const common = resolveOptions([STACK_OPTIONS], flags, env);
  const specFile = common.values.stack as string | undefined;
  const spec: StackSpec | undefined = specFile === undefined ? undefined : readStackSpec(specFile);
  const fromSpec = spec === undefined ? {} : specValues(spec, dirname(specFile!));
  const withSpec = spec === undefined ? common : resolveOptions([STACK_OPTIONS], flags, env, fromSpec);
  const attach = wantsAttach(flags, env) || spec?.topology === 'attach';
  const name = attach ? 'attach' : (spec?.topology ?? PHASE_TOPOLOGIES[String(withSpec.values.phase)]!);
  if (attach && flags.phase !== undefined)
    throw configurationError(
      '--phase',
      'no phase with --target, --otlp-endpoint or OTEL_EXPORTER_OTLP_ENDPOINT (the stack is not booted here)',
      flags.phase,
    );
  const topology = topologyNamed(name);
  const others = TOPOLOGIES.filter((t) => t.name !== topology.name).map((t) => t.options);
  const resolved = resolveOptions([topology.options], flags, env, fromSpec, others);
  const images: Record<string, string> = {};
  for (const { key, value } of withSpec.values.image as { key: string; value: string }[])
    images[key] = imageOverride(key, value);
  const collectorConfigs: Record<string, string> = {};
  for (const raw of withSpec.values.collectorConfig as string[]) {
    const at = raw.indexOf('=');
    const [role, file] =
      at > 0 && !raw.slice(0, at).includes('/')
        ? [raw.slice(0, at), raw.slice(at + 1)]
        : [topology.collectorRoles[0] ?? 'collector', raw];
    if (collectorConfigs[role] !== undefined)
      throw configurationError('--collector-config', `one file per role (${role} given twice)`, raw);
    collectorConfigs[role] = file;
  }
  // A configuration using components the default collector lacks gets the platform distribution.
  const asked = withSpec.values.manifest as string | undefined;
  const distribution =
    asked === undefined && images.otelcol === undefined && topology.capabilities.boots
      ? distributionFor(collectorConfigs)
      : undefined;
  const choice: StackChoice = {
    source: withSpec.values.source as ImageSource,
    images,
    collectorConfigs,
    manifest: distribution?.manifest === undefined ? asked : join(stacksDir(), distribution.manifest),
    ...(distribution?.manifest === undefined
      ? {}
      : {
          manifestWhy: `collector built from stacks/${distribution.manifest} for ${distribution.beyondDefault.join(', ')}`,
        }),
    ports: ports ?? 'random',
    // --driver k6-operator runs the load on the stack's cluster: the topology prepares (or checks) it.
    ...(runsOnCluster(flags.driver ?? env.OTEL_HARNESS_DRIVER) ? { clusterLoad: true } : {}),
  };
  // OTEL_EXPORTER_OTLP_ENDPOINT alone selected attach mode: the first line says so.
  if (
    attach &&
    resolved.values.otlpEndpoint !== undefined &&
    flags['otlp-endpoint'] === undefined &&
    (env.OTEL_HARNESS_OTLP_ENDPOINT ?? '') === '' &&
    (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '') !== ''
  )
    resolved.values.otlpEndpointFrom = 'OTEL_EXPORTER_OTLP_ENDPOINT';
  if (choice.manifest !== undefined && choice.source === 'upstream')
    throw configurationError(
      '--otelcol-manifest',
      '--source auto or local (a collector built from your manifest has no published image)',
      '--source upstream',
    );
  topology.check(resolved.values, choice);
  return { topology, options: resolved.values, choice, specFile };
}

/** A spec's values as the resolver's third layer (by flag name), its files resolved against the spec's folder. */
function specValues(spec: StackSpec, dir: string): Record<string, string | string[]> {
  const file = (f: string) => (isAbsolute(f) ? f : resolvePath(dir, f));
  const out: Record<string, string | string[]> = { ...spec.options };
  if (spec.source !== undefined) out.source = spec.source;
  const images = Object.entries(spec.images).map(([k, v]) => `${k}=${v}`);
  if (images.length > 0) out.image = images;
  const configs = Object.entries(spec.collectorConfigs).map(([role, f]) => `${role}=${file(f)}`);
  if (configs.length > 0) out['collector-config'] = configs;
  if (spec.otelcolManifest !== undefined) out['otelcol-manifest'] = file(spec.otelcolManifest);
  return out;
}

/** Boots a resolved stack under a run id, stopped by `abort`, with its progress and image-build lines. */
export function startStack(
  stack: ResolvedStack,
  runId: string,
  abort: AbortSignal,
  io: { progress: (message: string) => void; images?: ImageProgress },
): Promise<StartedStack> {
  return stack.topology
    .builder(stack.options, stack.choice)
    .withRunId(runId)
    .withAbortSignal(abort)
    .withProgress(io.progress, io.images)
    .start();
}
