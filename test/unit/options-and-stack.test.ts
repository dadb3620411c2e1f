import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { usage } from './support/usage.js';
import { decodePartialSuccess, decodePartialSuccessJson, ProtoWriter } from '../../generators/index.js';
import { parseArgs } from '../../src/cli/parse-args.js';
import { positiveInt, text, type OptionTable } from '../../src/options/option-table.js';
import { resolveOptions } from '../../src/options/resolve.js';
import { parseHeaders } from '../../src/stack/attach/index.js';
import { PHASE_TOPOLOGIES, TOPOLOGIES, topologyNamed } from '../../src/stack/registry.js';
import { resolveStack } from '../../src/stack/stack-options.js';
import { parseStackSpec, renderStackSpec } from '../../src/stack/stack-spec.js';
import { scratchDir } from '../support/scratch.js';

const TABLE: OptionTable = {
  name: 't',
  title: 'test options',
  options: [
    { key: 'rate', flag: 'rate', default: '10', parse: positiveInt, help: 'r' },
    { key: 'name', flag: 'name', default: undefined, parse: text, help: 'n', env: ['OTHER_NAME'] },
    { key: 'tags', flag: 'tag', default: undefined, parse: text, help: 't', repeatable: true },
  ],
};

describe('the one option resolver', () => {
  it('takes flags, then the environment, then a stack spec, then the default, and says which', () => {
    expect(resolveOptions([TABLE], {}, {})).toEqual({
      values: { rate: 10, name: undefined, tags: [] },
      sources: { rate: 'default' },
    });
    const env = { OTEL_HARNESS_RATE: '20', OTHER_NAME: 'from-env', OTEL_HARNESS_TAG: 'a,b' };
    expect(resolveOptions([TABLE], {}, env).values).toEqual({ rate: 20, name: 'from-env', tags: ['a', 'b'] });
    expect(resolveOptions([TABLE], { rate: '30', tag: ['x'] }, env)).toMatchObject({
      values: { rate: 30, tags: ['x'] },
      sources: { rate: 'flag', name: 'env', tags: 'flag' },
    });
    expect(resolveOptions([TABLE], {}, {}, { rate: '40' })).toMatchObject({
      values: { rate: 40 },
      sources: { rate: 'spec' },
    });
    expect(resolveOptions([TABLE], {}, { OTEL_HARNESS_RATE: '20' }, { rate: '40' }).values.rate).toBe(20);
  });

  it('gives one message per bad value, naming where it came from', () => {
    expect(usage(() => resolveOptions([TABLE], { rate: '0' }, {}))).toBe(
      "Configuration: --rate is invalid, expected a whole number > 0 (actual: '0')",
    );
    expect(usage(() => resolveOptions([TABLE], {}, { OTEL_HARNESS_RATE: 'x' }))).toMatch(
      /^Configuration: OTEL_HARNESS_RATE is invalid/,
    );
    expect(usage(() => resolveOptions([TABLE], {}, {}, { rate: '-1' }))).toMatch(
      /^Configuration: stack spec rate is invalid/,
    );
  });

  it("refuses another topology's option by name", () => {
    expect(usage(() => parseArgs(['soak', '--otlp-endpoint', 'http://127.0.0.1:4318', '--traces', 'tempo']))).toMatch(
      /--traces is invalid, expected an option of attach mode .* \(it belongs to Phase 1\)/,
    );
    expect(usage(() => parseArgs(['soak', '--tempo', 'http://127.0.0.1:3200']))).toMatch(
      /--tempo is invalid.*belongs to attach mode/,
    );
  });
});

