import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseArgs } from '../../src/cli/parse-args.js';
import { resolveSoakOptions } from '../../src/soak/soak-options.js';
import { HarnessError } from '../../src/harness-error.js';
import { loadCatalog } from '../../src/images/catalog.js';
import { renderTestRun, toYaml } from '../../src/k8s/k6-testrun.js';
import { k6BinaryPath, xk6BuildArgs } from '../../src/load/drivers/k6/k6-binary.js';
import { mergeSummaries, RunnerLog, testRunName } from '../../src/load/drivers/k6/k6-operator-driver.js';
import { k6OperatorManifests } from '../../src/k8s/k6-operator.js';
import { k6Env, k6Scenario, K6_SCENARIOS, type K6RunInput } from '../../src/load/drivers/k6/k6-scenarios.js';
import { stacksDir } from '../../src/paths.js';

const tool = loadCatalog().tools.get('k6')!;
const input: K6RunInput = {
  scenario: 'traces',
  runId: 'oh-20261121-120000-ab12',
  serviceName: 'otel-harness-soak',
  otlpHttp: 'http://127.0.0.1:4318',
  durationMs: 60_000,
  rates: { traces: 5000 },
  batchItems: 512,
  spansPerTrace: 5,
  metricSeries: 1,
  metricIntervalMs: 5000,
  metricStartMs: 1795000000000,
  logBodyBytes: 200,
  logSeverity: 'INFO',
  summaryFile: '/tmp/s.json',
};

describe('k6 tool', () => {
  it('is pinned in the catalog and built with xk6 against the k6 v2 module', () => {
    expect(tool).toMatchObject({
      version: '2.2.0',
      builder: 'go.k6.io/xk6@v1.4.11',
      module: 'go.k6.io/k6/v2@v2.2.0',
      upstream: 'docker.io/grafana/k6:2.2.0',
    });
    expect(xk6BuildArgs(tool, '/out/k6')).toEqual([
      'build',
      'v2.2.0',
      '--k6-repo',
      'go.k6.io/k6/v2',
      '--output',
      '/out/k6',
    ]);
    expect(xk6BuildArgs({ ...tool, extensions: ['example.com/xk6-x@v1.0.0'] }, '/o')).toContain(
      'example.com/xk6-x@v1.0.0',
    );
    expect(k6BinaryPath(tool, '/c')).toMatch(/^\/c\/tools\/k6-2\.2\.0-[0-9a-f]{12}\/k6$/);
    expect(k6BinaryPath({ ...tool, extensions: ['x@v1'] }, '/c')).not.toBe(k6BinaryPath(tool, '/c'));
  });
});

describe('k6 scenarios', () => {
  it('name the signals each scenario sends; an unknown one is exit 2 with the list', () => {
    expect(k6Scenario('mixed').signals).toEqual(['traces', 'metrics', 'logs']);
    expect(Object.keys(K6_SCENARIOS)).toEqual(['traces', 'traces-ramping', 'logs', 'metrics', 'mixed', 'steps']);
    expect(() => k6Scenario('spike')).toThrow(
      /--scenario is invalid, expected one of traces, traces-ramping, logs, metrics, mixed, steps \(actual: 'spike'\)/,
    );
  });

  it('renders the __ENV each scenario reads', () => {
    expect(k6Env(input)).toMatchObject({
      RATE: '5000',
      DURATION: '60s',
      BATCH: '512',
      RUN_ID: input.runId,
      OTLP_HTTP: input.otlpHttp,
      SUMMARY_FILE: '/tmp/s.json',
    });
    const mixed = k6Env({ ...input, scenario: 'mixed', rates: { traces: 100, metrics: 50, logs: 25 } });
    expect(mixed).toMatchObject({ RATE_TRACES: '100', RATE_METRICS: '50', RATE_LOGS: '25' });
    expect(mixed.RATE).toBeUndefined();
    expect(k6Env(input).COMPRESSION).toBeUndefined();
    expect(k6Env({ ...input, compression: 'gzip' }).COMPRESSION).toBe('gzip');
    expect(k6Env(input).PROTOCOL).toBeUndefined();
    expect(k6Env({ ...input, grpcTarget: '127.0.0.1:4317' })).toMatchObject({
      PROTOCOL: 'grpc',
      OTLP_GRPC: '127.0.0.1:4317',
    });
    expect(k6Env({ ...input, scenario: 'traces-ramping', rampMs: 20_000 })).toMatchObject({ RAMP: '20s', HOLD: '40s' });
    expect(k6Env({ ...input, scenario: 'steps', steps: 4, durationMs: 240_000 })).toMatchObject({
      STEPS: '4',
      STEP_SECONDS: '55',
      STEP_RAMP: '5s',
    });
  });

  it('soak --driver k6 takes its signals from the scenario and rejects a mismatch', () => {
    expect(resolveSoakOptions({ driver: 'k6', scenario: 'logs', rate: '300' }, {}).signals).toBe('logs');
    expect(() => resolveSoakOptions({ driver: 'k6', scenario: 'logs', signals: 'traces' }, {})).toThrow(
      /--signals is invalid, expected the signals of k6 scenario logs/,
    );
    expect(() => resolveSoakOptions({ driver: 'k6', scenario: 'nope' }, {})).toThrow(HarnessError);
  });
});

