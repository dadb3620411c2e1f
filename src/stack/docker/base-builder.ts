import type { DockerEngine } from '../../docker/docker-engine.js';
import { newRunId } from '../../docker/labels.js';
import type { ImageProgress } from '../../images/image-builder.js';
import { resolveStackImages, type StackImages } from '../../images/stack-images.js';
import { loadCatalog } from '../../images/catalog.js';
import { validateCollectorConfig, validatePromtailConfig } from '../collector-validate.js';
import { withStorage } from '../object-store.js';
import type { StackBuilder, StartedStack } from '../stack.js';
import type { StackChoice } from '../topology.js';
import { bootStack, type BootOptions } from './boot.js';
import type { DockerStack } from './docker-stack.js';
import type { StackDefinition } from './stack-definition.js';

const SILENT_IMAGES: ImageProgress = { step: () => undefined, line: () => undefined };

/**
 * What every Docker-booted topology's builder shares (testcontainers' GenericContainer pattern): the
 * `with…` settings, the images its components run, the user's collector configurations checked by the
 * collector itself, and the boot. A topology writes its definition and what it waits for after the boot.
 */
export abstract class BaseStackBuilder<S extends StartedStack> implements StackBuilder {
  protected runId: string | undefined;
  protected signal: AbortSignal | undefined;
  protected progress: (message: string) => void = () => undefined;
  protected imageProgress: ImageProgress = SILENT_IMAGES;
  protected readonly images: Record<string, string>;
  protected readonly collectorConfigs: Record<string, string>;

  constructor(protected readonly choice: StackChoice) {
    this.images = { ...choice.images };
    this.collectorConfigs = { ...choice.collectorConfigs };
  }

  withRunId(runId: string): this {
    this.runId = runId;
    return this;
  }

  withImages(images: Readonly<Record<string, string>>): this {
    Object.assign(this.images, images);
    return this;
  }

  withCollectorConfig(role: string, file: string): this {
    this.collectorConfigs[role] = file;
    return this;
  }

  withAbortSignal(signal: AbortSignal): this {
    this.signal = signal;
    return this;
  }

  withProgress(progress: (message: string) => void, images: ImageProgress = SILENT_IMAGES): this {
    this.progress = progress;
    this.imageProgress = images;
    return this;
  }

  abstract start(): Promise<S>;

  /** The images of `components` as the choice and `withImages` say: built here, reused or referenced. */
  protected resolveImages(engine: DockerEngine, components: { services: readonly { component: string }[] }) {
    return resolveStackImages(engine, components, {
      source: this.choice.source,
      overrides: this.images,
      manifest: this.choice.manifest,
      progress: this.imageProgress,
      say: this.progress,
    });
  }

  /** Each user collector configuration, checked by the collector's own `validate` in the image that runs it. */
  protected async validateCollectorConfigs(
    engine: DockerEngine,
    resolved: StackImages,
    promtailRoles: readonly string[] = [],
  ): Promise<void> {
    for (const [role, file] of Object.entries(this.collectorConfigs)) {
      const promtail = promtailRoles.includes(role);
      this.progress(
        `validating ${file} (${role}) with ${promtail ? "Promtail's -check-syntax" : "the collector's own validate command"}`,
      );
      if (promtail) await validatePromtailConfig(engine, resolved.images.get('promtail')!, file);
      else await validateCollectorConfig(engine, resolved.images.get('otelcol')!, file);
    }
  }

  /** `definition` on the storage the choice names (`--storage s3`: its backends on the object store). */
  protected onStorage(definition: StackDefinition): StackDefinition {
    return withStorage(definition, this.choice.storage ?? 'local', loadCatalog());
  }

  /** Boots the definition on its own network with the resolved images. */
  protected boot(
    engine: DockerEngine,
    definition: StackDefinition,
    resolved: StackImages,
    runId: string = this.runId ?? newRunId(),
  ): Promise<DockerStack> {
    const options: BootOptions = {
      runId,
      images: resolved.images,
      ports: this.choice.ports,
      progress: this.progress,
      versions: resolved.versions,
      ...(resolved.manifestHash === undefined ? {} : { manifestHash: resolved.manifestHash }),
      ...(this.signal === undefined ? {} : { signal: this.signal }),
    };
    return bootStack(engine, definition, options);
  }
}
