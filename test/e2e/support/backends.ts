/** Queries of the real backends used by the e2e probes: trace by id, LogQL, PromQL. */

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (e.g. a 404 text body)
  }
  return { status: response.status, body };
}

/** Span ids (hex) of a trace as Jaeger's query API returns them; [] while not found. */
export async function jaegerSpanIds(baseUrl: string, traceId: string): Promise<string[]> {
  const { status, body } = await getJson(`${baseUrl}/api/traces/${traceId}`);
  if (status !== 200) return [];
  const data = (body as { data?: { spans?: { spanID: string }[] }[] }).data ?? [];
  return data.flatMap((t) => (t.spans ?? []).map((s) => s.spanID));
}

/** Span ids (hex) of a trace as Tempo's trace-by-id API returns them; [] while not found. */
export async function tempoSpanIds(baseUrl: string, traceId: string): Promise<string[]> {
  const { status, body } = await getJson(`${baseUrl}/api/traces/${traceId}`, { accept: 'application/json' });
  if (status !== 200) return [];
  type Spans = { scopeSpans?: { spans?: { spanId: string }[] }[] }[];
  const b = body as { batches?: Spans; resourceSpans?: Spans };
  return (b.batches ?? b.resourceSpans ?? []).flatMap((rs) =>
    (rs.scopeSpans ?? []).flatMap((ss) => (ss.spans ?? []).map((s) => Buffer.from(s.spanId, 'base64').toString('hex'))),
  );
}

/** Log lines of a LogQL log query over the last hour, oldest first. */
export async function lokiLines(baseUrl: string, query: string): Promise<string[]> {
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const start = nowNs - 3_600_000_000_000n;
  const params = new URLSearchParams({
    query,
    start: String(start),
    end: String(nowNs + 60_000_000_000n),
    direction: 'forward',
    limit: '1000',
  });
  const { status, body } = await getJson(`${baseUrl}/loki/api/v1/query_range?${params.toString()}`);
  if (status !== 200) throw new Error(`Loki query failed: HTTP ${status} ${JSON.stringify(body)}`);
  const result = (body as { data: { result: { values: [string, string][] }[] } }).data.result;
  return result.flatMap((stream) => stream.values.map(([, line]) => line));
}

/** Value of a LogQL or PromQL instant query returning one number (undefined when empty). */
export async function instantScalar(baseUrl: string, path: string, query: string): Promise<number | undefined> {
  const params = new URLSearchParams({ query });
  const { status, body } = await getJson(`${baseUrl}${path}?${params.toString()}`);
  if (status !== 200) throw new Error(`query ${query} failed: HTTP ${status} ${JSON.stringify(body)}`);
  const result = (body as { data: { result: { value: [number, string] }[] } }).data.result;
  if (result.length === 0) return undefined;
  if (result.length > 1) throw new Error(`query ${query} returned ${result.length} series, expected one`);
  return Number(result[0]!.value[1]);
}
