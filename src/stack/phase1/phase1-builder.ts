import { readFileSync } from 'node:fs';
import { connectDockerEngine } from '../../docker/docker-engine.js';
import { newRunId } from '../../docker/labels.js';
import type { ImageProgress } from '../../images/image-builder.js';
import { resolveStackImages } from '../../images/stack-images.js';
import { validateCollectorConfig } from '../collector-validate.js';
import { bootStack } from '../docker/boot.js';
import type { DockerStack } from '../docker/docker-stack.js';
import type { StackBuilder } from '../stack.js';
import type { StackChoice } from '../topology.js';
import { phase1Definition, type TracesBackend } from './definition.js';

const silentImages: ImageProgress = { step: () => undefined, line: () => undefined };

/**
 * Builder for the Phase 1 stack, testcontainers style:
 * `await using stack = await phase1Builder({ traces: 'tempo' }).withRunId(id).start()`.
 */
export class Phase1Builder implements StackBuilder {
  private runId: string | undefined;
  private signal: AbortSignal | undefined;
  private progress: (message: string) => void = () => undefined;
  private imageProgress: ImageProgress = silentImages;
  private readonly images: Record<string, string>;
  private readonly collectorConfigs: Record<string, string>;

  constructor(
    private readonly options: { traces: TracesBackend; variant: string; collectorCpus?: number },
    private readonly choice: StackChoice,
  ) {
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

  withProgress(progress: (message: string) => void, images: ImageProgress = silentImages): this {
    this.progress = progress;
    this.imageProgress = images;
    return this;
  }

  async start(): Promise<DockerStack> {
    const engine = await connectDockerEngine();
    const userConfig = this.collectorConfigs.collector;
    const definition = phase1Definition({
      traces: this.options.traces,
      variant: this.options.variant,
      collectorCpus: this.options.collectorCpus,
      ...(userConfig === undefined ? {} : { collectorConfig: readFileSync(userConfig, 'utf8') }),
    });
    const resolved = await resolveStackImages(engine, definition, {
      source: this.choice.source,
      overrides: this.images,
      manifest: this.choice.manifest,
      progress: this.imageProgress,
      say: this.progress,
    });
    if (userConfig !== undefined) {
      this.progress(`validating ${userConfig} with the collector's own validate command`);
      await validateCollectorConfig(engine, resolved.images.get('otelcol')!, userConfig);
    }
    return bootStack(engine, definition, {
      runId: this.runId ?? newRunId(),
      images: resolved.images,
      ports: this.choice.ports,
      progress: this.progress,
      versions: resolved.versions,
      ...(resolved.manifestHash === undefined ? {} : { manifestHash: resolved.manifestHash }),
      ...(this.signal === undefined ? {} : { signal: this.signal }),
    });
  }
}