describe('k6-operator TestRun', () => {
  const schema = JSON.parse(
    readFileSync(join(stacksDir(), 'k8s', 'k6-operator-testrun.schema.json'), 'utf8'),
  ) as object;
  const validate = new Ajv({ allErrors: true }).compile(schema);
  const rendered = renderTestRun({
    name: 'otel-harness-traces',
    namespace: 'observability',
    parallelism: 4,
    archiveBase64: Buffer.from('tar bytes').toString('base64'),
    env: k6Env(input),
    runnerImage: tool.upstream,
  });

  it('validates against the CRD schema subset and references the archive in its ConfigMap', () => {
    expect(validate(rendered.testRun), JSON.stringify(validate.errors)).toBe(true);
    const spec = (
      rendered.testRun as { spec: { script: { configMap: { name: string; file: string } }; parallelism: number } }
    ).spec;
    expect(spec.parallelism).toBe(4);
    expect(spec.script.configMap).toEqual({ name: 'otel-harness-traces-script', file: 'archive.tar' });
    expect((rendered.configMap as { metadata: { name: string } }).metadata.name).toBe(spec.script.configMap.name);
    expect((rendered.configMap as { binaryData: Record<string, string> }).binaryData['archive.tar']).toBe(
      Buffer.from('tar bytes').toString('base64'),
    );
  });

  it('fails validation for what the CRD rejects', () => {
    const bad = (mutate: (spec: Record<string, unknown>) => void) => {
      const copy = JSON.parse(JSON.stringify(rendered.testRun)) as { spec: Record<string, unknown> };
      mutate(copy.spec);
      return validate(copy);
    };
    expect(bad((s) => (s.parallelism = 0))).toBe(false);
    expect(bad((s) => (s.parallelism = 1.5))).toBe(false);
    expect(bad((s) => (s.cleanup = 'always'))).toBe(false);
    expect(bad((s) => delete s.script)).toBe(false);
    expect(bad((s) => (s.paralelism = 3))).toBe(false);
  });

  it('prints both documents as YAML', () => {
    const docs = toYaml([rendered.configMap, rendered.testRun])
      .split('---\n')
      .map((d) => parse(d) as { kind: string });
    expect(docs.map((d) => d.kind)).toEqual(['ConfigMap', 'TestRun']);
  });

  it('checks manifest options before building anything (exit 2)', () => {
    const reject = (argv: string[]) => {
      try {
        parseArgs(argv, {});
      } catch (err) {
        expect((err as HarnessError).exitCode).toBe(2);
        return (err as HarnessError).message;
      }
      throw new Error('expected rejection');
    };
    expect(reject(['k6', 'manifest'])).toMatch(/--parallelism is invalid, expected the number of k6 runners/);
    expect(reject(['k6', 'manifest', '--parallelism', '0'])).toMatch(/--parallelism is invalid/);
    expect(reject(['k6', 'manifest', '--parallelism', '2', '--name', 'Bad_Name'])).toMatch(/--name is invalid/);
    expect(reject(['k6', 'manifest', '--parallelism', '2', '--k6-endpoint', 'otel:4318'])).toMatch(
      /--k6-endpoint is invalid/,
    );
    expect(reject(['k6', 'deploy'])).toMatch(/k6 subcommand is invalid, expected one of build, manifest/);
    expect(parseArgs(['k6', 'manifest', '--parallelism', '3', '--scenario', 'mixed'], {})).toMatchObject({
      name: 'k6-manifest',
      options: { parallelism: 3, scenario: 'mixed', namespace: 'default' },
    });
  });
});

