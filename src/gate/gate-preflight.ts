import { connectDockerEngine } from '../docker/docker-engine.js';
import { ExitCode, HarnessError, configurationError } from '../harness-error.js';
import { loadCatalog } from '../images/catalog.js';
import { checkImageOverrides, resolveStackImages } from '../images/stack-images.js';
import { isImageReference, specAtVersion, specWithManifest } from '../images/versioned.js';
import { cacheDir, stacksDir } from '../paths.js';
import type { StepIo } from '../step/step-types.js';
import { validateCollectorConfig } from '../stack/collector-validate.js';
import type { ResolvedStack } from '../stack/stack-options.js';
import type { StackChoice } from '../stack/topology.js';

/** What is checked of each arm before any stack of the gate starts; a bad value throws a configuration error. */
export interface GateChecks {
  /**
   * The arm's images: each `--image` names a component of the catalog and a version the Go module proxy
   * serves (or an image reference); an OCB manifest is at the version of the collector it builds.
   */
  images(choice: StackChoice): Promise<void>;
  /**
   * The arm's collector configurations, each with the collector's own `validate` command in the collector
   * image that will run it (resolved — built, if need be — first).
   */
  collectorConfigs(choice: StackChoice, io: StepIo): Promise<void>;
}

/** The checks as a boot makes them: the module proxy (`go list`) and the Docker engine. */
export const ENGINE_CHECKS: GateChecks = {
  async images(choice) {
    await checkImageOverrides(choice.images);
    if (choice.manifest === undefined) return;
    const version = choice.images.otelcol;
    // An image reference is run as it is: no manifest builds it.
    if (version !== undefined && isImageReference(version)) return;
    const base = loadCatalog().components.get('otelcol');
    if (base === undefined) return;
    const spec = version === undefined ? base : await specAtVersion(base, version, stacksDir(), cacheDir());
    specWithManifest(spec, choice.manifest, cacheDir());
  },
  async collectorConfigs(choice, io) {
    const engine = await connectDockerEngine();
    const version = choice.images.otelcol;
    const { images } = await resolveStackImages(
      engine,
      { services: [{ component: 'otelcol' }] },
      {
        source: choice.source,
        overrides: version === undefined ? {} : { otelcol: version },
        manifest: choice.manifest,
        progress: io.images,
        say: (message) => io.progress(message),
      },
    );
    const image = images.get('otelcol');
    if (image === undefined) throw new Error('gate: no collector image resolved');
    for (const [role, file] of Object.entries(choice.collectorConfigs)) {
      io.progress(`validating ${file} (${role}) with the collector's own validate command`);
      await validateCollectorConfig(engine, image, file);
    }
  },
};

/**
 * Checks both arms, baseline then candidate — images, then collector configurations — before any stack
 * starts (a spec's own fields and topology options were checked when it was read). A configuration error
 * is re-thrown naming the arm and its spec, in the one message shape, exit 2, with the collector's own
 * output kept as details.
 */
export async function checkGatePlan(
  plan: { baseline: ResolvedStack; candidate: ResolvedStack },
  checks: GateChecks,
  io: StepIo,
): Promise<void> {
  for (const arm of ['baseline', 'candidate'] as const) {
    const stack = plan[arm];
    try {
      await checks.images(stack.choice);
      if (Object.keys(stack.choice.collectorConfigs).length > 0) await checks.collectorConfigs(stack.choice, io);
    } catch (err) {
      if (!(err instanceof HarnessError) || err.exitCode !== ExitCode.usage) throw err;
      const named = configurationError(
        `--${arm}`,
        'a valid stack spec (YAML, `up --print-spec`)',
        `${stack.specFile ?? '(flags)'}: ${err.message}`,
      );
      throw new HarnessError(named.message, {
        code: err.code,
        exitCode: ExitCode.usage,
        ...(err.hint === undefined ? {} : { hint: err.hint }),
        ...(err.details === undefined ? {} : { details: err.details }),
        cause: err,
      });
    }
  }
}
