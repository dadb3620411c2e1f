import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { decodePartialSuccess, decodeRetryInfoMs, grpcCodeName } from '../../../generators/index.js';
import { classifyGrpcCode, classifyHttpStatus, errorAnswer } from '../answer.js';
import type { Signal } from '../ledger.js';
import { tlsOptionsOf, type Answer, type OtlpClient, type OtlpClientOptions } from './transport.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** The OTLP collector services' unary Export methods. */
const METHOD: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};

/** A gRPC message: a compressed flag, its length (big-endian) and the bytes. */
export function grpcFrame(message: Uint8Array, compressed: boolean): Buffer {
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame[0] = compressed ? 1 : 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** The first message of a response body, decompressed when its flag says so; undefined when there is none. */
export async function firstGrpcMessage(body: Buffer, encoding: string | undefined): Promise<Uint8Array | undefined> {
  if (body.length < 5) return undefined;
  const length = body.readUInt32BE(1);
  if (body.length < 5 + length) throw new Error(`a gRPC message of ${length} bytes cut at ${body.length - 5}`);
  const message = body.subarray(5, 5 + length);
  if (body[0] === 0) return message;
  if (encoding !== 'gzip') throw new Error(`a compressed gRPC message in encoding '${encoding ?? 'identity'}'`);
  return new Uint8Array(await gunzipAsync(message));
}

/** A gRPC timeout header value: at most 8 digits, in milliseconds or seconds. */
function grpcTimeout(ms: number): string {
  const whole = Math.max(1, Math.ceil(ms));
  return whole < 1e8 ? `${whole}m` : `${Math.ceil(whole / 1000)}S`;
}

/** The RetryInfo delay of a `grpc-status-details-bin` value (base64), ms; undefined when absent or unreadable. */
function retryInfoMs(details: string | undefined): number | undefined {
  if (details === undefined || details === '') return undefined;
  try {
    return decodeRetryInfoMs(Buffer.from(details, 'base64'));
  } catch {
    return undefined;
  }
}

function headerOf(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Sends pre-built OTLP protobuf export requests as unary gRPC calls over HTTP/2 (cleartext, as the
 * collector's OTLP gRPC receiver listens by default, or TLS when `secure`), over `connections` sessions taken in turn, each
 * replaced after `requestsPerConnection` calls (so that load spreads over replicas behind an L4 balancer).
 * Messages are gzip-compressed when asked (`grpc-encoding: gzip`). UNAVAILABLE, RESOURCE_EXHAUSTED and the
 * other codes the OTLP specification calls retryable are refusals; a successful answer's partial success
 * is read as over HTTP.
 */
export class OtlpGrpcClient implements OtlpClient {
  private readonly sessions: { session: ClientHttp2Session; calls: number }[] = [];
  private readonly headers: Record<string, string>;
  private next = 0;
  private closed = false;

  constructor(
    private readonly target: string,
    private readonly options: OtlpClientOptions & {
      /** TLS to the target (an https endpoint); cleartext HTTP/2 otherwise. */
      secure?: boolean;
    },
  ) {
    // HTTP/2 header names are lowercase; the transport's own headers cannot be overridden.
    this.headers = Object.fromEntries(Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  }

  private session(): ClientHttp2Session {
    const i = this.next++ % Math.max(1, this.options.connections);
    let slot = this.sessions[i];
    const limit = this.options.requestsPerConnection;
    if (slot !== undefined && limit !== undefined && slot.calls >= limit) {
      slot.session.close(); // ends once its calls in flight are answered
      slot = undefined;
    }
    if (slot === undefined || slot.session.closed || slot.session.destroyed) {
      const session =
        this.options.secure === true
          ? connect(`https://${this.target}`, tlsOptionsOf(this.options.tls))
          : connect(`http://${this.target}`);
      // A session's failure (a refused connection) cancels each of its calls, which report it as their cause.
      session.on('error', () => undefined);
      slot = { session, calls: 0 };
      this.sessions[i] = slot;
    }
    slot.calls++;
    return slot.session;
  }

  async post(signal: Signal, body: Uint8Array): Promise<Answer> {
    const gzipped = this.options.compression === 'gzip';
    const failed = (err: unknown): Answer => ({
      outcome: 'failed',
      answer: errorAnswer(err),
      rejected: 0,
      rejectMessage: '',
    });
    let frame: Buffer;
    try {
      frame = grpcFrame(gzipped ? await gzipAsync(body) : body, gzipped);
    } catch (err) {
      return failed(err);
    }
    if (this.closed) return failed(Object.assign(new Error('client closed'), { code: 'ERR_CLIENT_CLOSED' }));
    let stream: ReturnType<ClientHttp2Session['request']>;
    try {
      stream = this.session().request({
        ...this.headers,
        ':method': 'POST',
        ':path': METHOD[signal],
        'content-type': 'application/grpc+proto',
        te: 'trailers',
        'grpc-timeout': grpcTimeout(this.options.timeoutMs),
        'grpc-accept-encoding': 'gzip,identity',
        ...(gzipped ? { 'grpc-encoding': 'gzip' } : {}),
      });
    } catch (err) {
      return failed(err);
    }
    return new Promise<Answer>((resolve) => {
      let settled = false;
      const timer = setTimeout(() => {
        stream.close(constants.NGHTTP2_CANCEL);
        finish({ outcome: 'failed', answer: 'DEADLINE_EXCEEDED (local)', rejected: 0, rejectMessage: '' });
      }, this.options.timeoutMs);
      const finish = (answer: Answer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(answer);
      };
      let head: IncomingHttpHeaders = {};
      let trailers: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      stream.on('response', (h: IncomingHttpHeaders) => {
        head = h;
      });
      stream.on('trailers', (t: IncomingHttpHeaders) => {
        trailers = t;
      });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (err: Error) => finish(failed(err.cause ?? err)));
      // After 'end' (or a reset without an error): every header, message and trailer that came is here.
      stream.on('close', () => {
        if (!settled)
          void this.answerOf(head, trailers, Buffer.concat(chunks)).then(finish, (err: unknown) => finish(failed(err)));
      });
      stream.end(frame);
    });
  }

  private async answerOf(head: IncomingHttpHeaders, trailers: IncomingHttpHeaders, body: Buffer): Promise<Answer> {
    const http = Number(head[':status'] ?? 0);
    // A trailers-only answer carries its status in the headers.
    const status = headerOf(trailers, 'grpc-status') ?? headerOf(head, 'grpc-status');
    if (status === undefined) {
      // Not a gRPC answer (a proxy's error page): judged by its HTTP status.
      return {
        outcome: http === 200 ? 'failed' : classifyHttpStatus(http),
        answer: `HTTP ${http}`,
        rejected: 0,
        rejectMessage: '',
      };
    }
    const code = Number(status);
    const answer = grpcCodeName(code);
    if (code !== 0) {
      const retryAfterMs = retryInfoMs(
        headerOf(trailers, 'grpc-status-details-bin') ?? headerOf(head, 'grpc-status-details-bin'),
      );
      return {
        outcome: classifyGrpcCode(code),
        answer,
        rejected: 0,
        rejectMessage: '',
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      };
    }
    try {
      const message = await firstGrpcMessage(body, headerOf(head, 'grpc-encoding'));
      if (message === undefined) return { outcome: 'acknowledged', answer, rejected: 0, rejectMessage: '' };
      const partial = decodePartialSuccess(message);
      return { outcome: 'acknowledged', answer, rejected: partial.rejected, rejectMessage: partial.errorMessage };
    } catch {
      // Accepted all the same; the answer key says the body could not be read (counted apart in the report).
      return { outcome: 'acknowledged', answer: `${answer}-undecodable-body`, rejected: 0, rejectMessage: '' };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.sessions.map(
        ({ session }) =>
          new Promise<void>((resolve) => {
            if (session.closed || session.destroyed) return resolve();
            session.close(() => resolve());
          }),
      ),
    );
  }
}