describe('k6-operator TestRun run by the harness', () => {
  const base = {
    name: 'otel-harness-ab12',
    namespace: 'observability',
    parallelism: 2,
    archiveBase64: 'dGFy',
    env: { RUN_ID: 'oh-1' },
    runnerImage: 'docker.io/otel-harness/k6-runner:2.2.0',
  };

  it('sends every point to stdout, keeps its jobs for the harness to read, and names its starter image', () => {
    const { testRun } = renderTestRun({
      ...base,
      starterImage: 'docker.io/otel-harness/k6-runner:2.2.0',
      arguments: '--no-usage-report --out json',
      cleanup: 'none',
    });
    const spec = (testRun as { spec: Record<string, unknown> }).spec;
    expect(spec.arguments).toBe('--no-usage-report --out json');
    expect(spec.cleanup).toBeUndefined();
    expect(spec.starter).toEqual({ image: 'docker.io/otel-harness/k6-runner:2.2.0' });
    // What `k6 manifest` prints for users stays as it was: the operator cleans up, its default starter.
    const manifest = (renderTestRun(base).testRun as { spec: Record<string, unknown> }).spec;
    expect([manifest.cleanup, manifest.arguments, manifest.starter]).toEqual(['post', '--no-usage-report', undefined]);
  });

  it('names the TestRun with a DNS label the operator can suffix (-initializer, -service-N)', () => {
    const name = testRunName('oh-20261204-181844-4e05959ce286f139');
    expect(name).toBe('otel-harness-4e05959ce286f139');
    expect(`${name}-initializer`.length).toBeLessThanOrEqual(63);
    expect(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)).toBe(true);
  });

  const summaryLines = (iterations: number, dropped = 0) =>
    JSON.stringify(
      {
        scenario: 'traces',
        iterations,
        droppedIterations: dropped,
        droppedByScenario: { traces: dropped },
        httpReqs: iterations,
        httpReqFailedRate: 0,
        httpReqDurationP99Ms: 12,
        thresholds: [{ metric: 'http_req_failed', expression: 'rate<0.01', ok: true }],
      },
      null,
      2,
    ).split('\n');
  const point = (first: number) =>
    JSON.stringify({
      type: 'Point',
      metric: 'otel_harness_items',
      data: {
        time: '2026-12-04T20:00:01Z',
        value: 510,
        tags: { signal: 'traces', outcome: 'acknowledged', first: String(first), units: '102', answer: '200' },
      },
    });

  it("reads a runner's pod log: points, k6's own lines, and the pretty-printed summary among them", () => {
    const seen: string[] = [];
    const log = new RunnerLog('otel-harness-ab12-1-x', (line) => {
      seen.push(line);
      return line.includes('"Point"');
    });
    const lines = [
      '{"type":"Metric","data":{"name":"otel_harness_items"},"metric":"otel_harness_items"}',
      point(0),
      'time="2026-12-04T20:00:00Z" level=info msg="k6 started"',
      point(102),
      ...summaryLines(2),
    ];
    for (const l of lines) log.line(`${l}\r`);
    expect(log.points).toBe(2);
    expect(seen).toHaveLength(3);
    expect(log.summary?.iterations).toBe(2);
    expect(log.tail).toEqual(['time="2026-12-04T20:00:00Z" level=info msg="k6 started"']);
    expect(log.gap()).toBeUndefined();
  });

  it('says when a runner ran more iterations than its answers read back, or wrote no summary', () => {
    const short = new RunnerLog('r-1', () => true);
    short.line(point(0));
    for (const l of summaryLines(3)) short.line(l);
    expect(short.gap()).toBe('runner r-1 ran 3 iterations, 1 of their answers were read back');
    const none = new RunnerLog('r-2', () => true);
    none.line(point(0));
    expect(none.gap()).toMatch(/r-2 wrote no summary/);
  });

  it('merges the runners’ summaries: counts added, worst p99, a threshold ok only where every runner passed', () => {
    const s = (iterations: number, dropped: number, p99: number, ok: boolean) => ({
      scenario: 'traces',
      iterations,
      droppedIterations: dropped,
      droppedByScenario: { traces: dropped },
      httpReqs: iterations,
      httpReqFailedRate: ok ? 0 : 0.5,
      httpReqDurationP99Ms: p99,
      thresholds: [{ metric: 'http_req_failed', expression: 'rate<0.01', ok }],
    });
    const merged = mergeSummaries([s(100, 2, 10, true), s(300, 0, 40, false)])!;
    expect(merged).toMatchObject({
      iterations: 400,
      droppedIterations: 2,
      droppedByScenario: { traces: 2 },
      httpReqs: 400,
      httpReqDurationP99Ms: 40,
    });
    expect(merged.httpReqFailedRate).toBeCloseTo(0.375);
    expect(merged.thresholds[0]!.ok).toBe(false);
    expect(mergeSummaries([])).toBeUndefined();
  });

  it('refuses a metrics scenario with --driver k6-operator (exit 2)', () => {
    expect(() => resolveSoakOptions({ driver: 'k6-operator', scenario: 'metrics', rate: '1000' }, {})).toThrow(
      /--scenario is invalid, expected a scenario of traces or logs with --driver k6-operator/,
    );
    expect(resolveSoakOptions({ driver: 'k6-operator', scenario: 'logs', rate: '1000' }, {})).toMatchObject({
      driver: 'k6-operator',
      parallelism: 2,
      signals: 'logs',
    });
  });
});

