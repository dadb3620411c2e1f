import { Pool } from 'undici';
import { decodePartialSuccess, decodePartialSuccessJson } from '../../generators/index.js';
import { classifyHttpStatus, errorAnswer } from './answer.js';
import type { Outcome, Signal } from './ledger.js';

export interface Answer {
  outcome: Outcome;
  /** HTTP status or transport error code. */
  answer: string;
  /** Items a 2xx answer declared rejected (OTLP partial success); 0 when none. */
  rejected: number;
  rejectMessage: string;
}

/**
 * Posts pre-built OTLP protobuf payloads to `<base>/v1/<signal>` over a keep-alive connection pool, with
 * the stack's headers (e.g. a tenant), and reads each answer's partial success.
 */
export class OtlpHttpClient {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly headers: Record<string, string>;

  constructor(
    baseUrl: string,
    options: {
      connections: number;
      timeoutMs: number;
      headers?: Record<string, string>;
      /** Requests a connection carries before it is closed and replaced (default: unlimited). */
      requestsPerConnection?: number;
    },
  ) {
    this.headers = { ...(options.headers ?? {}), 'content-type': 'application/x-protobuf' };
    const url = new URL(baseUrl);
    this.basePath = url.pathname.replace(/\/$/, '');
    this.pool = new Pool(url.origin, {
      connections: options.connections,
      pipelining: 1,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 30_000,
      ...(options.requestsPerConnection === undefined ? {} : { maxRequestsPerClient: options.requestsPerConnection }),
    });
  }

  async post(signal: Signal, body: Uint8Array): Promise<Answer> {
    try {
      const response = await this.pool.request({
        path: `${this.basePath}/v1/${signal}`,
        method: 'POST',
        headers: this.headers,
        body,
      });
      const outcome = classifyHttpStatus(response.statusCode);
      const answer = String(response.statusCode);
      if (outcome !== 'acknowledged') {
        await response.body.dump();
        return { outcome, answer, rejected: 0, rejectMessage: '' };
      }
      // The Export*ServiceResponse: usually empty; a partial_success says how many items were rejected.
      const answerBody = new Uint8Array(await response.body.arrayBuffer());
      const json = String(response.headers['content-type'] ?? '').includes('json');
      try {
        const partial = json
          ? decodePartialSuccessJson(new TextDecoder().decode(answerBody))
          : decodePartialSuccess(answerBody);
        return { outcome, answer, rejected: partial.rejected, rejectMessage: partial.errorMessage };
      } catch {
        // Accepted all the same; the answer key says the body could not be read (counted apart in the report).
        return { outcome, answer: `${answer}-undecodable-body`, rejected: 0, rejectMessage: '' };
      }
    } catch (err) {
      return { outcome: 'failed', answer: errorAnswer(err), rejected: 0, rejectMessage: '' };
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
