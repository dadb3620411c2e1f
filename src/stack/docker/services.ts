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

export function tempoService(catalog: Catalog, config: string): ServiceDefinition {
  const tempo = component(catalog, 'tempo');
  const path = configPath(tempo);
  return {
    name: 'tempo',
    component: 'tempo',
    aliases: ['tempo'],
    command: [`-config.file=${path}`],
    env: {},
    files: [{ target: path, content: config }],
    volumes: [{ name: 'tempo-data', target: dataDir(tempo), owner: ownerOf(tempo) }],
    ports: [{ container: 3200, label: 'Tempo query', scheme: 'http', standardHostPort: 3200 }],
    readiness: { port: 3200, path: '/ready', timeoutMs: READY_TIMEOUT_MS.backend },
    resources: { memoryGiB: 4, cpu: 1 },
    dependsOn: [],
  };
}

export function lokiService(catalog: Catalog, config: string): ServiceDefinition {
  const loki = component(catalog, 'loki');
  return {
    name: 'loki',
    component: 'loki',
    aliases: ['loki'],
    env: {},
    files: [{ target: configPath(loki), content: config }],
    volumes: [{ name: 'loki-data', target: dataDir(loki), owner: ownerOf(loki) }],
    ports: [{ container: 3100, label: 'Loki', scheme: 'http', standardHostPort: 3100 }],
    readiness: { port: 3100, path: '/ready', timeoutMs: READY_TIMEOUT_MS.backend },
    resources: { memoryGiB: 2, cpu: 1 },
    dependsOn: [],
  };
}

/** Prometheus with the seeds' retention; `flags` adds receivers (remote write, OTLP) where a stack needs them. */
export function prometheusService(catalog: Catalog, config: string, flags: readonly string[]): ServiceDefinition {
  const prometheus = component(catalog, 'prometheus');
  return {
    name: 'prometheus',
    component: 'prometheus',
    aliases: ['prometheus'],
    command: [
      `--config.file=${configPath(prometheus)}`,
      `--storage.tsdb.path=${dataDir(prometheus)}`,
      '--storage.tsdb.retention.time=30d',
      '--storage.tsdb.retention.size=40GB',
      '--web.enable-lifecycle',
      ...flags,
    ],
    env: {},
    files: [{ target: configPath(prometheus), content: config }],
    volumes: [{ name: 'prometheus-data', target: dataDir(prometheus), owner: ownerOf(prometheus) }],
    ports: [{ container: 9090, label: 'Prometheus', scheme: 'http', standardHostPort: 9090 }],
    readiness: { port: 9090, path: '/-/ready', timeoutMs: READY_TIMEOUT_MS.prometheus },
    resources: { memoryGiB: 4, cpu: 2 },
    dependsOn: [],
  };
}

/**
 * Mimir, monolithic (`-target=all`), with `config` (stacks/phase2/mimir.yaml): Phase 2's metrics backend, and
 * Phase 1's long-term store with `--remote-write mimir`.
 */
export function mimirService(catalog: Catalog, config: string): ServiceDefinition {
  const mimir = component(catalog, 'mimir');
  return {
    name: 'mimir',
    component: 'mimir',
    aliases: ['mimir'],
    command: [`-config.file=${configPath(mimir)}`],
    env: {},
    files: [{ target: configPath(mimir), content: config }],
    volumes: [{ name: 'mimir-data', target: dataDir(mimir), owner: ownerOf(mimir) }],
    ports: [{ container: 9009, label: 'Mimir', scheme: 'http', standardHostPort: 9009 }],
    readiness: { port: 9009, path: '/ready', timeoutMs: READY_TIMEOUT_MS.backend },
    resources: { memoryGiB: 2, cpu: 2 },
    dependsOn: [],
  };
}
