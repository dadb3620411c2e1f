import { readFileSync, rmSync } from 'node:fs';
import { connectDockerEngine, type DockerEngine } from '../../docker/docker-engine.js';
import { configurationError, ExitCode, HarnessError } from '../../harness-error.js';

/** How long after the stack is up its scraper may take to scrape every target once. */
const SCRAPE_START_TIMEOUT_MS = 30_000;
import { newRunId } from '../../docker/labels.js';
import { ScrapeTargets } from '../../load/scrape/scrape-targets.js';
import { BaseStackBuilder } from '../docker/base-builder.js';
import type { DockerStack } from '../docker/docker-stack.js';
import { harnessLogLayout, makePodLogsDir, type LogFileChoice } from '../log-agent.js';
import { dockerNodeLogFiles } from '../node-log-files.js';
import type { StackChoice } from '../topology.js';
import { phase1Definition, type TracesBackend } from './definition.js';
import { Phase1Stack } from './phase1-stack.js';

/**
 * Builder for the Phase 1 stack, testcontainers style:
 * `await using stack = await phase1Builder({ traces: 'tempo' }).withRunId(id).start()`.
 */
export class Phase1Builder extends BaseStackBuilder<DockerStack | Phase1Stack> {
  constructor(
    private readonly options: {
      traces: TracesBackend;
      variant: string;
      collectorCpus?: number;
      /** `--log-source file`: the files' format and rotation; undefined: logs are pushed as OTLP. */
      logFiles?: LogFileChoice | undefined;
      /** `--metric-source scrape`: how many targets Prometheus scrapes; undefined: metrics are pushed as OTLP. */
      scrapeTargets?: number | undefined;
      /** `--scraper agent`: the node agent's prometheus receiver scrapes the targets instead of Prometheus. */
      scraper?: 'prometheus' | 'agent' | undefined;
      /** `--remote-write mimir`: Prometheus remote-writes to Mimir, the metrics backend of record. */
      remoteWrite?: 'mimir' | undefined;
    },
    choice: StackChoice,
  ) {
    super(choice);
  }

  async start(): Promise<DockerStack | Phase1Stack> {
    const engine = await connectDockerEngine();
    const userConfig = this.collectorConfigs.collector;
    const agentConfig = this.collectorConfigs.agent;
    const runId = this.runId ?? newRunId();
    const logFiles = this.options.logFiles;
    const hostDir = logFiles === undefined ? undefined : makePodLogsDir(runId);
    let targets: ScrapeTargets | undefined;
    try {
      if (this.options.scrapeTargets !== undefined)
        targets = await ScrapeTargets.listen(await bridgeGateway(engine), this.options.scrapeTargets);
      const definition = this.onStorage(
        phase1Definition({
          traces: this.options.traces,
          variant: this.options.variant,
          collectorCpus: this.options.collectorCpus,
          ...(userConfig === undefined ? {} : { collectorConfig: readFileSync(userConfig, 'utf8') }),
          ...(hostDir === undefined && this.options.scraper !== 'agent'
            ? {}
            : {
                agent: {
                  ...(hostDir === undefined ? {} : { hostDir }),
                  ...(logFiles === undefined ? {} : { reader: logFiles.agent }),
                  scrape: this.options.scraper === 'agent',
                  ...(agentConfig === undefined ? {} : { config: readFileSync(agentConfig, 'utf8') }),
                },
              }),
          ...(targets === undefined ? {} : { scrapeTargets: targets.addresses() }),
          ...(this.options.remoteWrite === undefined ? {} : { remoteWrite: this.options.remoteWrite }),
        }),
      );
      const resolved = await this.resolveImages(engine, definition);
      const promtail = logFiles?.agent === 'promtail';
      await this.validateCollectorConfigs(engine, resolved, promtail ? ['agent'] : []);
      const docker = await this.boot(engine, definition, resolved, runId);
      if (targets !== undefined) {
        this.progress('waiting for the first scrape of each target');
        if (!(await targets.waitScraped(SCRAPE_START_TIMEOUT_MS, this.signal))) {
          await docker.stop();
          throw new HarnessError(
            `no scrape of the harness's targets (${targets.addresses().join(', ')}) within ${SCRAPE_START_TIMEOUT_MS / 1000} s of the stack's start: ${this.options.scraper === 'agent' ? "the node agent's prometheus receiver" : 'Prometheus'} does not reach them`,
            {
              code: 'SCRAPE_NOT_STARTED',
              exitCode: ExitCode.stackFailed,
              hint: 'the targets listen on the Docker bridge gateway: a firewall on the host may drop what containers send it',
            },
          );
        }
      }
      const upstream = docker.endpoints().upstream !== undefined;
      if (targets === undefined && !upstream && (hostDir === undefined || logFiles === undefined)) return docker;
      const layout =
        hostDir === undefined || logFiles === undefined ? undefined : harnessLogLayout(hostDir, runId, logFiles);
      const stack = new Phase1Stack(
        docker,
        layout === undefined ? undefined : dockerNodeLogFiles(docker, layout, logFiles!.agent),
        targets,
      );
      await stack.waitLogFilesFound(this.progress, this.signal).catch(async (err: unknown) => {
        await stack.stop();
        throw err;
      });
      return stack;
    } catch (err) {
      if (hostDir !== undefined) rmSync(hostDir, { recursive: true, force: true });
      await targets?.close();
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
    if (stack instanceof Phase1Stack) throw new Error('a Phase 1 stack with an agent from the OTLP builder');
    return stack;
  }
}

/**
 * The host's address on Docker's default bridge (docker0): containers on any of the engine's bridge networks
 * reach the host there, and nothing outside the machine does.
 */
async function bridgeGateway(engine: DockerEngine): Promise<string> {
  const info = (await engine.dockerode.getNetwork('bridge').inspect()) as {
    IPAM?: { Config?: { Gateway?: string }[] };
  };
  const gateway = info.IPAM?.Config?.find((c) => c.Gateway !== undefined)?.Gateway;
  if (gateway === undefined)
    throw configurationError(
      '--metric-source',
      'a Docker engine with its default bridge network (the scrape targets listen on its gateway address)',
      'scrape',
    );
  return gateway;
}
