import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  configComponents,
  distributionFor,
  manifestComponents,
  normalizedType,
  unknownComponentsHint,
} from '../../src/images/collector-components.js';
import { stacksDir } from '../../src/paths.js';
import { resolveStack } from '../../src/stack/stack-options.js';
import { usage } from './support/usage.js';
import { scratchDir } from '../support/scratch.js';

const dir = scratchDir('components-');
function config(name: string, sections: Record<string, Record<string, unknown>>): string {
  const file = join(dir, name);
  writeFileSync(file, stringify({ ...sections, service: { pipelines: {} } }));
  return file;
}

describe('the collector distribution a configuration needs', () => {
  it("reads a manifest's component types from its modules, and a configuration's from its keys", () => {
    const platform = manifestComponents(readFileSync(join(stacksDir(), 'otelcol/manifest-platform.yaml'), 'utf8'));
    expect([...platform.processors].sort()).toEqual([
      'attributes',
      'batch',
      'filter',
      'groupbyattrs',
      'k8sattributes',
      'memorylimiter',
      'probabilisticsampler',
      'resource',
      'resourcedetection',
      'tailsampling',
      'transform',
    ]);
    expect([...platform.extensions].sort()).toEqual([
      'basicauth',
      'bearertokenauth',
      'filestorage',
      'healthcheck',
      'oauth2clientauth',
    ]);
    // Collector 0.158's names and the older ones they replaced name the same module.
    for (const [a, b] of [
      ['k8s_attributes', 'k8sattributes'],
      ['otlp_grpc', 'otlp'],
      ['memory_limiter/strict', 'memorylimiter'],
      ['oauth2client', 'oauth2clientauth'],
      ['span_metrics', 'spanmetrics'],
    ])
      expect(normalizedType(a!)).toBe(b);
    expect(
      configComponents(stringify({ receivers: { 'otlp/in': {} }, processors: { batch: {}, 'transform/x': {} } })),
    ).toEqual([
      { kind: 'receivers', type: 'otlp' },
      { kind: 'processors', type: 'batch' },
      { kind: 'processors', type: 'transform' },
    ]);
  });

  it('keeps the default collector for the seeds’ components, takes the platform one for more, refuses the rest', () => {
    const seedLike = config('seed.yaml', {
      receivers: { otlp: {} },
      processors: { memory_limiter: {}, batch: {}, 'filter/x': {} },
      exporters: { otlp_grpc: {}, otlp_http: {}, prometheus_remote_write: {} },
      extensions: { health_check: {}, file_storage: {} },
    });
    expect(distributionFor({ collector: seedLike })).toEqual({ manifest: undefined, beyondDefault: [] });
    const platform = config('platform.yaml', {
      receivers: { otlp: {}, filelog: {} },
      processors: { k8s_attributes: {}, 'transform/redact': {}, batch: {} },
      connectors: { spanmetrics: {} },
    });
    expect(distributionFor({ collector: platform })).toEqual({
      manifest: 'otelcol/manifest-platform.yaml',
      beyondDefault: ['processor k8s_attributes', 'processor transform', 'connector spanmetrics'],
    });
    const routing = config('routing.yaml', { connectors: { 'routing/tenants': {} }, receivers: { hostmetrics: {} } });
    expect(usage(() => distributionFor({ processor: routing }))).toMatch(
      new RegExp(
        `--collector-config processor=${routing.replaceAll('.', '\\.')} is invalid, expected components the collectors built here carry .*\\(actual: 'receiver hostmetrics, connector routing'\\)`,
      ),
    );
  });

  it('builds the platform distribution for such a configuration, and says so on the first line', () => {
    const file = config('k8s.yaml', { processors: { k8sattributes: { passthrough: true } } });
    const resolved = resolveStack({ 'collector-config': [file] }, {}, undefined);
    expect(resolved.choice.manifest).toBe(join(stacksDir(), 'otelcol/manifest-platform.yaml'));
    expect(resolved.topology.describe(resolved.options, resolved.choice)).toMatch(
      /; collector built from stacks\/otelcol\/manifest-platform\.yaml for processor k8sattributes$/,
    );
    // A manifest or a collector version of the user's own is left as given.
    expect(
      resolveStack({ 'collector-config': [file], image: ['otelcol=0.155.0'] }, {}, undefined).choice.manifest,
    ).toBe(undefined);
  });

  it("turns the collector's unknown-type rejection into what to do: the platform build, or one of your own", () => {
    const rejected = (types: string[]) =>
      types.map(
        (t) =>
          `Error: failed to get config: cannot unmarshal the configuration: decoding failed due to the following error(s):\n'processors' unknown type: "${t}" for id: "${t}" (valid values: [batch memory_limiter resource tail_sampling filter])`,
      );
    expect(unknownComponentsHint(rejected(['transform', 'k8sattributes']))).toMatch(
      /^this collector lacks transform, k8sattributes; stacks\/otelcol\/manifest-platform\.yaml carries them .*--otelcol-manifest with a manifest at that version, or --source upstream/,
    );
    expect(unknownComponentsHint(rejected(['transform', 'hostmetrics']))).toMatch(
      /^this collector lacks transform, hostmetrics, and neither collector built here carries them: build your own distribution with --otelcol-manifest/,
    );
    expect(unknownComponentsHint(['Error: invalid keys: endpointt'])).toBeUndefined();
  });
});