describe('topologies', () => {
  it('are looked up by name; --phase selects one, a target selects attach mode', () => {
    expect(TOPOLOGIES.map((t) => t.name)).toEqual(['phase1', 'phase2', 'phase3', 'attach']);
    expect(PHASE_TOPOLOGIES).toEqual({ '1': 'phase1', '2': 'phase2', '3': 'phase3' });
    expect(topologyNamed('phase1').collectorRoles).toEqual(['collector', 'agent']);
    expect(topologyNamed('phase2').collectorRoles).toEqual(['gateway', 'processor', 'agent']);
    expect(usage(() => topologyNamed('phase9'))).toMatch(
      /topology is invalid, expected one of phase1, phase2, phase3, attach/,
    );
    expect(resolveStack({}, {}, undefined).topology.name).toBe('phase1');
    expect(resolveStack({ 'otlp-endpoint': 'http://127.0.0.1:4318' }, {}, undefined).topology.name).toBe('attach');
    expect(usage(() => resolveStack({ 'otlp-endpoint': 'http://127.0.0.1:4318', phase: '1' }, {}, undefined))).toMatch(
      /--phase is invalid, expected no phase with --target/,
    );
    // OTEL_EXPORTER_OTLP_ENDPOINT alone selects attach mode (as an instrumented application would send there).
    expect(resolveStack({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318' }, undefined)).toMatchObject({
      topology: { name: 'attach' },
      options: { otlpEndpoint: 'http://x:4318', otlpEndpointFrom: 'OTEL_EXPORTER_OTLP_ENDPOINT' },
    });
    const dir = scratchDir('target-');
    writeFileSync(join(dir, 'stack.json'), JSON.stringify({ title: 't', endpoints: [] }));
    const attached = resolveStack(
      { target: join(dir, 'stack.json') },
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318' },
      undefined,
    );
    expect(attached).toMatchObject({ topology: { name: 'attach' }, options: { otlpEndpoint: 'http://x:4318' } });
  });

  it("hand each topology its own options, parsed and typed, under its table's name and title", () => {
    const choice = resolveStack({ phase: '3', 'hpa-min': '3', 'hpa-max': '4' }, {}, undefined);
    expect(choice.topology.title).toBe('Phase 3 (Kubernetes)');
    expect(choice.topology.describe(choice.options, choice.choice)).toMatch(/collector HPA 3–4, CPU 70 % of/);
    expect(usage(() => parseArgs(['soak', '--phase', '3', '--hpa-min', '5', '--hpa-max', '4']))).toMatch(
      /--hpa-min is invalid, expected at most --hpa-max \(4\)/,
    );
    const p1 = resolveStack({ traces: 'tempo', 'collector-cpus': '1.5' }, {}, undefined);
    expect(p1.topology.describe(p1.options, p1.choice)).toMatch(/^Phase 1 \(traces: tempo, .*collector CPUs: 1.5\)$/);
  });

  it('plan faults against the topology that runs, and refuse them in attach mode', () => {
    expect(
      usage(() => parseArgs(['soak', '--otlp-endpoint', 'http://127.0.0.1:4318', '--chaos', 'kill:collector@5s'])),
    ).toMatch(/--chaos is invalid, expected a stack booted by this run/);
    expect(usage(() => parseArgs(['soak', '--chaos', 'kill:tempo@5s']))).toMatch(/--chaos target is invalid/);
  });

  it('check the user-supplied collector configuration and images before anything starts', () => {
    expect(usage(() => parseArgs(['soak', '--collector-config', '/no/such.yaml']))).toMatch(
      /--collector-config is invalid, expected an existing collector configuration file/,
    );
    expect(usage(() => parseArgs(['soak', '--collector-config', 'gateway=/etc/hosts']))).toMatch(
      /ROLE=FILE with a role of Phase 1 \(collector, agent\)/,
    );
    expect(usage(() => parseArgs(['soak', '--collector-config', 'agent=/etc/hosts']))).toMatch(
      /expected no agent=FILE without --log-source file/,
    );
    expect(
      usage(() => parseArgs(['soak', '--log-source', 'file', '--driver', 'sdk', '--signals', 'logs', '--rate', '10'])),
    ).toMatch(/--driver is invalid, expected native with --log-source file/);
    expect(
      usage(() => parseArgs(['capacity', '--log-source', 'file', '--driver', 'sdk', '--signals', 'logs'])),
    ).toMatch(/--driver is invalid, expected native with --log-source file/);
    expect(usage(() => parseArgs(['soak', '--log-source', 'file', '--log-rotate-files', '1']))).toMatch(
      /--log-rotate-files is invalid, expected a whole number ≥ 2/,
    );
    expect(usage(() => parseArgs(['soak', '--collector-config', '/etc/hosts', '--variant', 'hardened']))).toMatch(
      /--variant is invalid, expected 'seed' with --collector-config/,
    );
    expect(usage(() => parseArgs(['soak', '--otelcol-manifest', '/etc/hosts', '--source', 'upstream']))).toMatch(
      /--otelcol-manifest is invalid, expected --source auto or local \(a collector built from your manifest has no published image\)/,
    );
    expect(usage(() => parseArgs(['soak', '--image', 'otelcol']))).toMatch(
      /--image is invalid, expected a component and a version/,
    );
    expect(
      parseArgs(['soak', '--image', 'otelcol=0.157.0', '--image', 'loki=docker.io/grafana/loki:3.7.8']),
    ).toMatchObject({
      plan: { stack: { choice: { images: { otelcol: '0.157.0', loki: 'docker.io/grafana/loki:3.7.8' } } } },
    });
  });
});

describe('attach mode', () => {
  it('takes endpoints as flags, OTEL_EXPORTER_OTLP_* from the environment, and a tenant', () => {
    const cmd = parseArgs(
      ['soak', '--otlp-endpoint', 'http://127.0.0.1:4318/', '--loki', 'http://127.0.0.1:3100', '--tenant', 'team-a'],
      { OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-team=a' },
    );
    expect(cmd).toMatchObject({
      plan: {
        stack: {
          topology: { name: 'attach' },
          options: { otlpEndpoint: 'http://127.0.0.1:4318', loki: 'http://127.0.0.1:3100', tenant: 'team-a' },
        },
      },
    });
    expect(parseHeaders('authorization=Bearer%20abc,x-team=a')).toEqual({ authorization: 'Bearer abc', 'x-team': 'a' });
    expect(usage(() => parseHeaders('no-equals'))).toMatch(/--otlp-headers is invalid/);
    expect(usage(() => parseArgs(['soak', '--otlp-endpoint', 'ftp://x']))).toMatch(
      /--otlp-endpoint is invalid, expected an http\(s\) URL/,
    );
    expect(usage(() => parseArgs(['soak', '--otlp-endpoint', 'http://x:4318', '--image', 'otelcol=0.157.0']))).toMatch(
      /a stack booted here/,
    );
  });
});

describe('stack specs', () => {
  const spec = `apiVersion: otel-harness/v1
topology: phase1
source: local
options:
  traces: tempo
images:
  otelcol: 0.157.0
collectorConfigs:
  collector: ./otelcol.yaml
`;

  it('parse, and render back to the same spec', () => {
    const parsed = parseStackSpec(spec, 'a.yaml');
    expect(parsed).toEqual({
      topology: 'phase1',
      source: 'local',
      options: { traces: 'tempo' },
      images: { otelcol: '0.157.0' },
      collectorConfigs: { collector: './otelcol.yaml' },
      otelcolManifest: undefined,
    });
    expect(parseStackSpec(renderStackSpec(parsed), 'b.yaml')).toEqual(parsed);
  });

  it('name the bad field (exit 2)', () => {
    expect(usage(() => parseStackSpec(spec.replace('phase1', 'phase7'), 'a.yaml'))).toMatch(
      /a.yaml topology is invalid/,
    );
    expect(usage(() => parseStackSpec(spec.replace('traces: tempo', 'tracez: tempo'), 'a.yaml'))).toMatch(
      /a.yaml options.tracez is invalid, expected an option of phase1/,
    );
    expect(usage(() => parseStackSpec(`${spec}colour: blue\n`, 'a.yaml'))).toMatch(/a.yaml colour is invalid/);
    expect(usage(() => parseStackSpec(spec.replace('otel-harness/v1', 'v0'), 'a.yaml'))).toMatch(
      /apiVersion is invalid/,
    );
    expect(usage(() => parseStackSpec('images: [\n', 'a.yaml'))).toMatch(
      /a.yaml is invalid, expected a YAML stack spec/,
    );
  });

  it('feed the resolver: files relative to the spec, flags over the spec', () => {
    const dir = scratchDir('spec-');
    writeFileSync(join(dir, 'otelcol.yaml'), 'receivers: {}\n');
    writeFileSync(join(dir, 'stack.yaml'), spec);
    const r = resolveStack({ stack: join(dir, 'stack.yaml') }, {}, undefined);
    expect(r.options).toMatchObject({ traces: 'tempo' });
    expect(r.choice.collectorConfigs).toEqual({ collector: join(dir, 'otelcol.yaml') });
    expect(r.choice.images).toEqual({ otelcol: '0.157.0' });
    expect(resolveStack({ stack: join(dir, 'stack.yaml'), traces: 'jaeger' }, {}, undefined).options.traces).toBe(
      'jaeger',
    );
  });
});

describe('OTLP partial success', () => {
  it('decodes rejected items and the message from an Export*ServiceResponse', () => {
    // ExportTracePartialSuccess { rejected_spans = 1: 7, error_message = 2 } inside field 1.
    const body = new ProtoWriter(64).fork().varint(1, 7).string(2, 'sample out of order').join(1).finish();
    expect(decodePartialSuccess(body)).toEqual({ rejected: 7, errorMessage: 'sample out of order' });
    expect(decodePartialSuccess(new Uint8Array(0))).toEqual({ rejected: 0, errorMessage: '' });
    expect(decodePartialSuccessJson('{"partialSuccess":{"rejectedDataPoints":"3","errorMessage":"x"}}')).toEqual({
      rejected: 3,
      errorMessage: 'x',
    });
    expect(decodePartialSuccessJson('{"partial_success":{"rejected_data_points":2}}').rejected).toBe(2);
    expect(() => decodePartialSuccess(new Uint8Array([0x0a, 0x05, 0x08]))).toThrow(/runs past the end/);
  });
});

describe('verify', () => {
  const RUN = 'oh-20261201-100000-0123456789abcdef';
  it('verifies a finished run from its ledger, or from expected counts with the backends named', () => {
    expect(parseArgs(['verify', '--run-id', RUN])).toMatchObject({
      name: 'verify',
      options: { runId: RUN, reportDir: 'reports', expected: {}, attach: undefined },
    });
    expect(
      parseArgs([
        'verify',
        '--run-id',
        RUN,
        '--expected',
        'traces=25000',
        '--jaeger',
        'http://127.0.0.1:16686',
        '--since',
        '30m',
      ]),
    ).toMatchObject({
      options: { expected: { traces: 25_000 }, sinceMs: 1_800_000, attach: { jaeger: 'http://127.0.0.1:16686' } },
    });
    expect(usage(() => parseArgs(['verify']))).toMatch(/--run-id is invalid/);
    expect(usage(() => parseArgs(['verify', '--run-id', 'oh-1']))).toMatch(/--run-id is invalid, expected a run id/);
    expect(usage(() => parseArgs(['verify', '--run-id', RUN, '--expected', 'profiles=5']))).toMatch(
      /--expected is invalid/,
    );
    expect(usage(() => parseArgs(['verify', '--run-id', RUN, '--expected', 'traces=-5']))).toMatch(
      /--expected traces is invalid/,
    );
  });
});
