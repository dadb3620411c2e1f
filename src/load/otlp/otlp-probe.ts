import { ExitCode, HarnessError } from '../../harness-error.js';
import type { Signal } from '../ledger.js';
import { describeTransport, type OtlpClient, type Transport } from './transport.js';

/** TLS failures: the target's certificate is not trusted (or not for this name). */
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Answers that say the target wants other credentials. */
const AUTH_ANSWERS = new Set(['401', '403', 'UNAUTHENTICATED', 'PERMISSION_DENIED']);

/** What a failed probe's answer most likely means, for the one message the run ends with. */
function meaningOf(answer: string, transport: Transport): { why: string; hint: string } {
  if (AUTH_ANSWERS.has(answer))
    return {
      why: 'it refused the credentials sent',
      hint: 'give the headers it expects: OTEL_EXPORTER_OTLP_HEADERS or --otlp-headers (e.g. authorization=Bearer%20<token>)',
    };
  // A TLS server that speaks no protocol the client offered (HTTP/1.1 to a gRPC port, h2 to an HTTP/1.1 one).
  const protocolMismatch = /NO_APPLICATION_PROTOCOL|ALPN/.test(answer);
  if (!protocolMismatch && (TLS_CODES.has(answer) || /^ERR_SSL_|^ERR_TLS_|CERT/.test(answer)))
    return {
      why: 'its TLS certificate is not trusted',
      hint: 'give the CA that signed it (OTEL_EXPORTER_OTLP_CERTIFICATE or --otlp-ca), or accept any certificate with --insecure-skip-verify',
    };
  if (answer === 'ECONNREFUSED' || answer === 'ENOTFOUND' || answer === 'EHOSTUNREACH')
    return { why: 'nothing answers there', hint: 'check the endpoint and that the stack is up' };
  const other = transport.protocol === 'grpc' ? 'http/protobuf' : 'grpc';
  return {
    why: `it does not answer ${describeTransport(transport)} there`,
    hint: `check the port speaks ${transport.protocol} (OTLP/gRPC listens on 4317, OTLP/HTTP on 4318), or change --protocol / OTEL_EXPORTER_OTLP_PROTOCOL (e.g. ${other})`,
  };
}

/**
 * One empty export request before the load, with the run's protocol, compression, headers and TLS: a target
 * that does not take them ends the run here (exit 5) with what its answer means, instead of every batch of
 * the load failing. A refusal (429, 503, UNAVAILABLE) is an answer from a busy OTLP receiver: the run goes on.
 */
export async function probeOtlpTarget(
  client: OtlpClient,
  signal: Signal,
  where: string,
  transport: Transport,
): Promise<void> {
  const answer = await client.post(signal, new Uint8Array(0));
  if (answer.outcome === 'acknowledged' || answer.outcome === 'refused') return;
  const { why, hint } = meaningOf(answer.answer, transport);
  const detail = answer.rejectMessage === '' ? '' : ` (${answer.rejectMessage})`;
  throw new HarnessError(
    `The OTLP target ${where} answered ${answer.answer}${detail} to an empty ${signal} export over ${describeTransport(transport)}: ${why}`,
    { code: 'OTLP_TARGET_REFUSED', exitCode: ExitCode.stackFailed, hint },
  );
}
