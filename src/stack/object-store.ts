import { parse, stringify } from 'yaml';
import type { Catalog } from '../images/catalog-types.js';
import type { CounterSpec } from '../observe/backend-counters.js';
import { scrape, sumOf } from '../observe/prometheus-text.js';
import { oneOf, type OptionDef } from '../options/option-table.js';
import { component, ownerOf, READY_TIMEOUT_MS } from './docker/services.js';
import type { ServiceDefinition, StackDefinition } from './docker/stack-definition.js';

/**
 * `--storage s3`: Tempo, Loki and Mimir keep their blocks and chunks in an S3-compatible object store, as
 * the seeds run them (MinIO on-premises, S3 on AWS; buckets `tempo-traces`, `loki-data`, `mimir-blocks`,
 * path-style access). The store here is SeaweedFS's S3 gateway (catalog component seaweedfs), one more
 * container on the run's network; `--source upstream` runs its published image.
 */
export const STORAGES = ['local', 's3'] as const;
export type Storage = (typeof STORAGES)[number];

/** The option as a topology's resolved options hold it. */
export interface StorageFlags {
  storage: Storage;
}

export const OBJECT_STORE_SERVICE = 'object-store';
const S3_PORT = 8333;
const METRICS_PORT = 9327;
const ENDPOINT = `${OBJECT_STORE_SERVICE}:${S3_PORT}`;
/** The seeds' MinIO credentials. SeaweedFS without identities accepts any signature; the backends sign anyway. */
const ACCESS_KEY = 'admin';
const SECRET_KEY = 'minio123';

/** The seeds' bucket of each backend. */
export const BUCKETS: Readonly<Record<string, string>> = {
  tempo: 'tempo-traces',
  loki: 'loki-data',
  mimir: 'mimir-blocks',
};

export const STORAGE_OPTION: OptionDef = {
  key: 'storage',
  flag: 'storage',
  default: 'local',
  parse: oneOf(STORAGES),
  help:
    "where Tempo, Loki and Mimir keep their data: local (their volume) or s3 (an S3 store on the run's network, " +
    "SeaweedFS, with the seeds' buckets tempo-traces, loki-data, mimir-blocks)",
};

/** How a stack's one-line description names its storage: nothing for local. */
export function storageText(storage: Storage): string {
  return storage === 's3' ? ', backends on S3 (SeaweedFS)' : '';
}

/**
 * `definition` with its Tempo, Loki and Mimir configured for the object store and the store added (its
 * buckets created before they start); unchanged for `local`.
 */
export function withStorage(definition: StackDefinition, storage: Storage, catalog: Catalog): StackDefinition {
  if (storage === 'local') return definition;
  const stored = definition.services.filter((s) => BUCKETS[s.name] !== undefined);
  if (stored.length === 0) return definition;
  const services = definition.services.map((s) => (BUCKETS[s.name] === undefined ? s : onS3(s)));
  const buckets = stored.map((s) => BUCKETS[s.name]!);
  return {
    ...definition,
    title: definition.title.replace(/\)$/, `; storage: S3, ${buckets.join(', ')})`),
    services: [objectStoreService(catalog, buckets), ...services],
    versions: { ...definition.versions, seaweedfs: component(catalog, 'seaweedfs').version },
  };
}

function onS3(service: ServiceDefinition): ServiceDefinition {
  const [config, ...rest] = service.files;
  if (config === undefined) throw new Error(`${service.name} has no configuration file`);
  const content = S3_CONFIG[service.name]!(parse(config.content) as Config);
  return {
    ...service,
    files: [{ ...config, content: stringify(content) }, ...rest],
    dependsOn: [...service.dependsOn, OBJECT_STORE_SERVICE],
  };
}

type Config = Record<string, unknown>;

