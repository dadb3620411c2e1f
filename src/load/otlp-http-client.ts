import { Pool } from 'undici';
import { classifyHttpStatus, errorAnswer } from './answer.js';
import type { Outcome, Signal } from './ledger.js';

export interface Answer {
  outcome: Outcome;
  /** HTTP status or transport error code. */
  answer: string;
}

/** Posts pre-built OTLP protobuf payloads to `<base>/v1/<signal>` over a keep-alive connection pool. */
export class OtlpHttpClient {
  private readonly pool: Pool;
  private readonly basePath: string;

  constructor(baseUrl: string, options: { connections: number; timeoutMs: number }) {
    const url = new URL(baseUrl);
    this.basePath = url.pathname.replace(/\/$/, '');
    this.pool = new Pool(url.origin, {
      connections: options.connections,
      pipelining: 1,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 30_000,
    });
  }

  async post(signal: Signal, body: Uint8Array): Promise<Answer> {
    try {
      const response = await this.pool.request({
        path: `${this.basePath}/v1/${signal}`,
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body,
      });
      await response.body.dump();
      return { outcome: classifyHttpStatus(response.statusCode), answer: String(response.statusCode) };
    } catch (err) {
      return { outcome: 'failed', answer: errorAnswer(err) };
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
