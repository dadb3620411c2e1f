import { seqOfLogLine } from '../../../generators/index.js';
import { rangesSize } from '../../load/ledger.js';
import { clipRanges, countInRange, endOf, RangeBuilder } from '../../load/seq-ranges.js';
import type { CounterSpec } from '../../observe/backend-counters.js';
import type { LogExpectation, VerifyContext } from '../expectation.js';
import { BackendQueryError, getJson } from '../http-json.js';
import { notQueryVisible, verdict, type SignalVerification } from '../verification.js';
import type { BackendEndpoint, SignalBackend } from './backend.js';

/** Index-label selector of a run's log stream (service.name and service.instance.id are Loki index labels). */
export function lokiSelector(serviceName: string, runId: string): string {
  return `{service_name="${serviceName}", service_instance_id="${runId}"}`;
}

export function lokiCountQuery(selector: string, rangeSeconds: number): string {
  return `sum(count_over_time(${selector} [${rangeSeconds}s]))`;
}

/** Count per seq block for blocks [from, to) (numeric label filter on structured metadata). */
export function lokiBlockCountQuery(
  selector: string,
  rangeSeconds: number,
  fromBlock: number,
  toBlock: number,
): string {
  return (
    `sum by (otel_harness_seq_block) (count_over_time(${selector} | otel_harness_seq_block >= ${fromBlock} ` +
    `and otel_harness_seq_block < ${toBlock} [${rangeSeconds}s]))`
  );
}

export function lokiBlockLinesQuery(selector: string, block: number): string {
  return `${selector} | otel_harness_seq_block="${block}"`;
}

/** Loki metric-query vector → label value (or '') → number. */
export function parseLokiVector(body: unknown, label?: string): Map<string, number> {
  const result =
    (body as { data?: { result?: { metric: Record<string, string>; value: [number, string] }[] } }).data?.result ?? [];
  return new Map(result.map((r) => [label === undefined ? '' : (r.metric[label] ?? ''), Number(r.value[1])]));
}

/** Lines of a Loki streams response. */
export function parseLokiLines(body: unknown): string[] {
  const result = (body as { data?: { result?: { values: [string, string][] }[] } }).data?.result ?? [];
  return result.flatMap((s) => s.values.map(([, line]) => line));
}

/** Loki allows 500 series per metric query (`max_query_series`); stay under it. */
const BLOCKS_PER_QUERY = 400;
/** Slack around the ledger's send window (clock skew between harness and Loki, queueing before stamping). */
const WINDOW_SLACK_MS = 60_000;
const LOST_EXAMPLES = 20;

export const LOKI_COUNTERS: CounterSpec[] = [
  { key: 'loki_distributor_lines_received_total', name: /^loki_distributor_lines_received_total$/ },
  { key: 'loki_discarded_samples_total', name: /^loki_discarded_samples_total$/, by: 'reason' },
  {
    key: 'loki_distributor_ingester_append_failures_total',
    name: /^loki_distributor_ingester_append_failures_total$/,
  },
];

/** Loki: LogQL counts per seq block (structured metadata), lines read only where a block is short. */
export function lokiBackend(endpoint: BackendEndpoint): SignalBackend<LogExpectation> {
  const headers = endpoint.headers ?? {};
  const get = async (path: string, params: Record<string, string>, timeoutMs = 60_000) => {
    const query = new URLSearchParams(params);
    const { status, body } = await getJson(`${endpoint.query}${path}?${query.toString()}`, headers, timeoutMs);
    if (status !== 200) throw new BackendQueryError('loki', params.query ?? path, status, body);
    return body;
  };
  const instant = (query: string, timeSec: number) =>
    get('/loki/api/v1/query', { query, time: String(timeSec) }).then((b) => b);

  return {
    signal: 'logs',
    name: 'loki',
    endpoint,
    counters: LOKI_COUNTERS,
    received: { name: /^loki_distributor_lines_received_total$/, describe: 'lines received by the distributor' },
    // The distributor counts lines before its limits and before the push to an ingester.
    receivedNotStored: [
      { name: /^loki_discarded_samples_total$/, describe: 'lines it discarded (limits, validation)' },
    ],
    receivedUnreliableWhen: [
      {
        name: /^loki_distributor_ingester_append_failures_total$/,
        describe: 'counted failed pushes from its distributor to an ingester',
      },
      {
        name: /^loki_request_duration_seconds_count$/,
        where: { route: /^(otlp_v1_logs|loki_api_v1_push|api_prom_push)$/, status_code: /^5/ },
        describe: 'answered pushes with a 5xx',
      },
    ],
    receivedBytes: {
      name: /^loki_distributor_bytes_received_total$/,
      describe: "uncompressed bytes received by Loki's distributor (structured metadata included)",
    },
    duplicatesInvisible: 'Loki keeps one copy of identical timestamp and line in a stream',
    // A push Loki acknowledged is in its ingesters, which queries read at once.
    countLagMs: 10_000,
    async count(runId, serviceName, sinceMs) {
      const now = Math.ceil(Date.now() / 1000);
      const range = Math.max(60, now - Math.floor(sinceMs / 1000) + 60);
      const body = await instant(lokiCountQuery(lokiSelector(serviceName, runId), range), now);
      return parseLokiVector(body).get('') ?? 0;
    },
    canary: {
      async queryable(canaryRunId, serviceName, n) {
        const query = `sum(count_over_time(${lokiSelector(serviceName, canaryRunId)} | otel_harness_seq="${n}" [10m]))`;
        const { status, body } = await getJson(
          `${endpoint.query}/loki/api/v1/query?${new URLSearchParams({ query }).toString()}`,
          headers,
          5_000,
        );
        return status === 200 && (parseLokiVector(body).get('') ?? 0) > 0;
      },
    },
    verify: (exp, context) => verifyLogs(exp, context, instant, get),
  };
}

