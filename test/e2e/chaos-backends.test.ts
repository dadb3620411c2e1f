import { describe, expect, it } from 'vitest';
import type { SoakResult } from '../../src/report/result.js';
import { runReported } from './support/cli.js';
import { harnessLeftovers, NOTHING_LEFT } from './support/leftovers.js';

/**
 * Faults on the backends, at low rates: nothing here measures the machine (no recovery time is asserted
 * tighter than the fault's own length), so these run beside other light files. The collector's faults,
 * whose timings are asserted, are in chaos.test.ts.
 */
describe('chaos on the backends of Phase 1 (real containers, real faults)', () => {
  it('Loki and the trace backend each down for 20 s mid-run: nothing lost after drain', async () => {
    const run = await runReported(['chaos', '--scenario', 'backend-outage', '--rate', '800']);
    const { code, stderr } = run;
    const r: SoakResult = run.result();
    expect(await harnessLeftovers(r.runId)).toEqual(NOTHING_LEFT);
    expect(code, stderr).toBe(0);
    expect((['traces', 'metrics', 'logs'] as const).map((s) => r.verification.signals[s]!.lost)).toEqual([0, 0, 0]);
    expect(r.chaos!.faults.map((f) => [f.action, f.target, f.error])).toEqual([
      ['outage', 'loki', undefined],
      ['outage', 'jaeger', undefined],
    ]);
    for (const f of r.chaos!.faults) {
      expect(f.readyAtMs! - f.startedAtMs!).toBeGreaterThanOrEqual(20_000);
      expect(f.queuePeak).toBeGreaterThan(0); // the collector queued while the backend was away
    }
    expect(r.drain?.drained).toBe(true);
  });

  it('interrupted mid-fault: the paused container is unpaused and everything is removed (exit 130)', async () => {
    const run = await runReported(['soak', '--rate', '300', '--duration', '60s', '--chaos', 'pause:loki@3s+50s'], {
      when: /chaos: pause:loki@3s\+50s\n/,
      signal: 'SIGINT',
    });
    expect(run.code, run.stderr).toBe(130);
    const r = run.result();
    expect(r.partial).toBe(true);
    expect(r.chaos?.faults[0]?.startedAtMs).toBeDefined();
    expect(await harnessLeftovers(r.runId)).toEqual(NOTHING_LEFT);
  });
});
