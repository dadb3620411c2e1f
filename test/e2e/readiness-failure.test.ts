import { describe, expect, it } from 'vitest';
import { connectDockerEngine } from '../../src/docker/docker-engine.js';
import { newRunId } from '../../src/docker/labels.js';
import { HarnessError } from '../../src/harness-error.js';
import { loadCatalog, localImageRef } from '../../src/images/catalog.js';
import { phase1Definition } from '../../src/stack/phase1/definition.js';
import { bootStack } from '../../src/stack/docker/boot.js';
import { harnessLeftovers, NOTHING_LEFT } from './support/leftovers.js';

describe('a container that fails readiness', () => {
  it('fails the boot with exit 5, naming the container, the wait and its last log lines, and removes everything', async () => {
    const catalog = loadCatalog();
    const definition = phase1Definition({ traces: 'tempo' }, catalog);
    const loki = definition.services.find((s) => s.name === 'loki')!;
    loki.files[0]!.content += '\nnot_a_loki_setting: true\n';
    const runId = newRunId();
    const images = new Map([...catalog.components.values()].map((c) => [c.name, localImageRef(c)]));

    const err = await bootStack(await connectDockerEngine(), definition, { runId, images, ports: 'random' }).catch(
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(HarnessError);
    const error = err as HarnessError;
    expect(error.exitCode).toBe(5);
    expect(error.message).toMatch(
      /^Container loki \(otel-harness\/loki:3\.7\.8\) did not become ready: waited [\d.]+ s for HTTP 200 from GET \/ready on port 3100; last seen: the container exited with code 1$/,
    );
    expect(error.details).toMatch(/^last \d+ log lines of loki:\n/);
    expect(error.details).toMatch(/not_a_loki_setting/);
    expect(await harnessLeftovers(runId)).toEqual(NOTHING_LEFT);
  });

  // A container that exits at once: told as an exit, with its code and log lines, whichever wait sees it
  // first (the container library's port wait on a loaded machine, else the readiness probe; the first
  // path is pinned by test/unit/http-readiness.test.ts).
  it('says the container exited, with its code and log lines, when it exits before its ports are published', async () => {
    const catalog = loadCatalog();
    const definition = phase1Definition({ traces: 'tempo' }, catalog);
    // A service that writes a line and exits with code 3 at once (the toolbox image's shell).
    const loki = definition.services.find((s) => s.name === 'loki')!;
    loki.component = 'toolbox';
    loki.command = ['sh', '-c', 'echo "no configuration at /nonexistent/loki.yaml"; exit 3'];
    const runId = newRunId();
    const images = new Map([...catalog.components.values()].map((c) => [c.name, localImageRef(c)]));

    const err = await bootStack(await connectDockerEngine(), definition, { runId, images, ports: 'random' }).catch(
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(HarnessError);
    const error = err as HarnessError;
    expect(error.exitCode).toBe(5);
    expect(error.message).toMatch(
      /^Container loki \(otel-harness\/toolbox:[\d.]+\) did not become ready: waited [\d.]+ s for HTTP 200 from GET \/ready on port 3100; last seen: the container exited with code 3$/,
    );
    expect(error.details).toMatch(/nonexistent\/loki\.yaml/);
    expect(await harnessLeftovers(runId)).toEqual(NOTHING_LEFT);
  });
});
