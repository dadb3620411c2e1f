import { BackendQueryError, getJson } from './http-json.js';

/** A trace backend that can return a trace by id. */
export interface TraceStore {
  backend: 'tempo' | 'jaeger';
  /** Span ids (hex) of a trace, one entry per stored span (duplicates repeat); [] when not found. */
  spanIds(traceIdHex: string): Promise<string[]>;
}

function base64ToHex(b64: string): string {
  return Buffer.from(b64, 'base64').toString('hex');
}

/** Span ids in Tempo's `/api/traces/<id>` JSON (`batches` in 2.x, `resourceSpans` in newer versions). */
export function parseTempoTrace(body: unknown): string[] {
  type Spans = {
    scopeSpans?: { spans?: { spanId: string }[] }[];
    instrumentationLibrarySpans?: { spans?: { spanId: string }[] }[];
  }[];
  const b = body as { batches?: Spans; resourceSpans?: Spans; trace?: { resourceSpans?: Spans } };
  const resourceSpans = b.batches ?? b.resourceSpans ?? b.trace?.resourceSpans ?? [];
  return resourceSpans.flatMap((rs) =>
    (rs.scopeSpans ?? rs.instrumentationLibrarySpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => base64ToHex(s.spanId)),
    ),
  );
}

/** Span ids in Jaeger's `/api/traces/<id>` JSON (`{data: [{spans: [{spanID}]}]}`). */
export function parseJaegerTrace(body: unknown): string[] {
  const data = (body as { data?: { spans?: { spanID: string }[] }[] | null }).data ?? [];
  return data.flatMap((t) => (t.spans ?? []).map((s) => s.spanID.padStart(16, '0')));
}

export function tempoStore(baseUrl: string): TraceStore {
  return {
    backend: 'tempo',
    async spanIds(traceIdHex) {
      const { status, body } = await getJson(`${baseUrl}/api/traces/${traceIdHex}`, { accept: 'application/json' });
      if (status === 404) return [];
      if (status !== 200) throw new BackendQueryError('tempo', `trace ${traceIdHex}`, status, body);
      return parseTempoTrace(body);
    },
  };
}

export function jaegerStore(baseUrl: string): TraceStore {
  return {
    backend: 'jaeger',
    async spanIds(traceIdHex) {
      const { status, body } = await getJson(`${baseUrl}/api/traces/${traceIdHex}`);
      if (status === 404) return [];
      if (status !== 200) throw new BackendQueryError('jaeger', `trace ${traceIdHex}`, status, body);
      return parseJaegerTrace(body);
    },
  };
}

/** TraceQL metrics query counting a run's spans over [start, end], one-minute steps summed. */
export function tempoSpanCountQuery(runId: string): string {
  return `{ resource.service.instance.id = "${runId}" } | count_over_time()`;
}

/** Sum of every sample of a TraceQL metrics range response. */
export function parseTempoCount(body: unknown): number {
  const series = (body as { series?: { samples?: { value?: number | string }[] }[] }).series ?? [];
  let sum = 0;
  for (const s of series)
    for (const sample of s.samples ?? []) if (sample.value !== undefined) sum += Number(sample.value);
  return sum;
}

export async function tempoSpanCount(baseUrl: string, runId: string, startMs: number, endMs: number): Promise<number> {
  const minute = 60_000;
  const params = new URLSearchParams({
    q: tempoSpanCountQuery(runId),
    start: String(Math.floor(startMs / minute) * 60 - 60),
    end: String(Math.ceil(endMs / minute) * 60 + 60),
    step: '60s',
  });
  const { status, body } = await getJson(`${baseUrl}/api/metrics/query_range?${params.toString()}`);
  if (status !== 200) throw new BackendQueryError('tempo', params.get('q') ?? '', status, body);
  return parseTempoCount(body);
}
