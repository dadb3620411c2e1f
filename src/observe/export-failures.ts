import type { Signal } from '../load/ledger.js';

/**
 * Why an export failed, in words, from the error the collector logged. `retryable` says whether sending
 * the same request again can succeed: a message over the receiver's size limit, a 400 or 413, an
 * authentication failure or an error the collector marks permanent cannot, whatever the retry settings.
 */
export interface FailureCause {
  kind:
    | 'message-too-large'
    | 'payload-too-large'
    | 'rate-limited'
    | 'out-of-order'
    | 'too-old'
    | 'bad-request'
    | 'unauthorized'
    | 'queue-full'
    | 'unavailable'
    | 'timeout'
    | 'connection'
    | 'permanent'
    | 'other';
  retryable: boolean;
  /** e.g. `requests of 5.28 MB exceed a 4 MiB gRPC message limit`. */
  summary: string;
  /** Numbers read from the error: message size and limit (bytes), HTTP status. */
  sizeBytes?: number;
  limitBytes?: number;
  status?: number;
}

/** Failures of one exporter with one cause, as its collector logged them. */
export interface ExportFailure {
  collector: string;
  exporter: string;
  signal: Signal | undefined;
  /** `retrying`: an attempt failed and will be retried; `given-up`: the collector dropped the data; `rejected`: returned to its caller (no queue). */
  outcome: 'retrying' | 'given-up' | 'rejected';
  cause: FailureCause;
  /** Log lines of this group. */
  count: number;
  /** Items the collector said it dropped (given-up lines carry `dropped_items`). */
  droppedItems: number;
  /** Largest message size the error texts named (message-too-large). */
  largestBytes: number | undefined;
  /**
   * Bytes per item of a request the collector dropped whose error named its size: the size over the line's
   * `dropped_items` (the largest such ratio). Lines that retry name no item count.
   */
  bytesPerItem?: number;
  /** One full error text, as logged. */
  example: string;
  firstAt: string | undefined;
  lastAt: string | undefined;
}

const SIGNAL_OF: Record<string, Signal> = {
  traces: 'traces',
  metrics: 'metrics',
  logs: 'logs',
};

function mb(bytes: number): string {
  return bytes >= 1_048_576 && bytes % 1_048_576 === 0
    ? `${bytes / 1_048_576} MiB`
    : `${(bytes / 1_000_000).toFixed(2)} MB`;
}

/** Classifies one error text (the `error` field of an exporter's failure line). Pure. */
export function classifyExportError(error: string): FailureCause {
  const tooLarge = /(?:received|trying to send) message larger than max \((\d+) vs\. (\d+)\)/.exec(error);
  if (tooLarge !== null) {
    const size = Number(tooLarge[1]);
    const limit = Number(tooLarge[2]);
    return {
      kind: 'message-too-large',
      retryable: false,
      summary: `requests of ${mb(size)} exceed a ${mb(limit)} gRPC message limit`,
      sizeBytes: size,
      limitBytes: limit,
    };
  }
  // grpc-go's own wording when the receiver decompresses first: the limit, not the size.
  const tooLargeUnzipped = /received message after decompression larger than max (\d+)/.exec(error);
  if (tooLargeUnzipped !== null) {
    const limit = Number(tooLargeUnzipped[1]);
    return {
      kind: 'message-too-large',
      retryable: false,
      summary: `requests exceed a ${mb(limit)} gRPC message limit (after decompression)`,
      limitBytes: limit,
    };
  }
  const status = /(?:HTTP Status Code|status code|HTTP) (\d{3})/i.exec(error);
  const code = status === null ? undefined : Number(status[1]);
  const withStatus = code === undefined ? {} : { status: code };
  if (code === 413 || /request entity too large|payload too large|body too large/i.test(error))
    return {
      kind: 'payload-too-large',
      retryable: false,
      summary: 'requests larger than the receiver accepts (413)',
      ...withStatus,
    };
  if (/out of order sample|out-of-order|duplicate sample for timestamp/i.test(error))
    return {
      kind: 'out-of-order',
      retryable: false,
      summary: 'samples refused as out of order (the whole request is rolled back)',
      ...withStatus,
    };
  if (/too far behind|entry too far|greater_than_max_sample_age|too old|out of bounds/i.test(error))
    return { kind: 'too-old', retryable: false, summary: 'items refused as too old for the receiver', ...withStatus };
  if (code === 429 || /rate limit|RATE_LIMITED|ingestion rate|Too Many Requests|ResourceExhausted/i.test(error))
    return {
      kind: 'rate-limited',
      retryable: true,
      summary: `the receiver's ingestion rate limit refused requests${/per.stream/i.test(error) ? ' (per-stream limit)' : ''}`,
      ...withStatus,
    };
  if (code === 401 || code === 403 || /Unauthenticated|PermissionDenied|unauthorized|forbidden/i.test(error))
    return { kind: 'unauthorized', retryable: false, summary: 'the receiver refused the credentials', ...withStatus };
  if (code === 400 || /InvalidArgument/.test(error))
    return {
      kind: 'bad-request',
      retryable: false,
      summary: 'the receiver refused requests as invalid (400)',
      ...withStatus,
    };
  if (/sending queue is full/i.test(error))
    return { kind: 'queue-full', retryable: true, summary: 'the sending queue was full' };
  if (/Permanent error|not retryable/i.test(error))
    return { kind: 'permanent', retryable: false, summary: 'an error the collector marks permanent', ...withStatus };
  if (/deadline exceeded|DeadlineExceeded|timeout|Client\.Timeout/i.test(error))
    return { kind: 'timeout', retryable: true, summary: 'requests timed out', ...withStatus };
  if (
    /connection refused|no such host|connection reset|EOF|broken pipe|no children to pick from|transport/i.test(error)
  )
    return { kind: 'connection', retryable: true, summary: 'the receiver could not be reached', ...withStatus };
  if (code === 502 || code === 503 || code === 504 || /Unavailable/.test(error))
    return {
      kind: 'unavailable',
      retryable: true,
      summary: `the receiver answered unavailable${code === undefined ? '' : ` (${code})`}`,
      ...withStatus,
    };
  return { kind: 'other', retryable: true, summary: 'an export error', ...withStatus };
}

