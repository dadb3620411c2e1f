import { Pool } from 'undici';
import { decodePartialSuccess, decodePartialSuccessJson } from '../../../generators/index.js';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { classifyHttpStatus, errorAnswer } from '../answer.js';
import { otlpJsonOf } from './otlp-json.js';
import type { Signal } from '../ledger.js';
import { tlsOptionsOf, type Answer, type Compression, type OtlpClient, type OtlpClientOptions } from './transport.js';

export type { Answer } from './transport.js';

const gzipAsync = promisify(gzip);

/**
 * Posts pre-built OTLP protobuf payloads (or their OTLP/JSON, with `json`) to `<base>/v1/<signal>` over a
 * keep-alive connection pool, with the stack's headers (e.g. a tenant), gzip-compressed when asked (off the
 * event loop, in zlib's thread pool), and reads each answer's partial success.
 */
export class OtlpHttpClient implements OtlpClient {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly headers: Record<string, string>;
  private readonly compression: Compression;
  private readonly json: boolean;

  constructor(baseUrl: string, options: OtlpClientOptions) {
    this.compression = options.compression ?? 'none';
    this.json = options.json === true;
    this.headers = {
      ...(options.headers ?? {}),
      'content-type': this.json ? 'application/json' : 'application/x-protobuf',
      ...(this.compression === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
    };
    const url = new URL(baseUrl);
    this.basePath = url.pathname.replace(/\/$/, '');
    this.pool = new Pool(url.origin, {
      connections: options.connections,
      pipelining: 1,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 30_000,
      ...(url.protocol === 'https:' ? { connect: tlsOptionsOf(options.tls) } : {}),
      ...(options.requestsPerConnection === undefined ? {} : { maxRequestsPerClient: options.requestsPerConnection }),
    });
  }

  async post(signal: Signal, protobuf: Uint8Array): Promise<Answer> {
    try {
      const body = this.json ? Buffer.from(otlpJsonOf(signal, protobuf)) : protobuf;
      const response = await this.pool.request({
        path: `${this.basePath}/v1/${signal}`,
        method: 'POST',
        headers: this.headers,
        body: this.compression === 'gzip' ? await gzipAsync(body) : body,
      });
      const outcome = classifyHttpStatus(response.statusCode);
      const answer = String(response.statusCode);
      if (outcome !== 'acknowledged') {
        await response.body.dump();
        const retryAfterMs = outcome === 'refused' ? retryAfterOf(response.headers['retry-after']) : undefined;
        return {
          outcome,
          answer,
          rejected: 0,
          rejectMessage: '',
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        };
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

/** An HTTP Retry-After (delay seconds, or a date) in ms from now; undefined when absent or unreadable. */
export function retryAfterOf(header: string | string[] | undefined, nowMs = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