describe('k6-operator deployment', () => {
  it('binds the module’s rules to its own ServiceAccount and runs the manager as its upstream image does', () => {
    const rules = [{ apiGroups: ['k6.io'], resources: ['testruns'], verbs: ['get'] }];
    const objects = k6OperatorManifests('docker.io/otel-harness/k6-operator:0.0.19', rules);
    expect(objects.map((o) => o.kind)).toEqual([
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
    ]);
    expect((objects[2] as unknown as { rules: unknown }).rules).toBe(rules);
    const binding = objects[3] as unknown as {
      subjects: { name: string; namespace: string }[];
      roleRef: { name: string };
    };
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'k6-operator', namespace: 'otel-harness-k6' }]);
    expect(binding.roleRef.name).toBe(objects[2]!.metadata.name);
    const container = (
      objects[4] as unknown as {
        spec: { template: { spec: { containers: { image: string; args: string[] }[] } } };
      }
    ).spec.template.spec.containers[0]!;
    expect(container.image).toBe('docker.io/otel-harness/k6-operator:0.0.19');
    expect(container.args).toEqual(['--metrics-addr=:8080']);
  });

  it('pins the operator and the runner image in the catalog, with the upstream layout', () => {
    const catalog = loadCatalog();
    expect(catalog.components.get('k6-operator')).toMatchObject({
      version: '0.0.19',
      upstream: 'ghcr.io/grafana/k6-operator:controller-v0.0.19',
      layout: { binary: '/manager', user: '65532:65532' },
    });
    expect(catalog.components.get('k6-runner')).toMatchObject({
      version: tool.version,
      upstream: tool.upstream,
      layout: { binary: '/usr/bin/k6', user: '12345:12345' },
    });
  });
});