interface LogLine {
  level?: string;
  ts?: string;
  msg?: string;
  error?: string;
  dropped_items?: number;
  'otelcol.component.id'?: string;
  'otelcol.signal'?: string;
  name?: string;
  data_type?: string;
}

/**
 * Groups a collector's export failure lines (JSON logs: `Exporting failed. Will retry…`, `… Dropping
 * data.`, `… Rejecting data.`) by exporter, outcome and cause. Lines before `sinceMs` (an earlier run on
 * the same collector) are left out. Pure.
 */
export function exportFailuresOf(collector: string, lines: readonly string[], sinceMs = 0): ExportFailure[] {
  const groups = new Map<string, ExportFailure>();
  for (const line of lines) {
    const start = line.indexOf('{');
    if (start < 0 || !line.includes('Exporting failed')) continue;
    let e: LogLine;
    try {
      e = JSON.parse(line.slice(start)) as LogLine;
    } catch {
      continue;
    }
    const msg = e.msg ?? '';
    const outcome: ExportFailure['outcome'] | undefined = /Will retry/.test(msg)
      ? 'retrying'
      : /Dropping data/.test(msg)
        ? 'given-up'
        : /Rejecting data/.test(msg)
          ? 'rejected'
          : undefined;
    if (outcome === undefined) continue;
    if (e.ts !== undefined && sinceMs > 0 && Date.parse(e.ts) < sinceMs) continue;
    const exporter = e['otelcol.component.id'] ?? e.name ?? '?';
    const error = e.error ?? '';
    const cause = classifyExportError(error);
    const key = `${exporter}\0${outcome}\0${cause.kind}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = {
        collector,
        exporter,
        signal: SIGNAL_OF[e['otelcol.signal'] ?? e.data_type ?? ''],
        outcome,
        cause,
        count: 0,
        droppedItems: 0,
        largestBytes: undefined,
        example: error,
        firstAt: e.ts,
        lastAt: e.ts,
      };
      groups.set(key, g);
    }
    g.count++;
    g.droppedItems += typeof e.dropped_items === 'number' ? e.dropped_items : 0;
    g.lastAt = e.ts ?? g.lastAt;
    if (cause.sizeBytes !== undefined && typeof e.dropped_items === 'number' && e.dropped_items > 0)
      g.bytesPerItem = Math.max(g.bytesPerItem ?? 0, cause.sizeBytes / e.dropped_items);
    if (cause.sizeBytes !== undefined && cause.sizeBytes > (g.largestBytes ?? 0)) {
      g.largestBytes = cause.sizeBytes;
      g.cause = cause;
      g.example = error;
    }
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}
