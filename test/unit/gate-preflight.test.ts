import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/parse-args.js';
import { runGate, type GateDeps, type GatePlan } from '../../src/gate/gate.js';
import { ExitCode, HarnessError } from '../../src/harness-error.js';
import type { StackChoice } from '../../src/stack/topology.js';

/** A gate of otelcol-0.155.0.yaml (an --image version) vs seed.yaml, each with a collector configuration. */
function gatePlan(): GatePlan {
  const c = parseArgs(
    [
      'gate',
      '--baseline',
      'stacks/gates/seed.yaml',
      '--candidate',
      'stacks/gates/otelcol-0.155.0.yaml',
      '--rate',
      '900',
      '--duration',
      '30s',
    ],
    {},
  );
  if (c.name !== 'gate') throw new Error('not a gate');
  c.plan.baseline.choice.collectorConfigs = { collector: 'baseline-otelcol.yaml' };
  c.plan.candidate.choice.collectorConfigs = { collector: 'candidate-otelcol.yaml' };
  return c.plan;
}

/**
 * Fakes recording every check and boot in order. A boot is refused as a configuration would be (not
 * retried), so the gate stops at its first trial. `reject` makes one check of one arm fail as the real one does.
 */
function recording(plan: GatePlan, reject?: { arm: 'baseline' | 'candidate'; check: 'images' | 'configs' }) {
  const calls: string[] = [];
  const armOf = (choice: StackChoice) => (choice === plan.baseline.choice ? 'baseline' : 'candidate');
  const check = (what: 'images' | 'configs', choice: StackChoice, detail: string) => {
    calls.push(`${what} ${armOf(choice)}: ${detail}`);
    if (reject?.arm === armOf(choice) && reject.check === what)
      throw new HarnessError(
        what === 'configs'
          ? `Configuration: --collector-config ${detail} is invalid: the collector's validate command rejected it`
          : `Configuration: --image otelcol is invalid, expected a version the Go module proxy serves (actual: '0.155.0')`,
        { code: 'CONFIGURATION', exitCode: ExitCode.usage, details: "error decoding 'exporters': unknown type" },
      );
    return Promise.resolve();
  };
  const deps: GateDeps = {
    checks: {
      images: (choice) => check('images', choice, JSON.stringify(choice.images)),
      collectorConfigs: (choice) => check('configs', choice, Object.values(choice.collectorConfigs).join(',')),
    },
    startStack: (stack) => {
      calls.push(`start ${stack === plan.baseline ? 'baseline' : 'candidate'}`);
      return Promise.reject(
        new HarnessError('refused in this test', { code: 'CONFIGURATION', exitCode: ExitCode.usage }),
      );
    },
    runLoadStep: () => Promise.reject(new Error('no load in this test')),
  };
  return { calls, deps };
}

const io = { progress: () => undefined, images: { step: () => undefined, line: () => undefined } };

describe('gate: both specs are checked before any stack starts', () => {
  it('checks images and collector configurations of baseline, then candidate, then boots the first trial', async () => {
    const plan = gatePlan();
    const { calls, deps } = recording(plan);
    await runGate(plan, 'oh-test', io, new AbortController().signal, '0.0.0', deps);
    expect(calls).toEqual([
      'images baseline: {}',
      'configs baseline: baseline-otelcol.yaml',
      'images candidate: {"otelcol":"0.155.0"}',
      'configs candidate: candidate-otelcol.yaml',
      'start baseline',
    ]);
  });

  it("a candidate's collector configuration the collector rejects is exit 2 before the baseline's first trial", async () => {
    const plan = gatePlan();
    const { calls, deps } = recording(plan, { arm: 'candidate', check: 'configs' });
    const failure = await runGate(plan, 'oh-test', io, new AbortController().signal, '0.0.0', deps).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(HarnessError);
    const err = failure as HarnessError;
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe(
      "Configuration: --candidate is invalid, expected a valid stack spec (YAML, `up --print-spec`) (actual: 'stacks/gates/otelcol-0.155.0.yaml: Configuration: --collector-config candidate-otelcol.yaml is invalid: the collector's validate command rejected it')",
    );
    expect(err.details).toBe("error decoding 'exporters': unknown type"); // the collector's own words kept
    expect(calls.some((c) => c.startsWith('start'))).toBe(false);
  });

  it("a baseline's bad --image version is exit 2 naming the baseline; the candidate is not checked after it", async () => {
    const plan = gatePlan();
    const { calls, deps } = recording(plan, { arm: 'baseline', check: 'images' });
    const err = await runGate(plan, 'oh-test', io, new AbortController().signal, '0.0.0', deps).then(
      () => undefined,
      (e: unknown) => e as HarnessError,
    );
    expect(err?.exitCode).toBe(2);
    expect(err?.message).toMatch(
      /^Configuration: --baseline is invalid, expected a valid stack spec .*\(actual: 'stacks\/gates\/seed\.yaml: Configuration: --image otelcol is invalid/,
    );
    expect(calls).toEqual(['images baseline: {}']);
  });
});
