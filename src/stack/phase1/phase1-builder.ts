import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDockerEngine } from '../../docker/docker-engine.js';
import { newRunId } from '../../docker/labels.js';
import { ContainerLogWriter } from '../../load/files/container-log-writer.js';
import { CANARY_SERVICE_NAME } from '../../verify/latency-canary.js';
import { BaseStackBuilder } from '../docker/base-builder.js';
import type { DockerStack } from '../docker/docker-stack.js';
import { harnessLogLayout, type LogFileChoice } from '../log-agent.js';
import type { StackChoice } from '../topology.js';
import { phase1Definition, type TracesBackend } from './definition.js';
import { Phase1FileLogStack } from './phase1-stack.js';

/**
 * Builder for the Phase 1 stack, testcontainers style:
 * `await using stack = await phase1Builder({ traces: 'tempo' }).withRunId(id).start()`.
 */
export class Phase1Builder extends BaseStackBuilder<DockerStack | Phase1FileLogStack> {
  constructor(
    private readonly options: {
      traces: TracesBackend;
      variant: string;
      collectorCpus?: number;
      /** `--log-source file`: the files' format and rotation; undefined: logs are pushed as OTLP. */
      logFiles?: LogFileChoice | undefined;
    },
    choice: StackChoice,
  ) {
    super(choice);
  }

  async start(): Promise<DockerStack | Phase1FileLogStack> {
    const engine = await connectDockerEngine();
    const userConfig = this.collectorConfigs.collector;
    const agentConfig = this.collectorConfigs.agent;
    const runId = this.runId ?? newRunId();
    const logFiles = this.options.logFiles;
    const hostDir = logFiles === undefined ? undefined : mkdtempSync(join(tmpdir(), `otel-harness-pods-${runId}-`));
    try {
      // The agent runs as its own user: it must be able to enter the directory.
      if (hostDir !== undefined) chmodSync(hostDir, 0o755);
      const definition = phase1Definition({
        traces: this.options.traces,
        variant: this.options.variant,
        collectorCpus: this.options.collectorCpus,
        ...(userConfig === undefined ? {} : { collectorConfig: readFileSync(userConfig, 'utf8') }),
        ...(hostDir === undefined
          ? {}
          : {
              logAgent: {
                hostDir,
                ...(agentConfig === undefined ? {} : { config: readFileSync(agentConfig, 'utf8') }),
              },
            }),
      });
      const resolved = await this.resolveImages(engine, definition);
      await this.validateCollectorConfigs(engine, resolved);
      const docker = await this.boot(engine, definition, resolved, runId);
      if (hostDir === undefined || logFiles === undefined) return docker;
      const layout = harnessLogLayout(hostDir, runId, logFiles);
      return new Phase1FileLogStack(
        docker,
        new ContainerLogWriter(layout),
        new ContainerLogWriter({ ...layout, container: CANARY_SERVICE_NAME }),
      );
    } catch (err) {
      if (hostDir !== undefined) rmSync(hostDir, { recursive: true, force: true });
      throw err;
    }
  }
}

/** A Phase 1 builder whose logs enter as OTLP: its stack is the Docker stack itself. */
export class Phase1OtlpBuilder extends Phase1Builder {
  constructor(options: { traces: TracesBackend; variant: string; collectorCpus?: number }, choice: StackChoice) {
    super(options, choice);
  }

  override async start(): Promise<DockerStack> {
    const stack = await super.start();
    if (stack instanceof Phase1FileLogStack) throw new Error('a Phase 1 stack with an agent from the OTLP builder');
    return stack;
  }
}
