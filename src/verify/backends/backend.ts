import type { Signal } from '../../load/ledger.js';
import type { CounterSpec } from '../../observe/backend-counters.js';
import type { Expectation, VerifyContext } from '../expectation.js';
import type { SignalVerification } from '../verification.js';

/** Where a backend answers: its query API, its own /metrics, and headers (e.g. `X-Scope-OrgID`). */
export interface BackendEndpoint {
  /** Base URL of the query API, e.g. http://127.0.0.1:3100. */
  query: string;
  /** The backend's own Prometheus metrics, when reachable. */
  metrics?: string;
  headers?: Record<string, string>;
}

/** The counter that says how many items a backend received (for delivered-more-than-once). */
export interface IngestCounter {
  /** Metric name pattern, e.g. /^loki_distributor_lines_received_total$/. */
  name: RegExp;
  where?: Record<string, string | RegExp>;
  /** e.g. 'lines received by the distributor'. */
  describe: string;
}

/** A canary item's identity: queryable(n) says whether canary `n` is visible yet. */
export interface CanaryQuery {
  /** `sampleTimeMs`: the timestamp a metric canary carries. */
  queryable(canaryRunId: string, serviceName: string, n: number, sampleTimeMs: number): Promise<boolean>;
}

/**
 * One backend of one signal: how to count a run's items cheaply (drain), verify them exactly, see a canary,
 * and which of its own counters explain silent drops. One module per backend (tempo, jaeger, loki,
 * prometheus, …); the registry in ./registry.ts maps names to them.
 */
export interface SignalBackend<E extends Expectation = Expectation> {
  readonly signal: Signal;
  /** Registry name, e.g. 'loki'. */
  readonly name: string;
  readonly endpoint: BackendEndpoint;
  /** A cheap count of a run's items stored since `sinceMs` (grows as data lands; for the drain's stability check). */
  count(runId: string, serviceName: string, sinceMs: number): Promise<number>;
  /**
   * The longest an item its ingest acknowledged may take to show in `count`: a count below what is expected
   * must hold still this long before the drain takes it as final.
   */
  readonly countLagMs: number;
  verify(expectation: E, context: VerifyContext): Promise<SignalVerification>;
  readonly canary: CanaryQuery;
  /** Silent-drop and ingest counters of its own /metrics, reported as deltas over the run. */
  readonly counters: readonly CounterSpec[];
  /** Items received, to compare with what the pipeline sent; undefined when the backend exposes none. */
  readonly received: IngestCounter | undefined;
  /** Why `received` is undefined (said in the report instead of a count). */
  readonly receivedMissing?: string;
  /** Its counts of items it received and then discarded (rate limits, validation): `received` less these is what it kept. */
  readonly receivedNotStored?: readonly IngestCounter[];
  /**
   * Counters that, when they move, mean `received` also counted items the backend then failed to store
   * without counting them (a push to an ingester that failed): what it kept cannot be told then.
   */
  readonly receivedUnreliableWhen?: readonly IngestCounter[];
  /** Uncompressed bytes received (backends that size in MB/s: Tempo, Loki); absent when it counts none. */
  readonly receivedBytes?: IngestCounter;
  /** Why the backend's query answers cannot show a duplicate (each backend says how it collapses them). */
  readonly duplicatesInvisible: string | undefined;
}
