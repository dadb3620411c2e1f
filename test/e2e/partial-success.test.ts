import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL } from '../../src/docker/labels.js';
import { loadCatalog, localImageRef } from '../../src/images/catalog.js';
import { stacksDir } from '../../src/paths.js';
import { HarnessContainer } from '../../src/stack/docker/harness-container.js';
import { HttpReadiness } from '../../src/stack/docker/http-readiness.js';
import { runReported } from './support/cli.js';

/**
 * A planted rejection: the load goes straight to a real Mimir whose tenant may hold only 300 series, so
 * Mimir answers part of each OTLP request with partial success (rejected_data_points). The harness must
 * report those data points as rejected — loss the pipeline declared — and not as silent loss.
 */
describe('OTLP partial success from a real backend', () => {
  let mimir: StartedTestContainer;
  let url: string;

  beforeAll(async () => {
    const config = readFileSync(join(stacksDir(), 'phase2', 'mimir.yaml'), 'utf8').replace(
      'max_global_series_per_user: 0',
      'max_global_series_per_user: 300',
    );
    expect(config).toContain('max_global_series_per_user: 300');
    const spec = loadCatalog().components.get('mimir')!;
    mimir = await new HarnessContainer(localImageRef(spec))
      .withLabels({ [LABEL.run]: 'oh-e2e-partial-success', [LABEL.component]: 'mimir' })
      .withCopyContentToContainer([{ content: config, target: '/etc/mimir/mimir.yaml', mode: 0o644 }])
      .withCommand(['-config.file=/etc/mimir/mimir.yaml'])
      .withExposedPorts(9009)
      .withWaitStrategy(new HttpReadiness(9009, '/ready').withStartupTimeout(120_000))
      .start();
    url = `http://127.0.0.1:${mimir.getMappedPort(9009)}`;
  });

  afterAll(async () => {
    await mimir?.stop({ remove: true, removeVolumes: true });
  });

  it('reports what Mimir declared rejected apart from silent loss, and fails on it (exit 4)', async () => {
    // 1,000 series × 5 ticks: the series beyond Mimir's 300 are rejected, request by request.
    const run = await runReported([
      'soak',
      '--otlp-endpoint',
      `${url}/otlp`,
      '--mimir',
      url,
      '--signals',
      'metrics',
      '--rate',
      '500',
      '--duration',
      '10s',
      '--metric-series',
      '1000',
      '--metric-interval',
      '2s',
    ]);
    expect(run.code, run.stderr).toBe(4);
    const r = run.result();
    const load = r.load.signals.metrics!;
    const v = r.verification.signals.metrics!;
    expect(v.backend).toBe('mimir');
    expect(load.counts.acknowledged).toBe(5_000);
    // Declared per batch from the answers' rejected_data_points (Mimir also counts the target_info sample
    // its OTLP translation adds, so the declaration can exceed the run's own absent points).
    expect(load.counts.rejected).toBeGreaterThan(0);
    expect(v.rejected).toBe(load.counts.rejected);
    expect(v.rejectedAbsent).toBeGreaterThan(0);
    expect(v.rejectedAbsent).toBeLessThanOrEqual(v.rejected);
    // Every absent point is covered by a declaration: no silent loss.
    expect(v.lost).toBe(0);
    expect(v.found + v.rejectedAbsent).toBe(5_000);
    expect(r.verdict.reasons.join('\n')).toMatch(/metrics rejected by the pipeline \(OTLP partial success\)/);
  });
});
