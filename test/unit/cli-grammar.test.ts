import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureIo as io, refused as refusal } from './support/usage.js';
import { helpText } from '../../src/cli/help.js';
import { main } from '../../src/cli/main.js';
import { commandSpecs, GATE_REFUSED_FLAGS, parseArgs } from '../../src/cli/parse-args.js';
import { SEARCH_OWNED_FLAGS } from '../../src/capacity/capacity-options.js';
import { ATTACH_OPTIONS } from '../../src/stack/attach/index.js';
import { closest } from '../../src/options/suggest.js';

describe('one CLI grammar', () => {
  it('answers an unknown option with the nearest ones, not the whole list', () => {
    const typo = refusal(['soak', '--rat', '5']);
    expect(typo.message).toBe('Configuration: soak has no option --rat');
    expect(typo.hint).toMatch(/^did you mean --rate\?/);
    expect(typo.hint).toMatch(/`otel-harness soak --help` lists its options/);
    expect(refusal(['soak', '--drain-timout', '1m']).hint).toMatch(/did you mean --drain-timeout\?/);
    // An option of another command says which.
    expect(refusal(['up', '--rate', '5']).hint).toMatch(/--rate is an option of soak, chaos, capacity, gate/);
    expect(refusal(['down', '--run', 'x']).hint).toMatch(/did you mean --run-id\?/);
    expect(refusal(['soak', '--rate']).message).toBe('Configuration: --rate needs a value');
    expect(closest('zzzzzz', ['rate', 'duration'])).toEqual([]);
  });

  it('refuses an OTEL_HARNESS_ variable that names no option, with the nearest name', () => {
    const e = refusal(['soak'], { OTEL_HARNESS_DRAIN_TIMOUT: '1m' });
    expect(e.message).toMatch(/OTEL_HARNESS_DRAIN_TIMOUT names no option/);
    expect(e.hint).toMatch(/^did you mean OTEL_HARNESS_DRAIN_TIMEOUT[?,]/);
    expect(() => parseArgs(['soak'], { OTEL_HARNESS_CACHE: '/tmp/x', OTEL_HARNESS_RATE: '10' })).not.toThrow();
  });

  it('exits 2 for help on an unknown topic, naming the commands', async () => {
    const c = io();
    expect(await main(['help', 'soka'], c.io, {})).toBe(2);
    expect(c.err()).toMatch(/help topic is invalid, expected a command: one of soak, chaos/);
    expect(c.err()).toMatch(/did you mean soak\?/);
    expect(c.out()).toBe('');
    const ok = io();
    expect(await main(['help', 'gate'], ok.io, {})).toBe(0);
  });

  it('needs a unit on every duration (0 alone excepted)', () => {
    const e = refusal(['soak', '--duration', '30']);
    expect(e.message).toMatch(/--duration is invalid, expected a duration with its unit/);
    expect(e.hint).toBe('did you mean 30s?');
    expect(refusal(['soak', '--chaos', 'kill:collector@25']).message).toMatch(/duration with its unit/);
    expect(refusal(['capacity', '--slo', 'p99=5']).message).toMatch(/duration with its unit/);
    expect(parseArgs(['soak', '--duration', '90s'])).toMatchObject({ plan: { load: { durationMs: 90_000 } } });
  });

  it('reads ratios as 0.95 or 95% everywhere, and says "did you mean 5%?" for a bare percent', () => {
    for (const v of ['0.9', '90%'])
      expect(parseArgs(['soak', '--min-achieved-ratio', v])).toMatchObject({
        plan: { options: { minAchievedRatio: 0.9 } },
      });
    expect(parseArgs(['soak', '--max-loss', '0.001'])).toMatchObject({
      plan: { options: { maxLoss: { kind: 'percent', value: 0.1 } } },
    });
    expect(parseArgs(['soak', '--max-loss', '12'])).toMatchObject({
      plan: { options: { maxLoss: { kind: 'items', value: 12 } } },
    });
    const tolerance = refusal(['gate', '--baseline', 'a', '--candidate', 'b', '--tolerance', '5']);
    expect(tolerance.message).toMatch(/--tolerance is invalid, expected a ratio from 0 to below 1/);
    expect(tolerance.hint).toBe('did you mean 5%?');
    const hpa = refusal(['soak', '--phase', '3', '--hpa-cpu-target', '70']);
    expect(hpa.hint).toBe('did you mean 70%?');
    for (const v of ['70%', '0.7'])
      expect(parseArgs(['up', '--phase', '3', '--hpa-cpu-target', v])).toMatchObject({
        stack: { options: { hpaCpuTarget: 70 } },
      });
  });

  it('checks --image values and says what to add for an option of another mode, before anything starts', () => {
    const latest = refusal(['soak', '--image', 'otelcol=latest']);
    expect(latest.message).toMatch(/--image otelcol is invalid, expected a release version like 0\.155\.0/);
    expect(latest.hint).toMatch(/--image otelcol=\d+\.\d+\.\d+/);
    expect(refusal(['soak', '--image', 'grafana=1.2.3']).message).toMatch(/a component of the catalog/);
    const tenant = refusal(['soak', '--tenant', 'team-a']);
    expect(tenant.message).toMatch(/--tenant is invalid, expected an option of Phase 1 \(it belongs to attach mode/);
    expect(tenant.hint).toMatch(/add --target stack\.json .* or --otlp-endpoint URL/);
    expect(refusal(['soak', '--hpa-max', '4']).hint).toBe('to use it, add --phase 3');
  });

  it('refuses an option that means something only beside another value, by flag or variable, never ignoring it', () => {
    const agent = refusal(['soak', '--log-agent', 'promtail']);
    expect(agent.message).toMatch(/--log-agent is invalid, expected an option of --log-source file/);
    expect(agent.hint).toBe('to use it, add --log-source file');
    expect(refusal(['soak', '--phase', '2', '--log-rotate-size', '1Mi']).hint).toBe('to use it, add --log-source file');
    const scraper = refusal(['soak'], { OTEL_HARNESS_SCRAPER: 'agent' });
    expect(scraper.message).toMatch(/OTEL_HARNESS_SCRAPER is invalid, expected an option of --metric-source scrape/);
    expect(parseArgs(['up', '--log-source', 'file', '--log-agent', 'promtail'])).toMatchObject({
      stack: { options: { logAgent: 'promtail' } },
    });
    expect(parseArgs(['up', '--scrape-targets', '3', '--metric-source', 'scrape'])).toMatchObject({
      stack: { options: { scrapeTargets: 3 } },
    });
    // A stack spec carries every option's value (`up --print-spec`), the defaults included: not refused.
    const dir = mkdtempSync(join(tmpdir(), 'oh-spec-'));
    try {
      const spec = join(dir, 'stack.yaml');
      writeFileSync(
        spec,
        'apiVersion: otel-harness/v1\ntopology: phase1\noptions:\n  log-source: otlp\n  log-agent: filelog\n  scraper: prometheus\n',
      );
      expect(parseArgs(['up', '--stack', spec])).toMatchObject({ stack: { options: { logSource: 'otlp' } } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("lists in each command's help exactly the options it takes", () => {
    const specs = commandSpecs();
    const topicOf = (command: string) => command.split(' ')[0]!;
    // Taken by the parser only to be refused with a message of their own.
    const refused: Record<string, readonly string[]> = {
      capacity: [...SEARCH_OWNED_FLAGS, ...ATTACH_OPTIONS.options.map((o) => o.flag)],
      gate: GATE_REFUSED_FLAGS,
    };
    for (const [command, spec] of Object.entries(specs)) {
      const help = helpText(topicOf(command));
      const listed = new Set([...help.matchAll(/^[ \t]+--([a-z0-9-]+)/gm)].map((m) => m[1]!));
      const usage = new Set([...help.matchAll(/--([a-z0-9-]+)/g)].map((m) => m[1]!));
      const takes = Object.keys(spec).filter((f) => !(refused[command] ?? []).includes(f));
      for (const flag of takes) expect(usage, `${command} --help names --${flag}`).toContain(flag);
      if (topicOf(command) === command)
        for (const flag of listed) expect(takes, `${command} --help lists --${flag}, which it takes`).toContain(flag);
    }
  });
});
