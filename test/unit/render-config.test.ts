import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadCatalog } from '../../src/images/catalog.js';
import { uidGid } from '../../src/stack/docker/services.js';
import { phase1Definition } from '../../src/stack/phase1/definition.js';
import { renderTemplate } from '../../src/stack/docker/render-config.js';
import { bootLayers } from '../../src/stack/docker/stack-definition.js';

const catalog = loadCatalog();

describe('renderTemplate', () => {
  it('fills every token', () => {
    expect(renderTemplate('a: {{x.y}}\nb: {{ z }}', { 'x.y': '1', z: '2' }, 't')).toBe('a: 1\nb: 2');
  });

  it('rejects unknown tokens and unused values (exit 2)', () => {
    expect(() => renderTemplate('a: {{nope}}', {}, 't.yaml')).toThrow(/t.yaml token \{\{nope\}\} is invalid/);
    expect(() => renderTemplate('a: 1', { extra: 'x' }, 't.yaml')).toThrow(/actual: 'extra'/);
  });
});

type Collector = {
  exporters: Record<string, { endpoint: string; sending_queue?: { storage?: string } }>;
  processors: Record<string, unknown>;
  service: { pipelines: Record<string, { processors: string[]; exporters: string[] }>; extensions: string[] };
};

function collectorConfig(traces: 'jaeger' | 'tempo'): Collector {
  const def = phase1Definition({ traces }, catalog);
  const otelcol = def.services.find((s) => s.name === 'otelcol')!;
  expect(otelcol.files[0]!.target).toBe('/etc/otelcol-contrib/config.yaml');
  expect(otelcol.files[0]!.content).not.toMatch(/\{\{/);
  return parse(otelcol.files[0]!.content) as Collector;
}

describe('phase 1 configuration', () => {
  it.each(['jaeger', 'tempo'] as const)('routes traces to %s over OTLP gRPC with a persistent queue', (traces) => {
    const config = collectorConfig(traces);
    const exporter = config.exporters[`otlp_grpc/${traces}`];
    expect(exporter?.endpoint).toBe(`${traces}:4317`);
    expect(exporter?.sending_queue?.storage).toBe('file_storage');
    expect(config.service.pipelines.traces?.exporters).toEqual([`otlp_grpc/${traces}`]);
  });

  it('keeps the seed pipeline order: memory_limiter first, batch last', () => {
    const config = collectorConfig('jaeger');
    for (const pipeline of Object.values(config.service.pipelines)) {
      expect(pipeline.processors).toEqual(['memory_limiter', 'resource', 'batch']);
    }
    expect(config.service.extensions).toEqual(['health_check', 'file_storage']);
    expect(config.exporters['otlp_http/loki']?.endpoint).toBe('http://loki:3100/otlp');
  });

  it('scrapes the chosen trace backend from Prometheus', () => {
    for (const [traces, target] of [
      ['jaeger', 'jaeger:8888'],
      ['tempo', 'tempo:3200'],
    ] as const) {
      const prom = phase1Definition({ traces }, catalog).services.find((s) => s.name === 'prometheus')!;
      const config = parse(prom.files[0]!.content) as {
        scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
      };
      const job = config.scrape_configs.find((j) => j.job_name === traces);
      expect(job?.static_configs[0]?.targets).toEqual([target]);
      expect(prom.command).toContain('--web.enable-remote-write-receiver');
    }
  });

  it('boots backends first and the collector after them', () => {
    const layers = bootLayers(phase1Definition({ traces: 'tempo' }, catalog).services).map((l) => l.map((s) => s.name));
    expect(layers).toEqual([['tempo', 'prometheus', 'loki'], ['otelcol']]);
  });

  it('mounts data volumes at the catalog data dirs, owned by the image user', () => {
    const services = phase1Definition({ traces: 'tempo' }, catalog).services;
    const volume = (name: string) => services.find((s) => s.name === name)!.volumes[0];
    expect(volume('tempo')).toEqual({ name: 'tempo-data', target: '/var/tempo', owner: '10001:10001' });
    expect(volume('prometheus')).toEqual({ name: 'prometheus-data', target: '/prometheus', owner: '65534:65534' });
    expect(volume('loki')).toEqual({ name: 'loki-data', target: '/loki', owner: '10001:10001' });
    expect(volume('otelcol')).toEqual({ name: 'otel-storage', target: '/var/lib/otelcol', owner: '10001:10001' });
  });

  it('turns users into uid:gid', () => {
    expect(uidGid('nobody')).toBe('65534:65534');
    expect(uidGid('10001')).toBe('10001:10001');
    expect(uidGid('1:2')).toBe('1:2');
    expect(() => uidGid('tempo')).toThrow();
  });
});

describe('bootLayers', () => {
  const svc = (name: string, dependsOn: string[]) =>
    ({ name, dependsOn }) as unknown as Parameters<typeof bootLayers>[0][number];

  it('rejects unknown dependencies and cycles', () => {
    expect(() => bootLayers([svc('a', ['x'])])).toThrow(/unknown service x/);
    expect(() => bootLayers([svc('a', ['b']), svc('b', ['a'])])).toThrow(/cycle/);
  });
});