const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** Seed 004's S3 settings of each backend, replacing its filesystem storage. */
const S3_CONFIG: Record<string, (c: Config) => Config> = {
  tempo: (c) => {
    const storage = obj(c.storage);
    const trace = obj(storage.trace);
    delete trace.local;
    return {
      ...c,
      storage: {
        ...storage,
        trace: {
          ...trace,
          backend: 's3',
          s3: {
            bucket: BUCKETS.tempo,
            endpoint: ENDPOINT,
            access_key: ACCESS_KEY,
            secret_key: SECRET_KEY,
            insecure: true,
            forcepathstyle: true,
          },
        },
      },
    };
  },
  loki: (c) => {
    const common = obj(c.common);
    const schema = obj(c.schema_config);
    const configs = Array.isArray(schema.configs) ? (schema.configs as Record<string, unknown>[]) : [];
    return {
      ...c,
      common: {
        ...common,
        storage: {
          s3: {
            endpoint: ENDPOINT,
            bucketnames: BUCKETS.loki,
            access_key_id: ACCESS_KEY,
            secret_access_key: SECRET_KEY,
            s3forcepathstyle: true,
            insecure: true,
          },
        },
      },
      schema_config: { ...schema, configs: configs.map((k) => ({ ...k, object_store: 's3' })) },
      compactor: { ...obj(c.compactor), delete_request_store: 's3' },
    };
  },
  mimir: (c) => {
    const blocks = obj(c.blocks_storage);
    delete blocks.filesystem;
    const s3 = {
      endpoint: ENDPOINT,
      access_key_id: ACCESS_KEY,
      secret_access_key: SECRET_KEY,
      insecure: true,
      bucket_name: BUCKETS.mimir,
    };
    // One bucket: the blocks, the rules and the alertmanager's state under their own prefixes.
    return {
      ...c,
      common: { ...obj(c.common), storage: { backend: 's3', s3 } },
      blocks_storage: { ...blocks, backend: 's3', storage_prefix: 'blocks' },
      ruler_storage: { backend: 's3', storage_prefix: 'ruler' },
      alertmanager_storage: { backend: 's3', storage_prefix: 'alertmanager' },
    };
  },
};

/**
 * The store's own account of the run: S3 requests by operation, those it answered 4xx (a 404 is how a client
 * learns an object is not there yet) and 5xx (failed), bytes per bucket.
 */
export const OBJECT_STORE_COUNTERS: readonly CounterSpec[] = [
  { key: 's3_requests', name: /^SeaweedFS_s3_request_total$/, by: 'type' },
  { key: 's3_4xx', name: /^SeaweedFS_s3_request_total$/, where: { code: /^4/ }, by: 'type' },
  { key: 's3_5xx', name: /^SeaweedFS_s3_request_total$/, where: { code: /^5/ }, by: 'type' },
  { key: 's3_bytes_received', name: /^SeaweedFS_s3_bucket_traffic_received_bytes_total$/, by: 'bucket' },
  { key: 's3_bytes_sent', name: /^SeaweedFS_s3_bucket_traffic_sent_bytes_total$/, by: 'bucket' },
];

/** SeaweedFS in one process (master, volume server, filer, S3 gateway), its buckets created once it answers. */
function objectStoreService(catalog: Catalog, buckets: readonly string[]): ServiceDefinition {
  const spec = component(catalog, 'seaweedfs');
  return {
    name: OBJECT_STORE_SERVICE,
    component: 'seaweedfs',
    aliases: [OBJECT_STORE_SERVICE, 's3'],
    command: [
      '-logtostderr=true',
      'server',
      `-dir=${spec.layout.dataDir ?? '/data'}`,
      '-ip.bind=0.0.0.0',
      `-ip=${OBJECT_STORE_SERVICE}`,
      '-s3',
      `-s3.port=${S3_PORT}`,
      `-metricsPort=${METRICS_PORT}`,
      // Small volumes, many allowed: each bucket is a collection that grows by several volumes at once.
      '-master.volumeSizeLimitMB=256',
      '-volume.max=64',
    ],
    env: {},
    files: [],
    volumes: [{ name: 'object-store-data', target: spec.layout.dataDir ?? '/data', owner: ownerOf(spec) }],
    ports: [
      { container: S3_PORT, label: 'S3 (SeaweedFS)', scheme: 'http', standardHostPort: 9000 },
      { container: METRICS_PORT, label: 'Object store metrics', scheme: 'http', path: '/metrics' },
    ],
    readiness: { port: S3_PORT, path: '/healthz', timeoutMs: READY_TIMEOUT_MS.backend },
    counters: { port: METRICS_PORT, path: '/metrics', specs: OBJECT_STORE_COUNTERS },
    afterReady: async (ctx) => {
      ctx.progress(`creating buckets ${buckets.join(', ')}`);
      for (const bucket of buckets) await createBucket(`http://127.0.0.1:${ctx.hostPort(S3_PORT)}`, bucket, ctx.signal);
    },
    resources: { memoryGiB: 1, cpu: 1 },
    dependsOn: [],
  };
}

