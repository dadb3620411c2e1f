import { Agent, fetch as undiciFetch, type Dispatcher } from 'undici';
import { tlsOptionsOf, type TlsSettings } from '../load/otlp/transport.js';

/** What a backend behind a gateway wants on every request: headers (basic or bearer auth) and TLS settings. */
export interface HttpCredentials {
  headers?: Record<string, string>;
  tls?: TlsSettings;
}

const byOrigin = new Map<string, { headers: Record<string, string>; dispatcher: Dispatcher | undefined }>();

/**
 * Registers the credentials of the origin (scheme, host, port) of `url`: every query and /metrics read the
 * harness makes there carries them. Attach mode registers each backend's; a booted stack needs none.
 */
export function setOriginCredentials(url: string, credentials: HttpCredentials): void {
  const origin = new URL(url).origin;
  const previous = byOrigin.get(origin);
  const tls = credentials.tls;
  byOrigin.set(origin, {
    headers: { ...(previous?.headers ?? {}), ...(credentials.headers ?? {}) },
    dispatcher:
      tls === undefined || !origin.startsWith('https:')
        ? previous?.dispatcher
        : new Agent({ connect: tlsOptionsOf(tls) }),
  });
}

/** Forgets every registered origin (tests). */
export function clearOriginCredentials(): void {
  byOrigin.clear();
}

/**
 * GET `url` with the credentials registered for its origin (explicit `headers` win), within `timeoutMs`.
 * Origins with TLS settings go through their own connection pool.
 */
export async function httpGet(
  url: string,
  headers: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<{ status: number; text: string }> {
  const known = byOrigin.get(new URL(url).origin);
  const all = { ...(known?.headers ?? {}), ...headers };
  const signal = AbortSignal.timeout(timeoutMs);
  const response =
    known?.dispatcher === undefined
      ? await fetch(url, { headers: all, signal })
      : await undiciFetch(url, { headers: all, signal, dispatcher: known.dispatcher });
  return { status: response.status, text: await response.text() };
}
