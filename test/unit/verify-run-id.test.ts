import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runVerifyCommand } from '../../src/cli/commands/verify.js';
import { Reporter } from '../../src/cli/output.js';
import { Ledger } from '../../src/load/ledger.js';
import { SOAK_SERVICE_NAME } from '../../src/load/run-identity.js';
import type { SoakResult } from '../../src/report/result.js';
import { resolveSoakOptions } from '../../src/soak/soak-options.js';
import { planLoad } from '../../src/soak/soak-plan.js';
import { replayOf, samplingOf, writeReplay, type SamplingPath } from '../../src/step/replay.js';
import { startSim, type Sim } from './support/backend-sims.js';
import { scratchDir } from '../support/scratch.js';

const RUN = 'oh-20261206-100000-0123456789abcdef';
const LOAD_START = Date.UTC(2026, 11, 6, 10, 0, 0);
const TRACES = 400;

/** A Phase 2 path: gateways pass everything, processors keep 25 % of traces by trace id. */
const PATH: SamplingPath = {
  collectors: [
    { name: 'gateway-1', role: 'gateway', config: 'service: { pipelines: { traces: { exporters: [kafka] } } }' },
    {
      name: 'processor-1',
      role: 'processor',
      config: `
processors:
  tail_sampling:
    decision_wait: 10s
    policies:
      - { name: some, type: probabilistic, probabilistic: { sampling_percentage: 25 } }
exporters: { otlp_grpc/tempo: { endpoint: tempo:4317 } }
service: { pipelines: { traces: { receivers: [kafka], processors: [tail_sampling], exporters: [otlp_grpc/tempo] } } }
`,
    },
  ],
  collectorVersion: '0.158.0',
};

let sim: Sim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const sink = () =>
  new Writable({
    write(_chunk, _enc, done) {
      done();
    },
  });

describe('verify --run-id', () => {
  it('decides as the run did: the traces its tail sampler dropped are predicted, not lost', async () => {
    const spec = planLoad(resolveSoakOptions({ signals: 'traces', rate: '100', duration: '20s' }, {}));
    const sampling = samplingOf(PATH, spec.traceShape, { runId: RUN, serviceName: SOAK_SERVICE_NAME });
    expect(sampling.kind).toBe('predict');
    const keep = (seq: number) => sampling.kind === 'predict' && sampling.keep(seq);
    sim = await startSim('jaeger', {
      runId: RUN,
      units: TRACES,
      spansPerTrace: spec.traceShape.spansPerTrace,
      copies: (seq) => (keep(seq) ? 1 : 0),
      timeOf: (seq) => LOAD_START + seq * 50,
    });
    const ledger = new Ledger({ traces: spec.traceShape.spansPerTrace, metrics: 1, logs: 1 });
    ledger.record('traces', { first: 0, count: TRACES, outcome: 'acknowledged', answer: '200', atMs: 20_000 });
    const reportDir = scratchDir('oh-verify-');
    mkdirSync(join(reportDir, RUN));
    const backends = { traces: { backend: 'jaeger', endpoint: { query: sim.url } } };
    writeReplay(join(reportDir, RUN), replayOf(RUN, ledger, spec, LOAD_START, backends, PATH));

    const code = await runVerifyCommand(
      {
        name: 'verify',
        options: {
          runId: RUN,
          reportDir,
          verifySample: undefined,
          json: false,
          expected: {},
          sinceMs: 0,
          spansPerTrace: spec.traceShape.spansPerTrace,
          attach: undefined,
        },
      },
      new Reporter({ stdout: sink(), stderr: sink() }),
      'test',
    );
    const result = JSON.parse(readFileSync(join(reportDir, RUN, 'verify', 'result.json'), 'utf8')) as SoakResult;
    const v = result.verification.signals.traces!;
    const kept = Array.from({ length: TRACES }, (_, s) => s).filter(keep).length;
    expect(v.sampling).toMatchObject({ predictedKept: kept, predictedDropped: TRACES - kept, keptUnpredicted: 0 });
    expect(v.lost).toBe(0);
    expect(code).toBe(0);
  });
});
