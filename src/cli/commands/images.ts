import { connectDockerEngine } from '../../docker/docker-engine.js';
import { ExitCode } from '../../harness-error.js';
import { loadCatalog, localImageRef, selectComponents } from '../../images/catalog.js';
import { ImageBuilder } from '../../images/image-builder.js';
import { cacheDir, stacksDir } from '../../paths.js';
import type { Command } from '../parse-args.js';
import { formatBytes, formatSeconds, renderTable, type Reporter } from '../output.js';

/** `images build`: builds (or reuses) local images, one component after another. */
export async function runImagesBuild(
  command: Extract<Command, { name: 'images-build' }>,
  reporter: Reporter,
): Promise<number> {
  const specs = selectComponents(loadCatalog(), command.components); // unknown names: exit 2 before anything starts
  const engine = await connectDockerEngine();
  const builder = new ImageBuilder(engine, {
    cacheDir: cacheDir(),
    stacksDir: stacksDir(),
    progress: reporter.images(),
  });
  const rows: string[][] = [];
  for (const spec of specs) {
    const outcome = await builder.ensure(spec, command.force);
    const status = await builder.status(spec);
    const how = outcome.cached ? 'cached' : `built in ${formatSeconds(outcome.seconds)}`;
    reporter.progress(`image ${spec.name}: ${how} (${outcome.ref}, ${formatBytes(status.sizeBytes)})`);
    rows.push([spec.name, outcome.ref, how, formatBytes(status.sizeBytes)]);
  }
  reporter.out(renderTable(['COMPONENT', 'IMAGE', 'RESULT', 'SIZE'], rows));
  return ExitCode.pass;
}

/** `images list`: the catalog with each local image's state. */
export async function runImagesList(
  command: Extract<Command, { name: 'images-list' }>,
  reporter: Reporter,
): Promise<number> {
  const catalog = loadCatalog();
  const engine = await connectDockerEngine();
  const builder = new ImageBuilder(engine, {
    cacheDir: cacheDir(),
    stacksDir: stacksDir(),
    progress: reporter.images(),
  });
  const entries = [];
  for (const spec of catalog.components.values()) {
    const status = await builder.status(spec);
    entries.push({
      component: spec.name,
      version: spec.version,
      local: localImageRef(spec),
      state: status.state,
      sizeBytes: status.sizeBytes,
      upstream: spec.upstream,
    });
  }
  if (command.json) {
    reporter.out(JSON.stringify(entries, null, 2));
  } else {
    reporter.out(
      renderTable(
        ['COMPONENT', 'VERSION', 'LOCAL IMAGE', 'STATE', 'SIZE', 'UPSTREAM IMAGE'],
        entries.map((e) => [e.component, e.version, e.local, e.state, formatBytes(e.sizeBytes), e.upstream]),
      ),
    );
  }
  return ExitCode.pass;
}
