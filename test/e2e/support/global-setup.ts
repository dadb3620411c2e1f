import { connectDockerEngine } from '../../../src/docker/docker-engine.js';
import { loadCatalog } from '../../../src/images/catalog.js';
import { ImageBuilder } from '../../../src/images/image-builder.js';
import { ensureK6 } from '../../../src/load/drivers/k6/k6-binary.js';
import { cacheDir, stacksDir } from '../../../src/paths.js';

/**
 * Before the e2e suite: the engine must answer, and every catalog image must be built (cached builds
 * take seconds; a cold machine builds everything here, with progress on stderr).
 */
export default async function setup(): Promise<void> {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  const engine = await connectDockerEngine();
  const builder = new ImageBuilder(engine, {
    cacheDir: cacheDir(),
    stacksDir: stacksDir(),
    progress: { step: (c, m) => process.stderr.write(`[e2e setup] image ${c}: ${m}\n`), line: () => undefined },
  });
  const catalog = loadCatalog();
  for (const spec of catalog.components.values()) {
    const outcome = await builder.ensure(spec);
    if (!outcome.cached) process.stderr.write(`[e2e setup] built ${outcome.ref} in ${outcome.seconds.toFixed(0)} s\n`);
  }
  const k6 = catalog.tools.get('k6');
  if (k6 !== undefined)
    await ensureK6(k6, { cacheDir: cacheDir(), progress: (m) => process.stderr.write(`[e2e setup] ${m}\n`) });
}
