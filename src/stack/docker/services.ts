import type { Catalog, ComponentSpec } from '../../images/catalog-types.js';
import type { ServiceDefinition } from './stack-definition.js';

/**
 * Service definitions that several stacks share (the backends and Prometheus), built from the catalog's
 * layouts so that the same definition runs with upstream or local images. Each stack passes its own
 * configuration text.
 */

/** Readiness budgets; Loki and Tempo wait out their ingester's ring join, Kafka formats its storage. */
export const READY_TIMEOUT_MS = { collector: 60_000, backend: 120_000, prometheus: 60_000, kafka: 150_000 } as const;

export function component(catalog: Catalog, name: string): ComponentSpec {
  const spec = catalog.components.get(name);
  if (spec === undefined) throw new Error(`the catalog has no component '${name}'`);
  return spec;
}

export function configPath(spec: ComponentSpec): string {
  if (spec.layout.config === undefined) throw new Error(`catalog component ${spec.name} has no layout.config`);
  return spec.layout.config;
}

export function dataDir(spec: ComponentSpec): string {
  if (spec.layout.dataDir === undefined) throw new Error(`catalog component ${spec.name} has no layout.dataDir`);
  return spec.layout.dataDir;
}

/** `uid` or `uid:gid` or a well-known name → `uid:gid` for chown. */
export function uidGid(user: string): string {
  const named: Record<string, string> = { nobody: '65534:65534', root: '0:0' };
  const known = named[user];
  if (known !== undefined) return known;
  const [uid, gid] = user.split(':');
  if (uid === undefined || !/^\d+$/.test(uid)) throw new Error(`cannot turn user '${user}' into uid:gid`);
  return `${uid}:${gid ?? uid}`;
}

/** The `uid:gid` a component's process runs as: its layout user, resolved through the image's accounts. */
export function ownerOf(spec: ComponentSpec): string {
  const account = spec.image.accounts.find((a) => a.name === spec.layout.user);
  return account === undefined ? uidGid(spec.layout.user) : `${account.uid}:${account.gid}`;
}

/** A backend with one configuration file, one data volume and one HTTP port it answers readiness on. */
function singleBinaryService(
  catalog: Catalog,
  name: string,
  o: {
    config: string;
    /** Its command line, given its catalog entry (none: the image's own). */
    command?: (spec: ComponentSpec) => string[];
    port: number;
    label: string;
    readyPath: string;
    readyTimeoutMs?: number;
    memoryGiB: number;
    cpu: number;
  },
): ServiceDefinition {
  const spec = component(catalog, name);
  return {
    name,
    component: name,
    aliases: [name],
    ...(o.command === undefined ? {} : { command: o.command(spec) }),
    env: {},
    files: [{ target: configPath(spec), content: o.config }],
    volumes: [{ name: `${name}-data`, target: dataDir(spec), owner: ownerOf(spec) }],
    ports: [{ container: o.port, label: o.label, scheme: 'http', standardHostPort: o.port }],
    readiness: { port: o.port, path: o.readyPath, timeoutMs: o.readyTimeoutMs ?? READY_TIMEOUT_MS.backend },
    resources: { memoryGiB: o.memoryGiB, cpu: o.cpu },
    dependsOn: [],
  };
}

const configFlag = (spec: ComponentSpec): string[] => [`-config.file=${configPath(spec)}`];

export function tempoService(catalog: Catalog, config: string): ServiceDefinition {
  return singleBinaryService(catalog, 'tempo', {
    config,
    command: configFlag,
    port: 3200,
    label: 'Tempo query',
    readyPath: '/ready',
    memoryGiB: 4,
    cpu: 1,
  });
}

export function lokiService(catalog: Catalog, config: string): ServiceDefinition {
  return singleBinaryService(catalog, 'loki', {
    config,
    port: 3100,
    label: 'Loki',
    readyPath: '/ready',
    memoryGiB: 2,
    cpu: 1,
  });
}

/** Prometheus with the seeds' retention; `flags` adds receivers (remote write, OTLP) where a stack needs them. */
export function prometheusService(catalog: Catalog, config: string, flags: readonly string[]): ServiceDefinition {
  return singleBinaryService(catalog, 'prometheus', {
    config,
    command: (spec) => [
      `--config.file=${configPath(spec)}`,
      `--storage.tsdb.path=${dataDir(spec)}`,
      '--storage.tsdb.retention.time=30d',
      '--storage.tsdb.retention.size=40GB',
      '--web.enable-lifecycle',
      ...flags,
    ],
    port: 9090,
    label: 'Prometheus',
    readyPath: '/-/ready',
    readyTimeoutMs: READY_TIMEOUT_MS.prometheus,
    memoryGiB: 4,
    cpu: 2,
  });
}

/**
 * Mimir, monolithic (`-target=all`), with `config` (stacks/phase2/mimir.yaml): Phase 2's metrics backend, and
 * Phase 1's long-term store with `--remote-write mimir`.
 */
export function mimirService(catalog: Catalog, config: string): ServiceDefinition {
  return singleBinaryService(catalog, 'mimir', {
    config,
    command: configFlag,
    port: 9009,
    label: 'Mimir',
    readyPath: '/ready',
    memoryGiB: 2,
    cpu: 2,
  });
}
