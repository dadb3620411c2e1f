import { describe, expect, it } from 'vitest';
import { refused as usageError } from './support/usage.js';
import { parseArgs } from '../../src/cli/parse-args.js';

describe('parseArgs', () => {
  it('defaults up to phase 1, jaeger, images here or pulled or built (auto), the seed ports', () => {
    expect(parseArgs(['up'])).toMatchObject({
      name: 'up',
      json: false,
      printSpec: false,
      stack: {
        topology: { name: 'phase1' },
        options: { traces: 'jaeger', variant: 'seed' },
        choice: { source: 'auto', ports: 'standard', images: {}, collectorConfigs: {} },
      },
    });
  });

  it('takes flags over environment over defaults', () => {
    const env = { OTEL_HARNESS_TRACES: 'tempo', OTEL_HARNESS_PORTS: 'random' };
    expect(parseArgs(['up'], env)).toMatchObject({
      stack: { options: { traces: 'tempo' }, choice: { ports: 'random', source: 'auto' } },
    });
    expect(parseArgs(['up', '--traces', 'jaeger'], env)).toMatchObject({
      stack: { options: { traces: 'jaeger' }, choice: { ports: 'random' } },
    });
    expect(parseArgs(['up', '--phase=1', '--source', 'auto', '--json'])).toMatchObject({
      json: true,
      stack: { choice: { source: 'auto' } },
    });
  });

  it('rejects an unknown phase, backend or source with the valid values (exit 2)', () => {
    expect(usageError(['up', '--phase', '4']).message).toBe(
      "Configuration: --phase is invalid, expected one of 1, 2, 3 (actual: '4')",
    );
    expect(usageError(['up', '--traces', 'zipkin']).message).toBe(
      "Configuration: --traces is invalid, expected one of jaeger, tempo (actual: 'zipkin')",
    );
    expect(usageError(['up', '--source', 'registry']).message).toMatch(/expected one of auto, local, upstream/);
    expect(usageError(['up'], { OTEL_HARNESS_SOURCE: 'nope' }).message).toMatch(/OTEL_HARNESS_SOURCE is invalid/);
  });

  it('rejects unknown commands, options and arguments', () => {
    expect(usageError(['soakk']).message).toMatch(
      /command is invalid, expected one of soak, chaos, capacity, gate, verify, up, down, images, k6, help/,
    );
    expect(usageError(['up', '--rate', '5']).message).toBe('Configuration: up has no option --rate');
    expect(usageError(['up', 'now']).message).toMatch(/no positional arguments/);
    expect(usageError(['images', 'push']).message).toMatch(/expected one of build, list/);
    expect(usageError(['down', '--run-id', 'abc']).message).toMatch(/--run-id is invalid/);
  });

  it('parses capacity and refuses what the search sets itself, unknown SLOs and a range that is not one', () => {
    const c = parseArgs([
      'capacity',
      '--phase',
      '1',
      '--from',
      '2000',
      '--to',
      '30000',
      '--slo',
      'achieved=99%,p99=8s',
      '--for-rate',
      '25000',
    ]);
    expect(c.name).toBe('capacity');
    if (c.name !== 'capacity') return;
    expect(c.plan.options).toMatchObject({
      fromRps: 2000,
      toRps: 30000,
      trialMs: 20_000,
      confirmMs: 60_000,
      precision: 0.05,
      forRps: 25000,
      headroom: 0.5,
      slo: { achieved: 0.99, p99Ms: 8000, refusals: 0 },
    });
    expect(c.plan.stack.topology.name).toBe('phase1');
    expect(usageError(['capacity', '--duration', '5m']).message).toMatch(
      /--duration is invalid, expected nothing: capacity chooses/,
    );
    expect(usageError(['capacity', '--slo', 'p95=1s']).message).toMatch(
      /--slo is invalid, expected SLOs from achieved, p99, refusals.*'p95'/,
    );
    expect(usageError(['capacity', '--slo', 'achieved=1.5']).message).toMatch(/--slo achieved is invalid/);
    expect(usageError(['capacity', '--for-rate', '0']).message).toMatch(/--for-rate is invalid, expected a number > 0/);
    expect(usageError(['capacity', '--from', '5000', '--to', '4000']).message).toMatch(
      /--to is invalid, expected a rate above --from \(5000\)/,
    );
    expect(usageError(['capacity', '--signals', 'traces=100,logs']).message).toMatch(
      /--signals is invalid, expected signals without rates/,
    );
    expect(usageError(['capacity', '--otlp-endpoint', 'http://127.0.0.1:4318']).message).toMatch(
      /--target is invalid, expected a stack booted by the search/,
    );
  });

  it('parses images and down', () => {
    expect(parseArgs(['images', 'build', 'loki', 'tempo', '--force'])).toEqual({
      name: 'images-build',
      components: ['loki', 'tempo'],
      force: true,
      verbose: false,
    });
    expect(parseArgs(['images', 'list', '--json'])).toEqual({ name: 'images-list', json: true });
    expect(parseArgs(['down'])).toEqual({ name: 'down', runId: undefined });
    expect(parseArgs(['down', '--run-id', 'oh-20261121-120000-0123456789abcdef'])).toEqual({
      name: 'down',
      runId: 'oh-20261121-120000-0123456789abcdef',
    });
  });

  it('answers help and version', () => {
    expect(parseArgs([])).toEqual({ name: 'help' });
    expect(parseArgs(['up', '--help'])).toEqual({ name: 'help', topic: 'up' });
    expect(parseArgs(['help', 'images'])).toEqual({ name: 'help', topic: 'images' });
    expect(parseArgs(['--version'])).toEqual({ name: 'version' });
  });
});
