import { grpcOutcome } from '../../generators/index.js';
import type { Outcome } from './ledger.js';

/** OTLP/HTTP: 429, 502, 503, 504 are retryable (refused); any other non-2xx is failed (OTLP spec "Failures"). */
export function classifyHttpStatus(status: number): Outcome {
  if (status >= 200 && status < 300) return 'acknowledged';
  if (status === 429 || status === 502 || status === 503 || status === 504) return 'refused';
  return 'failed';
}

/** gRPC: OK acknowledged; the codes the OTLP spec calls retryable refused (generators' `grpcOutcome`). */
export function classifyGrpcCode(code: number): Outcome {
  return grpcOutcome(code);
}

/** A transport error (no answer at all): its code (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT, ...) for the ledger. */
export function errorAnswer(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string }; name?: string };
  return e.code ?? e.cause?.code ?? e.name ?? 'ERROR';
}
