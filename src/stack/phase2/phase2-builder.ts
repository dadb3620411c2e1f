import { readFileSync, rmSync } from 'node:fs';
import { connectDockerEngine } from '../../docker/docker-engine.js';
import { ExitCode, HarnessError } from '../../harness-error.js';
import { loadCatalog } from '../../images/catalog.js';
import { SIGNALS } from '../../load/ledger.js';
import { BaseStackBuilder } from '../docker/base-builder.js';
import { harnessLogLayout, makePodLogsDir, type LogFileChoice } from '../log-agent.js';
import { dockerNodeLogFiles } from '../node-log-files.js';
import { freePorts } from '../docker/free-ports.js';
import { ReadinessError } from '../docker/http-readiness.js';
import type { StackChoice } from '../topology.js';
import type { DockerStack } from '../docker/docker-stack.js';
import { newRunId } from '../../docker/labels.js';
import { groupsOf, phase2Configs, phase2Definition, STANDARD_KAFKA_PORT } from './definition.js';
import { waitForUpServers } from './haproxy.js';
import { waitForGroups } from './kafka-admin.js';
import { Phase2Stack } from './phase2-stack.js';

/** HAProxy's DNS resolution (hold valid 2 s) plus two passing checks 2 s apart, with margin. */
const ROUTING_TIMEOUT_MS = 60_000;
/** Consumer groups: join, sync and the first assignment of every member. */
const GROUPS_TIMEOUT_MS = 90_000;

export interface Phase2TopologyOptions {
  gateways: number;
  processors: number;
  variant: string;
  /** `--log-source file`: the files' format and rotation; undefined: logs are pushed as OTLP. */
  logFiles?: LogFileChoice | undefined;
}

/**
 * Builder for the Phase 2 stack: `await using stack = await phase2({ gateways: 2 }).withRunId(id).start()`.
 * Ready means more than every container answering: HAProxy routes to every gateway and every consumer
 * group is Stable with every processor, so that no partition moves once load starts.
 */
export class Phase2Builder extends BaseStackBuilder<Phase2Stack> {
  constructor(
    private readonly options: Phase2TopologyOptions,
    choice: StackChoice,
  ) {
    super(choice);
  }

  async start(): Promise<Phase2Stack> {
    const engine = await connectDockerEngine();
    const catalog = loadCatalog();
    const [randomPort] = await freePorts(1);
    const kafkaPort = this.choice.ports === 'standard' ? STANDARD_KAFKA_PORT : randomPort!;
    const user = {
      ...(this.collectorConfigs.gateway === undefined
        ? {}
        : { gateway: readFileSync(this.collectorConfigs.gateway, 'utf8') }),
      ...(this.collectorConfigs.processor === undefined
        ? {}
        : { processor: readFileSync(this.collectorConfigs.processor, 'utf8') }),
    };
    const runId = this.runId ?? newRunId();
    const logFiles = this.options.logFiles;
    const hostDir = logFiles === undefined ? undefined : makePodLogsDir(runId);
    const agentConfig = this.collectorConfigs.agent;
    const options = {
      ...this.options,
      kafkaPort,
      collectorConfigs: user,
      ...(hostDir === undefined
        ? {}
        : {
            agent: {
              hostDir,
              reader: logFiles!.agent,
              ...(agentConfig === undefined ? {} : { config: readFileSync(agentConfig, 'utf8') }),
            },
          }),
    };
    let docker: DockerStack;
    try {
      const definition = this.onStorage(phase2Definition(options, catalog));
      const resolved = await this.resolveImages(engine, definition);
      await this.validateCollectorConfigs(engine, resolved, logFiles?.agent === 'promtail' ? ['agent'] : []);
      docker = await this.boot(engine, definition, resolved, runId);
    } catch (err) {
      if (hostDir !== undefined) rmSync(hostDir, { recursive: true, force: true });
      throw err;
    }
    const broker = `127.0.0.1:${kafkaPort}`;
    try {
      const started = Date.now();
      this.progress(`haproxy: waiting until it routes to ${this.options.gateways} gateway(s)`);
      await waitForUpServers(
        `${docker.url('haproxy', 8404)}/stats;csv`,
        ['gw_grpc', 'gw_http'],
        this.options.gateways,
        {
          timeoutMs: ROUTING_TIMEOUT_MS,
          signal: this.signal,
        },
      );
      this.progress(`kafka: waiting until every consumer group is Stable with ${this.options.processors} processor(s)`);
      await waitForGroups([broker], groupsOf(this.options.processors, SIGNALS), {
        timeoutMs: GROUPS_TIMEOUT_MS,
        signal: this.signal,
      });
      this.progress(`Phase 2 routed and balanced in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (err) {
      const logs = err instanceof ReadinessError ? await docker.logs('haproxy').catch(() => []) : [];
      await docker.stop();
      if (hostDir !== undefined) rmSync(hostDir, { recursive: true, force: true });
      if (!(err instanceof ReadinessError)) throw err;
      throw new HarnessError(`Phase 2 did not become ready: ${err.message}`, {
        code: 'NOT_READY',
        exitCode: ExitCode.stackFailed,
        cause: err,
        hint: 'the stack was removed; `otel-harness up --phase 2` shows each component as it starts',
        ...(logs.length > 0 ? { details: `last log lines of haproxy:\n${logs.slice(-20).join('\n')}` } : {}),
      });
    }
    const files =
      hostDir === undefined || logFiles === undefined
        ? undefined
        : dockerNodeLogFiles(docker, harnessLogLayout(hostDir, runId, logFiles), logFiles.agent);
    if (files === undefined && hostDir !== undefined) rmSync(hostDir, { recursive: true, force: true });
    const stack = new Phase2Stack(
      docker,
      catalog,
      phase2Configs(options),
      broker,
      { gateways: this.options.gateways, processors: this.options.processors },
      files,
    );
    await stack.waitLogFilesFound(this.progress, this.signal).catch(async (err: unknown) => {
      await stack.stop();
      throw err;
    });
    return stack;
  }
}
