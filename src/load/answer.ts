import type { Outcome } from './ledger.js';

/** OTLP/HTTP: 429, 502, 503, 504 are retryable (refused); any other non-2xx is failed (OTLP spec "Failures"). */
export function classifyHttpStatus(status: number): Outcome {
  if (status >= 200 && status < 300) return 'acknowledged';
  if (status === 429 || status === 502 || status === 503 || status === 504) return 'refused';
  return 'failed';
}

/** gRPC status codes the OTLP spec calls retryable (RESOURCE_EXHAUSTED only with RetryInfo; treated as refused). */
const RETRYABLE_GRPC = new Set([1, 4, 8, 10, 11, 14, 15]); // CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS

export function classifyGrpcCode(code: number): Outcome {
  if (code === 0) return 'acknowledged';
  return RETRYABLE_GRPC.has(code) ? 'refused' : 'failed';
}

/** A transport error (no answer at all): its code (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT, ...) for the ledger. */
export function errorAnswer(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string }; name?: string };
  return e.code ?? e.cause?.code ?? e.name ?? 'ERROR';
}
