import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { NOT_SHOWN, withoutSecrets } from '../../src/stack/collector-secrets.js';
import { collectorPipelineOf } from '../../src/stack/collector-pipeline.js';

const CONFIG = `
extensions:
  bearertokenauth/server: { scheme: Bearer, token: s3cret-1 }
  basicauth/server:
    htpasswd:
      inline: |
        user:s3cret-2
  oauth2client: { client_id: agent, client_secret: s3cret-3, token_url: https://idp/token }
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 0.0.0.0:4317
        tls: { cert_pem: CERT, key_pem: s3cret-4 }
        auth: { authenticator: bearertokenauth/server }
processors:
  batch: { timeout: 1s }
  tail_sampling:
    decision_wait: 10s
    policies:
      - { name: errors, type: status_code, status_code: { status_codes: [ERROR] } }
exporters:
  otlphttp:
    endpoint: https://vendor.example
    headers: { x-api-key: s3cret-5, x-team: obs }
  otlp_grpc/jaeger: { endpoint: jaeger:4317, tls: { insecure: true } }
service:
  extensions: [bearertokenauth/server, basicauth/server, oauth2client]
  pipelines:
    traces: { receivers: [otlp], processors: [tail_sampling, batch], exporters: [otlp_grpc/jaeger] }
`;

describe('a collector configuration written into a replay', () => {
  it('keeps what the prediction reads and shows no credential', () => {
    const out = withoutSecrets(CONFIG);
    expect(out).not.toMatch(/s3cret/);
    const o = parse(out) as {
      extensions: Record<string, Record<string, unknown>>;
      exporters: { otlphttp: { headers: Record<string, string> } };
    };
    expect(o.extensions['bearertokenauth/server']).toEqual({ scheme: 'Bearer', token: NOT_SHOWN });
    expect(o.exporters.otlphttp.headers).toEqual({ 'x-api-key': NOT_SHOWN, 'x-team': NOT_SHOWN });
    // The pipeline, its processors and their holds read the same before and after.
    expect(collectorPipelineOf(out)).toEqual(collectorPipelineOf(CONFIG));
    expect(out).toContain('cert_pem: CERT');
    expect(withoutSecrets('receivers: [unclosed')).toBe(`# ${NOT_SHOWN}: the configuration did not parse\n`);
  });
});
