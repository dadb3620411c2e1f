import { describe, expect, it, vi } from 'vitest';
import { captureIo as capture } from './support/usage.js';
import { main, reportError } from '../../src/cli/main.js';
import { ExitCode, HarnessError } from '../../src/harness-error.js';
import type * as Testcontainers from 'testcontainers';

vi.mock('testcontainers', async (importOriginal) => ({
  ...(await importOriginal<typeof Testcontainers>()),
  getContainerRuntimeClient: () => Promise.reject(new Error('Could not find a working container runtime strategy')),
}));

const noSignals = { onInterrupt: () => () => undefined };

describe('main: errors become exit codes in one place', () => {
  it('prints one message and exits 2 for bad input, starting nothing', async () => {
    const c = capture();
    expect(await main(['up', '--phase', '9'], c.io, {}, noSignals)).toBe(ExitCode.usage);
    expect(c.err()).toBe("error: Configuration: --phase is invalid, expected one of 1, 2, 3 (actual: '9')\n");
    expect(c.out()).toBe('');
  });

  it('exits 2 for an unknown component before contacting the engine', async () => {
    const c = capture();
    expect(await main(['images', 'build', 'grafana'], c.io, {}, noSignals)).toBe(ExitCode.usage);
    expect(c.err()).toMatch(
      /component is invalid, expected one of toolbox, otelcol, tempo, loki, promtail, prometheus, jaeger/,
    );
  });

  it('exits 5 with how to start the engine when Docker is unreachable', async () => {
    const c = capture();
    expect(await main(['down'], c.io, {}, noSignals)).toBe(ExitCode.stackFailed);
    expect(c.err()).toMatch(
      /^error: Docker engine is unreachable: Could not find a working container runtime strategy\n/,
    );
    expect(c.err()).toMatch(/hint: start the Docker engine: `bash scripts\/docker-engine.sh`/);
  });

  it('prints help with every default and exits 0', async () => {
    const c = capture();
    expect(await main(['up', '--help'], c.io, {}, noSignals)).toBe(0);
    expect(c.out()).toMatch(/--traces <v> +trace backend: jaeger, tempo \(default: jaeger\)/);
    expect(c.out()).toMatch(
      /--source <v> +images: auto = images already here, else the published ones pulled, else built here .*\(default: auto\)/,
    );
    expect(c.out()).toMatch(/--ports <v> +host ports on 127.0.0.1: .* \(default: standard\)/);
  });

  it('maps HarnessError to its code with hint and details, anything else to 1', () => {
    const c = capture();
    const err = new HarnessError('loki did not become ready', {
      code: 'NOT_READY',
      exitCode: ExitCode.stackFailed,
      hint: 'look at the logs',
      details: 'line 1\nline 2',
    });
    expect(reportError(err, c.io)).toBe(5);
    expect(reportError(new TypeError('boom'), c.io)).toBe(1);
    expect(c.err()).toMatch(
      /^error: loki did not become ready\nhint: look at the logs\nline 1\nline 2\ninternal error \(please report it\): TypeError: boom/,
    );
  });
});
