import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadCatalog } from '../../src/images/catalog.js';
import { mergeRanges, subtractRanges } from '../../src/load/seq-ranges.js';
import { phase1Definition } from '../../src/stack/phase1/definition.js';
import { phase2Definition } from '../../src/stack/phase2/definition.js';
import type { ServiceDefinition, StackDefinition } from '../../src/stack/docker/stack-definition.js';
import {
  OBJECT_STORE_SERVICE,
  restartFromStore,
  withStorage,
  type StoreRestartTarget,
} from '../../src/stack/object-store.js';
import { refused } from './support/usage.js';

const catalog = loadCatalog();
type Yaml = Record<string, Record<string, Record<string, unknown>>>;
const configOf = (d: StackDefinition, name: string) =>
  parse(d.services.find((s) => s.name === name)!.files[0]!.content) as Yaml;

describe('--storage s3: the backends on an S3 store, as the seeds configure them', () => {
  it("puts Tempo's blocks and Loki's chunks and index in the seeds' buckets, path-style, and starts the store first", () => {
    const local = phase1Definition({ traces: 'tempo' }, catalog);
    expect(withStorage(local, 'local', catalog)).toBe(local);
    const d = withStorage(local, 's3', catalog);
    expect(d.services[0]!.name).toBe(OBJECT_STORE_SERVICE);
    expect(d.services[0]!.component).toBe('seaweedfs');
    expect(d.versions.seaweedfs).toBe(catalog.components.get('seaweedfs')!.version);
    expect(d.title).toMatch(/storage: S3, tempo-traces, loki-data\)$/);
    for (const name of ['tempo', 'loki'])
      expect(d.services.find((s) => s.name === name)!.dependsOn).toContain(OBJECT_STORE_SERVICE);
    // Services that keep nothing in a bucket are left as they were.
    expect(d.services.find((s) => s.name === 'prometheus')).toEqual(
      local.services.find((s) => s.name === 'prometheus'),
    );

    const tempo = configOf(d, 'tempo');
    expect(tempo.storage!.trace).toMatchObject({
      backend: 's3',
      s3: { bucket: 'tempo-traces', endpoint: 'object-store:8333', insecure: true, forcepathstyle: true },
      wal: { path: '/var/tempo/wal' },
    });
    expect(tempo.storage!.trace).not.toHaveProperty('local');
    const loki = configOf(d, 'loki');
    expect(loki.common!.storage).toMatchObject({
      s3: { bucketnames: 'loki-data', endpoint: 'object-store:8333', s3forcepathstyle: true },
    });
    expect((loki.schema_config!.configs as unknown as { object_store: string }[]).map((c) => c.object_store)).toEqual([
      's3',
    ]);
    expect(loki.compactor!.delete_request_store).toBe('s3');
  });

  it("puts Mimir's blocks, rules and alertmanager state in mimir-blocks under their own prefixes (Phase 2)", () => {
    const d = withStorage(phase2Definition({ gateways: 1, processors: 1, kafkaPort: 41234 }, catalog), 's3', catalog);
    const mimir = configOf(d, 'mimir');
    expect(mimir.common!.storage).toMatchObject({ backend: 's3', s3: { bucket_name: 'mimir-blocks' } });
    expect(mimir.blocks_storage).toMatchObject({ backend: 's3', storage_prefix: 'blocks' });
    expect(mimir.blocks_storage).not.toHaveProperty('filesystem');
    expect(mimir.ruler_storage).toEqual({ backend: 's3', storage_prefix: 'ruler' });
    expect(d.title).toMatch(/tempo-traces, mimir-blocks, loki-data\)$/);
  });

  it('refuses --verify-from-store without the store, --store-handover without --verify-from-store, --storage in attach mode', () => {
    expect(refused(['soak', '--verify-from-store']).hint).toBe('add --storage s3');
    expect(refused(['soak', '--storage', 's3', '--store-handover', 'kill']).hint).toBe(
      'to use it, add --verify-from-store',
    );
    expect(refused(['soak', '--otlp-endpoint', 'http://127.0.0.1:4318', '--storage', 's3']).message).toMatch(
      /--storage is invalid, expected an option of attach mode/,
    );
    expect(refused(['capacity', '--storage', 's3', '--verify-from-store']).message).toMatch(
      /--verify-from-store is invalid, expected nothing: a capacity search verifies each trial as it ends/,
    );
    expect(refused(['soak', '--storage', 'gcs']).message).toMatch(/--storage is invalid, expected one of local, s3/);
  });
});