type Instant = (query: string, timeSec: number) => Promise<unknown>;
type Get = (path: string, params: Record<string, string>) => Promise<unknown>;

/** Instant-query time and range (s) covering [fromMs, toMs] with slack. */
function windowOf(w: { fromMs: number; toMs: number }): { timeSec: number; rangeSec: number } {
  const timeSec = Math.ceil((w.toMs + WINDOW_SLACK_MS) / 1000);
  return { timeSec, rangeSec: Math.max(60, timeSec - Math.floor((w.fromMs - WINDOW_SLACK_MS) / 1000)) };
}

/**
 * Counts a run's log records exactly with LogQL (`count_over_time`, never line queries), per seq block,
 * each group of blocks queried over the time window in which the ledger says they were sent; reads the
 * lines of a block only when its count does not settle it, to name every missing record. Memory follows
 * the number of ledger ranges and blocks per query, not the number of records.
 */
async function verifyLogs(
  exp: LogExpectation,
  context: VerifyContext,
  instant: Instant,
  get: Get,
): Promise<SignalVerification> {
  const B = exp.seqBlockSize;
  const selector = lokiSelector(exp.serviceName, exp.runId);
  const endSeq = Math.max(endOf(exp.acknowledged), endOf(exp.unacknowledged));
  const blocks = Math.ceil(endSeq / B);
  const expected = rangesSize(exp.acknowledged);
  const absent = new RangeBuilder();
  const lostExamples: string[] = [];
  const notes: string[] = [];
  let found = 0;
  let unacknowledgedFound = 0;
  let blockTotal = 0;
  let blocksRead = 0;
  let seenTwice = 0;

  for (let b0 = 0; b0 < blocks; b0 += BLOCKS_PER_QUERY) {
    const b1 = Math.min(blocks, b0 + BLOCKS_PER_QUERY);
    const sent = exp.sentBetween(b0 * B, b1 * B);
    if (sent === undefined) continue; // nothing of these blocks was sent
    const { timeSec, rangeSec } = windowOf(sent);
    const counts = parseLokiVector(
      await instant(lokiBlockCountQuery(selector, rangeSec, b0, b1), timeSec),
      'otel_harness_seq_block',
    );
    for (let block = b0; block < b1; block++) {
      const lo = block * B;
      const hi = lo + B;
      const want = countInRange(exp.acknowledged, lo, hi);
      const unacked = countInRange(exp.unacknowledged, lo, hi);
      const have = counts.get(String(block)) ?? 0;
      blockTotal += have;
      if (have === want && unacked === 0) {
        found += want;
        continue;
      }
      if (have === want + unacked) {
        found += want; // everything sent arrived, acknowledged or not
        unacknowledgedFound += unacked;
        continue;
      }
      // A short (or ambiguous) block: read its lines and compare record by record.
      blocksRead++;
      const body = await get('/loki/api/v1/query_range', {
        query: lokiBlockLinesQuery(selector, block),
        start: `${(timeSec - rangeSec) * 1000}000000`,
        end: `${timeSec * 1000}000000`,
        limit: String(Math.min(5_000, want + unacked + 100)),
        direction: 'forward',
      });
      const present = new Map<number, number>();
      for (const line of parseLokiLines(body)) {
        const seq = seqOfLogLine(line, exp.runId);
        if (seq !== undefined) present.set(seq, (present.get(seq) ?? 0) + 1);
      }
      for (const n of present.values()) if (n > 1) seenTwice += n - 1;
      for (const r of clipRanges(exp.acknowledged, lo, hi)) {
        for (let seq = r.first; seq < r.first + r.count; seq++) {
          if ((present.get(seq) ?? 0) > 0) found++;
          else {
            absent.add(seq);
            if (lostExamples.length < LOST_EXAMPLES) lostExamples.push(`log record seq ${seq}`);
          }
        }
      }
      for (const r of clipRanges(exp.unacknowledged, lo, hi)) {
        for (let seq = r.first; seq < r.first + r.count; seq++) if ((present.get(seq) ?? 0) > 0) unacknowledgedFound++;
      }
    }
    context.progress(`logs: ${Math.min(blocks, b1)}/${blocks} blocks of ${B} counted in loki`);
  }

  // The run's whole count, without the structured-metadata filter: says whether blocks could be read at all.
  const whole = exp.sentBetween(0, endSeq);
  let total = 0;
  if (whole !== undefined) {
    const { timeSec, rangeSec } = windowOf(whole);
    total = parseLokiVector(await instant(lokiCountQuery(selector, rangeSec), timeSec)).get('') ?? 0;
  }
  const base = {
    signal: 'logs' as const,
    backend: 'loki',
    method: `LogQL count_over_time per seq block of ${B}, windowed by the ledger's send times; lines read for ${blocksRead} short block(s)`,
    expected,
    rejected: 0,
    rejectedAbsent: 0,
    duplicates: notQueryVisible('Loki keeps one copy of identical timestamp and line in a stream'),
    lostRanges: absent.ranges(),
    lostExamples,
    figures: { lokiCount: total, blockCountSum: blockTotal },
    notes,
  };
  if (seenTwice > 0) notes.push(`${seenTwice} log record(s) appear more than once (different timestamps)`);
  if (expected > 0 && total > 0 && blockTotal === 0) {
    return {
      ...base,
      found: 0,
      lost: 0,
      unacknowledgedFound,
      outcome: {
        status: 'inconclusive',
        reason: `Loki holds ${total} lines of the run but none carries the structured metadata otel_harness_seq_block (is structured metadata enabled and OTLP ingestion used?)`,
      },
    };
  }
  if (expected > 0 && total === 0) {
    const missingLabel = await labelProblem(get, exp, whole);
    if (missingLabel !== undefined) {
      return {
        ...base,
        found: 0,
        lost: 0,
        unacknowledgedFound,
        outcome: { status: 'inconclusive', reason: missingLabel },
      };
    }
  }
  if (total !== blockTotal) {
    // Two readings of the same lines disagree (lines outside their blocks' windows, or without metadata).
    return {
      ...base,
      found,
      lost: absent.size,
      unacknowledgedFound,
      outcome: {
        status: 'inconclusive',
        reason: `Loki's whole-run count (${total}) differs from the sum of its per-block counts (${blockTotal})`,
      },
    };
  }
  return {
    ...base,
    found,
    lost: absent.size,
    unacknowledgedFound,
    outcome: verdict(expected, absent.size, 'log records'),
  };
}

/**
 * When a run's selector finds nothing: do streams of the service exist without the run's index label?
 * Then Loki is not indexing service.instance.id and the verifier cannot answer (never 100 % false loss).
 */
async function labelProblem(
  get: Get,
  exp: LogExpectation,
  window: { fromMs: number; toMs: number } | undefined,
): Promise<string | undefined> {
  const now = Date.now();
  const params: Record<string, string> = {
    'match[]': `{service_name="${exp.serviceName}"}`,
    start: String(Math.floor(((window?.fromMs ?? now - 3_600_000) - WINDOW_SLACK_MS) / 1000)),
    end: String(Math.ceil(((window?.toMs ?? now) + WINDOW_SLACK_MS) / 1000)),
  };
  const body = (await get('/loki/api/v1/series', params).catch(() => undefined)) as
    { data?: Record<string, string>[] } | undefined;
  const streams = body?.data ?? [];
  if (streams.length > 0 && !streams.some((s) => s.service_instance_id !== undefined)) {
    return `Loki has streams of ${exp.serviceName} but none with a service_instance_id label: its otlp_config must keep service.instance.id as an index label for the run to be found`;
  }
  return undefined;
}
