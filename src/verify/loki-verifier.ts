import { seqOfLogLine } from '../../generators/index.js';
import { rangesSize, seqsOf, toRanges, type SeqRange } from '../load/ledger.js';
import { BackendQueryError, getJson } from './http-json.js';
import { verdict, type SignalVerification } from './verification.js';

export interface LogExpectation {
  runId: string;
  serviceName: string;
  acknowledged: SeqRange[];
  unacknowledged: SeqRange[];
  seqBlockSize: number;
  startMs: number;
  endMs: number;
}

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

/** Loki allows 500 series per metric query; stay under it. */
const BLOCKS_PER_QUERY = 400;

/**
 * Counts a run's log records exactly with LogQL (`count_over_time`, never line queries), per seq block;
 * fetches only the lines of blocks short of their expected count, to name every missing record.
 */
export async function verifyLogs(
  baseUrl: string,
  exp: LogExpectation,
  lostExampleLimit = 20,
): Promise<SignalVerification> {
  const selector = lokiSelector(exp.serviceName, exp.runId);
  const queryTime = Math.ceil(Date.now() / 1000);
  const rangeSeconds = Math.max(60, queryTime - Math.floor(exp.startMs / 1000) + 60);
  const instant = async (query: string) => {
    const params = new URLSearchParams({ query, time: String(queryTime) });
    const { status, body } = await getJson(`${baseUrl}/loki/api/v1/query?${params.toString()}`);
    if (status !== 200) throw new BackendQueryError('loki', query, status, body);
    return body;
  };

  const total = parseLokiVector(await instant(lokiCountQuery(selector, rangeSeconds))).get('') ?? 0;

  const expectedPerBlock = new Map<number, number>();
  for (const seq of seqsOf(exp.acknowledged)) {
    const b = Math.floor(seq / exp.seqBlockSize);
    expectedPerBlock.set(b, (expectedPerBlock.get(b) ?? 0) + 1);
  }
  const unackPerBlock = new Map<number, number>();
  for (const seq of seqsOf(exp.unacknowledged)) {
    const b = Math.floor(seq / exp.seqBlockSize);
    unackPerBlock.set(b, (unackPerBlock.get(b) ?? 0) + 1);
  }
  const maxBlock = Math.max(-1, ...expectedPerBlock.keys(), ...unackPerBlock.keys());
  const foundPerBlock = new Map<number, number>();
  for (let from = 0; from <= maxBlock; from += BLOCKS_PER_QUERY) {
    const counts = parseLokiVector(
      await instant(lokiBlockCountQuery(selector, rangeSeconds, from, from + BLOCKS_PER_QUERY)),
      'otel_harness_seq_block',
    );
    for (const [block, n] of counts) foundPerBlock.set(Number(block), n);
  }

  const acked = new Set<number>();
  const lostSeqs: number[] = [];
  let unacknowledgedFound = 0;
  let duplicates = 0;
  for (let block = 0; block <= maxBlock; block++) {
    const expected = expectedPerBlock.get(block) ?? 0;
    const unacked = unackPerBlock.get(block) ?? 0;
    const found = foundPerBlock.get(block) ?? 0;
    if (found === expected && unacked === 0) continue; // exactly what was acknowledged
    if (found === expected + unacked) {
      unacknowledgedFound += unacked; // everything arrived, acknowledged or not
      continue;
    }
    // A short (or ambiguous) block: read its lines and compare record by record.
    const params = new URLSearchParams({
      query: lokiBlockLinesQuery(selector, block),
      start: String(exp.startMs - 60_000) + '000000',
      end: String(queryTime + 60) + '000000000',
      limit: String(Math.min(5_000, expected + unacked + 100)),
      direction: 'forward',
    });
    const { status, body } = await getJson(`${baseUrl}/loki/api/v1/query_range?${params.toString()}`);
    if (status !== 200) throw new BackendQueryError('loki', params.get('query') ?? '', status, body);
    const present = new Map<number, number>();
    for (const line of parseLokiLines(body)) {
      const seq = seqOfLogLine(line, exp.runId);
      if (seq !== undefined) present.set(seq, (present.get(seq) ?? 0) + 1);
    }
    if (acked.size === 0) for (const s of seqsOf(exp.acknowledged)) acked.add(s);
    const first = block * exp.seqBlockSize;
    for (let seq = first; seq < first + exp.seqBlockSize; seq++) {
      const n = present.get(seq) ?? 0;
      if (n > 1) duplicates += n - 1;
      if (acked.has(seq) && n === 0) lostSeqs.push(seq);
      if (!acked.has(seq) && n > 0) unacknowledgedFound++;
    }
  }
  const expected = rangesSize(exp.acknowledged);
  const found = expected - lostSeqs.length;
  return {
    signal: 'logs',
    backend: 'loki',
    method: `LogQL count_over_time per seq block of ${exp.seqBlockSize}; lines read only for short blocks`,
    expected,
    found,
    lost: lostSeqs.length,
    duplicates,
    unacknowledgedFound,
    lostRanges: toRanges(lostSeqs),
    duplicateRanges: [],
    lostExamples: lostSeqs.slice(0, lostExampleLimit).map((s) => `log record seq ${s}`),
    figures: { lokiCount: total },
    outcome: verdict(expected, found, 'log records'),
    notes:
      total === found + unacknowledgedFound + duplicates
        ? []
        : [
            `Loki's total count for the run (${total}) differs from the per-block reading (${found + unacknowledgedFound + duplicates})`,
          ],
  };
}
