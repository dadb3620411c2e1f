import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/paths.js';
import { harnessLeftovers, NOTHING_LEFT } from './support/leftovers.js';

/** Runs `otel-harness up`, sends `signal` when stderr matches `when`, resolves with the exit code and stderr. */
function upAndInterrupt(
  args: string[],
  when: RegExp,
  signal: NodeJS.Signals,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(packageRoot(), 'bin', 'otel-harness.js'), 'up', ...args], {
      env: { ...process.env, TESTCONTAINERS_RYUK_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!sent && when.test(stderr)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

function runIdOf(stderr: string): string {
  const match = /run (oh-\d{8}-\d{6}-[0-9a-f]{16})/.exec(stderr);
  if (match?.[1] === undefined) throw new Error(`no run id in output:\n${stderr}`);
  return match[1];
}

describe('interrupting otel-harness up', () => {
  it.each([
    ['as the first containers are created', /: starting \(/],
    ['with the backends running and the collector starting', /otelcol: starting \(/],
  ])('SIGINT mid-boot (%s) removes every container, network and volume of the run and exits 130', async (_when, at) => {
    const { code, stderr } = await upAndInterrupt(['--phase', '1', '--ports', 'random'], at, 'SIGINT');
    expect(stderr).toMatch(/SIGINT received: stopping and removing run/);
    expect(stderr).not.toMatch(/Phase 1 \(traces: jaeger\) ready in/);
    expect(code).toBe(130);
    expect(await harnessLeftovers(runIdOf(stderr))).toEqual(NOTHING_LEFT);
  });

  it('SIGTERM once the stack is up removes everything and exits 0', async () => {
    const { code, stderr } = await upAndInterrupt(
      ['--traces', 'tempo', '--ports', 'random'],
      /Press Ctrl-C/,
      'SIGTERM',
    );
    expect(stderr).toMatch(/Phase 1 \(traces: tempo\) ready in/);
    expect(code).toBe(0);
    expect(await harnessLeftovers(runIdOf(stderr))).toEqual(NOTHING_LEFT);
  });

  it('SIGINT once Phase 2 is up removes its ten containers, network and volumes and exits 0', async () => {
    const { code, stderr } = await upAndInterrupt(['--phase', '2', '--ports', 'random'], /Press Ctrl-C/, 'SIGINT');
    expect(stderr).toMatch(/Phase 2 \(2 gateways, 2 processors\) ready in/);
    expect(stderr).toMatch(/removed run oh-/);
    expect(code).toBe(0);
    expect(await harnessLeftovers(runIdOf(stderr))).toEqual(NOTHING_LEFT);
  });
});
