import { describe, expect, it } from 'vitest';
import { usage as rejects } from './support/usage.js';
import { parseArgs } from '../../src/cli/parse-args.js';
import { envName } from '../../src/options/option-table.js';
import { resolveSoakOptions, signalRates } from '../../src/soak/soak-options.js';
import { resolveStack } from '../../src/stack/stack-options.js';
import { planSignalRates } from '../../src/load/signal-plan.js';
import { planLoad, planSoak } from '../../src/soak/soak-plan.js';

describe('soak options', () => {
  it('defaults to a 1 minute run at 1000 items/s over the three signals', () => {
    const o = resolveSoakOptions({}, {});
    expect(o).toMatchObject({
      rateRps: 1000,
      durationMs: 60_000,
      driver: 'native',
      maxLoss: { kind: 'items', value: 0 },
    });
    expect(resolveStack({}, {}, undefined)).toMatchObject({
      topology: { name: 'phase1' },
      options: { traces: 'jaeger', variant: 'seed' },
    });
    expect(signalRates(o)).toEqual({ traces: 1000 / 3, metrics: 1000 / 3, logs: 1000 / 3 });
  });

  it('parses flags over the environment', () => {
    const env = { [envName('rate')]: '500', [envName('max-loss')]: '0.1%' };
    expect(resolveSoakOptions({}, env)).toMatchObject({ rateRps: 500, maxLoss: { kind: 'percent', value: 0.1 } });
    expect(resolveSoakOptions({ rate: '25000' }, env).rateRps).toBe(25000);
    expect(
      parseArgs(['soak', '--rate', '25000', '--duration', '2m', '--profile', 'ramp:30s', '--json'], {}),
    ).toMatchObject({
      name: 'soak',
      plan: { options: { rateRps: 25000, durationMs: 120_000, profile: { kind: 'ramp', rampMs: 30_000 }, json: true } },
    });
  });

  it('rejects bad values before anything starts, one message each (exit 2)', () => {
    expect(rejects(() => resolveSoakOptions({ rate: '0' }, {}))).toBe(
      "Configuration: --rate is invalid, expected a number > 0 (actual: '0')",
    );
    expect(rejects(() => resolveSoakOptions({ rate: '-5' }, {}))).toMatch(/--rate is invalid/);
    expect(rejects(() => resolveSoakOptions({ signals: 'traces,profiles' }, {}))).toMatch(
      /--signals is invalid, expected signals from traces, metrics, logs/,
    );
    expect(rejects(() => resolveSoakOptions({ duration: 'forever' }, {}))).toMatch(
      /--duration is invalid, expected a duration like 30s/,
    );
    expect(rejects(() => resolveSoakOptions({ driver: 'k7' }, {}))).toMatch(
      /--driver is invalid, expected one of native, sdk/,
    );
    expect(resolveSoakOptions({ driver: 'sdk' }, {}).driver).toBe('sdk'); // all three signals
    expect(rejects(() => resolveSoakOptions({ driver: 'k6-operator', scenario: 'mixed' }, {}))).toMatch(
      /a scenario of traces or logs with --driver k6-operator/,
    );
    expect(rejects(() => resolveSoakOptions({ 'max-loss': 'some' }, {}))).toMatch(/--max-loss is invalid/);
    expect(rejects(() => resolveSoakOptions({ profile: 'ramp:5m', duration: '1m' }, {}))).toMatch(
      /a ramp no longer than --duration/,
    );
    expect(rejects(() => resolveSoakOptions({}, { [envName('error-fraction')]: '2' }))).toMatch(
      /OTEL_HARNESS_ERROR_FRACTION is invalid/,
    );
    expect(rejects(() => parseArgs(['soak', '--rat', '5'], {}))).toMatch(/soak has no option --rat/);
  });

  it('checks the variant and the target file before anything starts', () => {
    expect(rejects(() => resolveStack({ variant: 'nope' }, {}, undefined))).toMatch(
      /--variant is invalid, expected one of seed, costly-filter, hardened, planted-loss/,
    );
    expect(rejects(() => resolveStack({ target: '/no/such/stack.json' }, {}, undefined))).toMatch(
      /--target is invalid/,
    );
    expect(rejects(() => parseArgs(['soak', '--target', '/no/such.json', '--chaos', 'kill:collector@1s'], {}))).toMatch(
      /--target is invalid/,
    );
  });
});

describe('signal rates and plan', () => {
  it('shares the total rate, honours explicit rates and rejects inconsistent ones', () => {
    expect(planSignalRates(1000, 'traces')).toEqual({ traces: 1000 });
    expect(planSignalRates(25000, 'traces=20000,logs')).toEqual({ traces: 20000, logs: 5000 });
    expect(planSignalRates(undefined, 'traces=100,logs=50')).toEqual({ traces: 100, logs: 50 });
    expect(() => planSignalRates(100, 'traces=200,logs')).toThrow(/more than the explicit signal rates/);
    expect(() => planSignalRates(100, 'traces=200')).toThrow(/the sum of the signal rates/);
    expect(() => planSignalRates(100, 'traces,traces')).toThrow(/each signal once/);
    expect(() => planSignalRates(100, 'logs=0')).toThrow(/a rate > 0/);
  });

  it('turns item rates into units, batches and a known metric series set', () => {
    const plan = planLoad(
      resolveSoakOptions({ rate: '3000', 'spans-per-trace': '4', batch: '200', 'metric-interval': '5s' }, {}),
    );
    const traces = plan.signals.find((s) => s.signal === 'traces')!;
    expect(traces).toMatchObject({ rateRps: 1000, unitRate: 250, itemsPerUnit: 4, batchUnits: 50 });
    expect(plan.metricShape).toEqual({ series: 5000, intervalMs: 5000 });
    const fixedSeries = planLoad(resolveSoakOptions({ rate: '3000', 'metric-series': '2000' }, {}));
    expect(fixedSeries.metricShape).toEqual({ series: 2000, intervalMs: 2000 });
    expect(rejects(() => planLoad(resolveSoakOptions({ rate: '3000', 'metric-series': '10' }, {})))).toMatch(
      /--metric-series is invalid/,
    );
    const chaos = planSoak(resolveSoakOptions({ chaos: 'kill:collector@5s' }, {}), resolveStack({}, {}, undefined));
    expect(chaos.faults).toMatchObject([{ action: 'kill', target: 'otelcol', atMs: 5_000 }]);
  });
});
