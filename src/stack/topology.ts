import type { Storage } from './object-store.js';
import { existsSync } from 'node:fs';
import { configurationError } from '../harness-error.js';
import type { ImageSource } from '../images/image-source.js';
import type { OptionTable } from '../options/option-table.js';
import type { PortMode } from './docker/boot.js';
import type { StackBuilder } from './stack.js';

/** Stack options every topology shares: images and the user's own collector build and configuration. */
export interface StackChoice {
  source: ImageSource;
  /** Component → version (built here on demand) or image reference (`--image`). */
  images: Record<string, string>;
  /** Collector role → configuration file (`--collector-config [role=]FILE`). */
  collectorConfigs: Record<string, string>;
  /** An OCB manifest to build the collector from (`--otelcol-manifest`, or the platform distribution). */
  manifest: string | undefined;
  /** Why the collector is built from another distribution than the default one (said on the first line). */
  manifestWhy?: string;
  ports: PortMode;
  /** The load runs on the stack's cluster (--driver k6-operator): its images and operator are deployed. */
  clusterLoad?: boolean;
  /** The OTLP target takes TLS settings of the run (a CA, a client certificate): drivers must speak TLS. */
  tlsTarget?: boolean;
  /** Log records are lines in container log files a node agent reads: drivers must write them there. */
  logFiles?: boolean;
  /** Metric samples are served by targets the stack scrapes: drivers must serve them. */
  scrapeMetrics?: boolean;
  /** Where Tempo, Loki and Mimir keep their data (`--storage`): their volumes unless `s3`. */
  storage?: Storage;
}

/** What chaos may target in a topology, known before anything starts. */
export interface FaultPlanTargets {
  services: readonly string[];
  aliases: Readonly<Record<string, string>>;
  /** Roles `scale:` may resize (none where the topology cannot scale). */
  scalable?: readonly string[];
}

/** What a topology can do, asked by soak, capacity, gate and the CLI instead of its name. */
export interface TopologyCapabilities {
  /** The harness boots it and removes it; false: a stack started elsewhere, driven and verified only. */
  boots: boolean;
  /** Its collectors tail-sample traces (a sizing counts the sampler's memory). */
  tailSampling: boolean;
  /** Load may run on its Kubernetes cluster (--driver k6-operator). */
  clusterLoad: boolean;
  /**
   * Two of it run well side by side on one machine, each on its own network and ports: a gate may pair
   * baseline and candidate trials in time (a cluster node per arm is too much for that).
   */
  sideBySide: boolean;
}

/**
 * A kind of stack (phase1, phase2, phase3, attach): its own options, and a builder that starts it. Nothing
 * outside src/stack knows a topology by name; the registry (./registry.ts) maps names to them.
 */
export interface Topology {
  name: string;
  /** e.g. 'Phase 1', 'attach mode (--target)'. */
  title: string;
  options: OptionTable;
  /** What it can do: the rest of the tree asks these, never the name. */
  capabilities: TopologyCapabilities;
  /** Collector roles a user may configure with `--collector-config role=FILE` (first: the default role). */
  collectorRoles: readonly string[];
  /** Checks the topology's options (files exist, variants known) before anything starts: exit 2 otherwise. */
  check(options: Readonly<Record<string, unknown>>, choice: StackChoice): void;
  /** What faults may target, or undefined when this topology takes no faults (an attached stack). */
  faultTargets(options: Readonly<Record<string, unknown>>): FaultPlanTargets | undefined;
  /** One line for progress before the stack is up. */
  describe(options: Readonly<Record<string, unknown>>, choice: StackChoice): string;
  builder(options: Readonly<Record<string, unknown>>, choice: StackChoice): StackBuilder;
}

/**
 * A topology written against its own typed options: `read` turns the resolved option values (each already
 * parsed by the topology's option table) into them once, and every method takes them typed. Without
 * `read`, the options are the table's keys with their parsed values. Its name and title are its table's.
 */
export interface TypedTopology<O> extends Omit<
  Topology,
  'name' | 'title' | 'check' | 'faultTargets' | 'describe' | 'builder'
> {
  read?: (values: Readonly<Record<string, unknown>>) => O;
  check(options: O, choice: StackChoice): void;
  faultTargets(options: O): FaultPlanTargets | undefined;
  describe(options: O, choice: StackChoice): string;
  builder(options: O, choice: StackChoice): StackBuilder;
}

export function defineTopology<O>(t: TypedTopology<O>): Topology {
  const read = t.read ?? ((values) => keyedValues<O>(t.options, values));
  return {
    name: t.options.name,
    title: t.options.title,
    options: t.options,
    capabilities: t.capabilities,
    collectorRoles: t.collectorRoles,
    check: (values, choice) => {
      checkCollectorConfigs({ title: t.options.title, collectorRoles: t.collectorRoles }, choice);
      t.check(read(values), choice);
    },
    faultTargets: (values) => t.faultTargets(read(values)),
    describe: (values, choice) =>
      `${t.describe(read(values), choice)}${choice.manifestWhy === undefined ? '' : `; ${choice.manifestWhy}`}`,
    builder: (values, choice) => t.builder(read(values), choice),
  };
}

/** The values of a table's options by key: each was parsed by its definition's `parse`, so it has its type. */
function keyedValues<O>(table: OptionTable, values: Readonly<Record<string, unknown>>): O {
  return Object.fromEntries(table.options.map((d) => [d.key, values[d.key]])) as O;
}

/** Every `--collector-config [ROLE=]FILE` names one of the topology's collector roles and an existing file. */
function checkCollectorConfigs(t: Pick<Topology, 'title' | 'collectorRoles'>, choice: StackChoice): void {
  for (const [role, file] of Object.entries(choice.collectorConfigs)) {
    if (!t.collectorRoles.includes(role))
      throw configurationError(
        '--collector-config',
        t.collectorRoles.length === 1
          ? `a file for the role '${t.collectorRoles[0]}' (${t.title} has one collector role)`
          : `ROLE=FILE with a role of ${t.title} (${t.collectorRoles.join(', ')})`,
        role,
      );
    if (!existsSync(file))
      throw configurationError('--collector-config', 'an existing collector configuration file', file);
  }
}