describe('--verify-from-store: flush, stop, start empty, read from the store', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  /** A Docker stack's calls, recorded; the backends' HTTP flush endpoints answered by a local server. */
  async function target(definition: StackDefinition) {
    const calls: string[] = [];
    server = createServer((req, res) => {
      calls.push(`${req.method} ${req.url}`);
      res.statusCode = 204;
      res.end();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const added: ServiceDefinition[] = [];
    const t: StoreRestartTarget = {
      definition,
      url: () => `http://127.0.0.1:${port}`,
      logs: () => Promise.resolve(['level=info msg="shutdown handler complete"']),
      removeService: (name, grace) => {
        calls.push(`remove ${name} ${grace}`);
        return Promise.resolve();
      },
      addService: (s) => {
        calls.push(`add ${s.name}`);
        added.push(s);
        return Promise.resolve();
      },
    };
    return { t, calls, added };
  }

  it("flushes each of the run's backends, stops it gracefully, and starts it with no volume, configured to read recent data from the store", async () => {
    const d = withStorage(phase1Definition({ traces: 'tempo' }, catalog), 's3', catalog);
    const { t, calls, added } = await target(d);
    const restarts = await restartFromStore(t, 'flush', ['tempo', 'loki', 'prometheus'], () => undefined);
    expect(calls).toEqual([
      'POST /shutdown',
      'remove tempo 10',
      'add tempo',
      'POST /ingester/shutdown?flush=true&delete_ring_tokens=false&terminate=false',
      'remove loki 60',
      'add loki',
    ]);
    expect(restarts.map((r) => [r.service, r.bucket, r.handover])).toEqual([
      ['tempo', 'tempo-traces', 'flush'],
      ['loki', 'loki-data', 'flush'],
    ]);
    expect(added.map((s) => s.volumes)).toEqual([[], []]);
    const tempo = parse(added[0]!.files[0]!.content) as Yaml;
    expect(tempo.query_frontend!.search).toMatchObject({ query_backend_after: '0s' });
    expect(tempo.query_frontend!.metrics).toMatchObject({ query_backend_after: '0s' });
  });

  it('kill: no flush, SIGKILL at once; only the backends of the run; nothing where the data is on local volumes', async () => {
    const d = withStorage(phase1Definition({ traces: 'tempo' }, catalog), 's3', catalog);
    const { t, calls } = await target(d);
    const restarts = await restartFromStore(t, 'kill', ['loki'], () => undefined);
    expect(calls).toEqual(['remove loki 0', 'add loki']);
    expect(restarts[0]!.steps[0]).toMatch(/killed \(SIGKILL, no flush\)/);
    const local = await target(phase1Definition({ traces: 'tempo' }, catalog));
    expect(await restartFromStore(local.t, 'flush', ['tempo', 'loki'], () => undefined)).toEqual([]);
    expect(local.calls).toEqual([]);
  });
});

describe('sequence range arithmetic for what the store lacks', () => {
  it('subtracts and merges sorted ranges', () => {
    const a = [
      { first: 0, count: 10 },
      { first: 20, count: 5 },
    ];
    expect(
      subtractRanges(a, [
        { first: 3, count: 2 },
        { first: 9, count: 12 },
      ]),
    ).toEqual([
      { first: 0, count: 3 },
      { first: 5, count: 4 },
      { first: 21, count: 4 },
    ]);
    expect(subtractRanges(a, [])).toEqual(a);
    expect(subtractRanges(a, a)).toEqual([]);
    expect(
      mergeRanges(
        [{ first: 0, count: 3 }],
        [
          { first: 3, count: 2 },
          { first: 9, count: 1 },
        ],
      ),
    ).toEqual([
      { first: 0, count: 5 },
      { first: 9, count: 1 },
    ]);
  });
});