/** PUT /<bucket> (S3 CreateBucket, path-style); an existing bucket is fine. */
async function createBucket(base: string, bucket: string, signal: AbortSignal | undefined): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${base}/${bucket}`, { method: 'PUT', ...(signal === undefined ? {} : { signal }) });
    const body = await res.text();
    if (res.ok || body.includes('BucketAlreadyOwnedByYou') || body.includes('BucketAlreadyExists')) return;
    if (Date.now() > deadline)
      throw new Error(`the object store refused to create bucket ${bucket}: HTTP ${res.status} ${body.slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * How a backend hands over to the store before its restart: `flush` (its ingester flushes everything, then a
 * graceful stop) or `kill` (SIGKILL, no flush: what an ingester that loses its disk loses — data that lived
 * only in its memory and WAL).
 */
export const STORE_HANDOVERS = ['flush', 'kill'] as const;
export type StoreHandoverMode = (typeof STORE_HANDOVERS)[number];

/** How each backend hands its in-memory and WAL data to the store and, restarted, reads it back from there. */
interface StoreHandover {
  /** The ingester flushes everything to the store and stops taking writes (HTTP POST). */
  flushPath: string;
  /** A line the backend logs when the flush asked for is done (asynchronous handlers), if it returns early. */
  doneLine?: RegExp;
  /** Its configuration for the restart: recent data read from the store too, not only from ingesters. */
  readStore(c: Config): Config;
  /** Seconds its SIGTERM may take (Loki builds and uploads its index then; Tempo's ingester has stopped). */
  graceSeconds: number;
  /** A gauge of its own /metrics that is above 0 once it serves stored data (Mimir's store-gateway syncs after start). */
  servesStoreWhen?: RegExp;
}

const HANDOVER: Record<string, StoreHandover> = {
  tempo: {
    // Marks the ingester unavailable, cuts and flushes every trace, stops it; logs when done.
    flushPath: '/shutdown',
    doneLine: /shutdown handler complete/,
    graceSeconds: 10,
    readStore: (c) => {
      const qf = obj(c.query_frontend);
      return {
        ...c,
        query_frontend: {
          ...qf,
          search: { ...obj(qf.search), query_backend_after: '0s' },
          metrics: { ...obj(qf.metrics), query_backend_after: '0s' },
        },
      };
    },
  },
  loki: {
    // Flushes every chunk synchronously and stops the ingester; the TSDB index is built and uploaded on stop.
    flushPath: '/ingester/shutdown?flush=true&delete_ring_tokens=false&terminate=false',
    graceSeconds: 60,
    readStore: (c) => c,
  },
  mimir: {
    // Compacts the TSDB head into blocks and ships them, synchronously, then stops the ingester.
    flushPath: '/ingester/shutdown',
    graceSeconds: 60,
    // The querier asks the store-gateway for recent data too, and the store-gateway loads recent blocks
    // (by default it leaves the last 12 h and 10 h to the ingesters); the compactor writes the bucket index at start.
    readStore: (c) => {
      const blocks = obj(c.blocks_storage);
      return {
        ...c,
        querier: { ...obj(c.querier), query_store_after: '0s' },
        blocks_storage: {
          ...blocks,
          bucket_store: { ...obj(blocks.bucket_store), ignore_blocks_within: '0s', sync_interval: '15s' },
        },
      };
    },
    servesStoreWhen: /^cortex_bucket_store_blocks_loaded$/,
  },
};

/** What `--verify-from-store` did to one backend before verifying it again. */
export interface StoreRestart {
  /** The backend's service (tempo, loki, mimir). */
  service: string;
  handover: StoreHandoverMode;
  bucket: string;
  /** Seconds from the flush request to the restarted backend answering. */
  seconds: number;
  /** What was done, in order, for the report. */
  steps: string[];
}

/** How long one backend may take to flush and stop. */
const FLUSH_TIMEOUT_MS = 180_000;

/** The Docker stack calls of a store restart. */
export interface StoreRestartTarget {
  readonly definition: StackDefinition;
  url(service: string, containerPort: number): string;
  logs(service: string): Promise<string[]>;
  removeService(name: string, graceSeconds: number): Promise<void>;
  addService(service: ServiceDefinition): Promise<unknown>;
}

/**
 * `--verify-from-store`: each backend on the object store flushes its ingester to the store, stops
 * (SIGTERM: Loki builds and uploads its index then), and starts again as a new container with no local state
 * at all (no WAL, no blocks, no index cache) and configured to read recent data from the store, so that what
 * a verifier finds next was read from object storage. Only `backends` (the run's) are restarted; an empty
 * list where nothing is on the store.
 */
export async function restartFromStore(
  stack: StoreRestartTarget,
  mode: StoreHandoverMode,
  backends: readonly string[],
  progress: (message: string) => void,
): Promise<StoreRestart[]> {
  if (!stack.definition.services.some((s) => s.name === OBJECT_STORE_SERVICE)) return [];
  const out: StoreRestart[] = [];
  const restarted = stack.definition.services.filter(
    (s) => HANDOVER[s.name] !== undefined && backends.includes(s.name),
  );
  for (const service of restarted) {
    const handover = HANDOVER[service.name]!;
    const started = Date.now();
    const steps: string[] = [];
    const port = service.readiness.port;
    if (mode === 'flush') {
      progress(`${service.name}: flushing its ingester to the object store (POST ${handover.flushPath.split('?')[0]})`);
      const res = await fetch(`${stack.url(service.name, port)}${handover.flushPath}`, {
        method: 'POST',
        signal: AbortSignal.timeout(FLUSH_TIMEOUT_MS),
      });
      const body = await res.text();
      if (!res.ok)
        throw new Error(
          `${service.name} refused the flush (${handover.flushPath}): HTTP ${res.status} ${body.slice(0, 200)}`,
        );
      steps.push(`POST ${handover.flushPath}: HTTP ${res.status}`);
      if (handover.doneLine !== undefined) {
        const deadline = Date.now() + FLUSH_TIMEOUT_MS;
        while (!(await stack.logs(service.name)).some((l) => handover.doneLine!.test(l))) {
          if (Date.now() > deadline)
            throw new Error(`${service.name} did not finish its flush within ${FLUSH_TIMEOUT_MS / 1000} s`);
          await new Promise((r) => setTimeout(r, 500));
        }
        steps.push(`flush done (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      }
    }
    progress(
      `${service.name}: ${mode === 'flush' ? 'stopping' : 'killing it (no flush)'}, and starting again with no local state, reading from the store`,
    );
    const stopping = Date.now();
    await stack.removeService(service.name, mode === 'flush' ? handover.graceSeconds : 0);
    steps.push(
      mode === 'flush'
        ? `stopped (SIGTERM; ${((Date.now() - stopping) / 1000).toFixed(1)} s) and removed with its volume`
        : 'killed (SIGKILL, no flush) and removed with its volume',
    );
    const [config, ...rest] = service.files;
    await stack.addService({
      ...service,
      files: [{ ...config!, content: stringify(handover.readStore(parse(config!.content) as Config)) }, ...rest],
      // The image's own data directory, empty: nothing survives from before the flush.
      volumes: [],
    });
    steps.push('started again with an empty data directory');
    if (handover.servesStoreWhen !== undefined) {
      const loaded = await waitForGauge(`${stack.url(service.name, port)}/metrics`, handover.servesStoreWhen, 90_000);
      steps.push(
        loaded > 0
          ? `serving ${loaded} block(s) from the store`
          : 'no block loaded from the store within 90 s (nothing may have been flushed)',
      );
    }
    const seconds = (Date.now() - started) / 1000;
    progress(`${service.name}: answering again from the store after ${seconds.toFixed(1)} s`);
    out.push({ service: service.name, handover: mode, bucket: BUCKETS[service.name]!, seconds, steps });
  }
  return out;
}

/** Waits until the sum of gauge `name` at `url` is above 0; that sum, or 0 after `timeoutMs`. */
async function waitForGauge(url: string, name: RegExp, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await scrape(url)
      .then((samples) => sumOf(samples, name))
      .catch(() => 0);
    if (value > 0 || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 1_000));
  }
}
