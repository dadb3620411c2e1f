import { readFileSync } from 'node:fs';
import { connectDockerEngine } from '../../docker/docker-engine.js';
import { BaseStackBuilder } from '../docker/base-builder.js';
import type { DockerStack } from '../docker/docker-stack.js';
import type { StackChoice } from '../topology.js';
import { phase1Definition, type TracesBackend } from './definition.js';

/**
 * Builder for the Phase 1 stack, testcontainers style:
 * `await using stack = await phase1Builder({ traces: 'tempo' }).withRunId(id).start()`.
 */
export class Phase1Builder extends BaseStackBuilder<DockerStack> {
  constructor(
    private readonly options: { traces: TracesBackend; variant: string; collectorCpus?: number },
    choice: StackChoice,
  ) {
    super(choice);
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
    const resolved = await this.resolveImages(engine, definition);
    await this.validateCollectorConfigs(engine, resolved);
    return this.boot(engine, definition, resolved);
  }
}
