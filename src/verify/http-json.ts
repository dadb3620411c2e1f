import { httpGet } from '../observe/http-auth.js';

/** GET a JSON API of a backend (with its origin's credentials); non-JSON bodies are returned as text. */
export async function getJson(
  url: string,
  headers: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<{ status: number; body: unknown }> {
  const { status, text } = await httpGet(url, headers, timeoutMs);
  try {
    return { status, body: JSON.parse(text) as unknown };
  } catch {
    return { status, body: text };
  }
}

export class BackendQueryError extends Error {
  override readonly name = 'BackendQueryError';
  constructor(
    readonly backend: string,
    readonly query: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(
      `${backend} query failed (HTTP ${status}): ${query}: ${typeof body === 'string' ? body.slice(0, 300) : JSON.stringify(body).slice(0, 300)}`,
    );
  }
}
