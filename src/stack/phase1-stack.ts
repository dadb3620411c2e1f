import { connectDockerEngine } from '../docker/docker-engine.js';
import { newRunId } from '../docker/labels.js';
import { loadCatalog, selectComponents } from '../images/catalog.js';
import { ImageBuilder, type ImageProgress } from '../images/image-builder.js';
import { resolveImages, type ImageSource } from '../images/image-source.js';
import { cacheDir, stacksDir } from '../paths.js';
import { phase1Definition, type TracesBackend } from './phase1.js';
import { bootStack, type PortMode } from './stack-runner.js';
import type { StartedStack } from './started-stack.js';

const silentImages: ImageProgress = { step: () => undefined, line: () => undefined };

/**
 * Builder for the Phase 1 stack, testcontainers style:
 * `await using stack = await phase1().withTraces('tempo').start()`.
 */
export class Phase1Stack {
  private traces: TracesBackend = 'jaeger';
  private variant = 'seed';
  private source: ImageSource = 'local';
  private ports: PortMode = 'random';
  private runId: string | undefined;
  private signal: AbortSignal | undefined;
  private progress: (message: string) => void = () => undefined;
  private imageProgress: ImageProgress = silentImages;

  withTraces(traces: TracesBackend): this {
    this.traces = traces;
    return this;
  }

  /** Collector variant: `seed` or an overlay in stacks/phase1/variants (e.g. `planted-loss`). */
  withVariant(variant: string): this {
    this.variant = variant;
    return this;
  }

  withImageSource(source: ImageSource): this {
    this.source = source;
    return this;
  }

  withPorts(ports: PortMode): this {
    this.ports = ports;
    return this;
  }

  withRunId(runId: string): this {
    this.runId = runId;
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

  async start(): Promise<StartedStack> {
    const engine = await connectDockerEngine();
    const catalog = loadCatalog();
    const definition = phase1Definition(catalog, { traces: this.traces, variant: this.variant });
    const components = [...new Set(['toolbox', ...definition.services.map((s) => s.component)])];
    const builder = new ImageBuilder(engine, {
      cacheDir: cacheDir(),
      stacksDir: stacksDir(),
      progress: this.imageProgress,
    });
    const images = await resolveImages(engine, builder, selectComponents(catalog, components), this.source);
    return bootStack(engine, definition, {
      runId: this.runId ?? newRunId(),
      images: new Map(images.map((i) => [i.component, i.ref])),
      ports: this.ports,
      progress: this.progress,
      ...(this.signal === undefined ? {} : { signal: this.signal }),
    });
  }
}

export function phase1(): Phase1Stack {
  return new Phase1Stack();
}
