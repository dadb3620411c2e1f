import { IMAGE_SOURCE_SHORT } from '../../images/image-source.js';
import { configurationError } from '../../harness-error.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { number, oneOf, text, type OptionTable } from '../../options/option-table.js';
import { PROMTAIL_SERVICE } from '../promtail.js';
import { checkAgentReadsFiles, LOG_FILE_OPTIONS, logFileChoice, type LogFileFlags } from '../log-agent.js';
import { defineTopology, type StackChoice, type Topology } from '../topology.js';
import { listVariants, SEED_VARIANT } from '../collector-variant.js';
import {
  AGENT_LOG_ROOT,
  AGENT_SERVICE,
  phase1Dir,
  SEED_COLLECTOR_CPUS,
  TRACES_BACKENDS,
  type TracesBackend,
} from './definition.js';
import { Phase1Builder, Phase1OtlpBuilder } from './phase1-builder.js';
import { scrapingReceivers } from '../agent-config.js';
import { PLATFORM_MANIFEST } from '../../images/collector-components.js';
import { stacksDir } from '../../paths.js';
import { SCRAPE_TARGETS, SCRAPE_TARGETS_ALIAS } from './scrape-target-faults.js';
import { OBJECT_STORE_SERVICE, STORAGE_OPTION, storageText, type StorageFlags } from '../object-store.js';

export const METRIC_SOURCES = ['otlp', 'scrape'] as const;
export const REMOTE_WRITES = ['none', 'mimir'] as const;
export const SCRAPERS = ['prometheus', 'agent'] as const;

export interface Phase1TopologyOptions extends LogFileFlags, StorageFlags {
  traces: TracesBackend;
  variant: string;
  collectorCpus: number;
  metricSource: (typeof METRIC_SOURCES)[number];
  scrapeTargets: number;
  scraper: (typeof SCRAPERS)[number];
  remoteWrite: (typeof REMOTE_WRITES)[number];
}

export const PHASE1_OPTIONS: OptionTable = {
  name: 'phase1',
  title: 'Phase 1',
  activation: 'add --phase 1',
  options: [
    {
      key: 'traces',
      flag: 'traces',
      default: 'jaeger',
      parse: oneOf(TRACES_BACKENDS),
      help: `trace backend: ${TRACES_BACKENDS.join(', ')}`,
    },
    {
      key: 'variant',
      flag: 'variant',
      default: SEED_VARIANT,
      parse: text,
      help: 'collector variant: seed, or a file of stacks/phase1/variants',
    },
    {
      key: 'collectorCpus',
      flag: 'collector-cpus',
      default: String(SEED_COLLECTOR_CPUS),
      parse: number('a CPU count between 0.05 and 64', (n) => n >= 0.05 && n <= 64),
      help: "the collector container's CPU limit (the seed's: 2), e.g. to size a collector with capacity",
    },
    ...LOG_FILE_OPTIONS,
    STORAGE_OPTION,
    {
      key: 'metricSource',
      flag: 'metric-source',
      default: 'otlp',
      parse: oneOf(METRIC_SOURCES),
      help:
        'how metrics enter: otlp (pushed to the collector, remote-written to Prometheus), or scrape (Prometheus ' +
        "scrapes the harness's targets, each sample a unique value at its tick's time)",
    },
    {
      key: 'scrapeTargets',
      onlyWith: { key: 'metricSource', value: 'scrape' },
      flag: 'scrape-targets',
      default: '4',
      parse: number('a whole number from 1 to 100', (n) => Number.isInteger(n) && n >= 1 && n <= 100),
      help: '--metric-source scrape: targets sharing the metric series',
    },
    {
      key: 'scraper',
      onlyWith: { key: 'metricSource', value: 'scrape' },
      flag: 'scraper',
      default: 'prometheus',
      parse: oneOf(SCRAPERS),
      help:
        "--metric-source scrape: who scrapes the targets — prometheus (seed 004), or agent (seed 003's node " +
        "collector: the collector's prometheus receiver, forwarding to the collector; the platform distribution)",
    },
    {
      key: 'remoteWrite',
      flag: 'remote-write',
      default: 'none',
      parse: oneOf(REMOTE_WRITES),
      help:
        "mimir: Prometheus remote-writes what it stores to Mimir (seed 004's long-term store), where metrics are " +
        'verified; samples Mimir lacks are looked up in Prometheus to name the hop that lost them',
    },
  ],
};

/**
 * Phase 1 of the seeds: one collector with persistent queues in front of Jaeger or Tempo, Prometheus and
 * Loki, booted on Docker from images built here (or upstream).
 */
export const phase1Topology: Topology = defineTopology<Phase1TopologyOptions>({
  options: PHASE1_OPTIONS,
  capabilities: { boots: true, tailSampling: false, clusterLoad: false, sideBySide: true },
  collectorRoles: ['collector', 'agent'],
  check(o, choice: StackChoice) {
    choice.storage = o.storage;
    const logFiles = logFileChoice(o);
    const agentConfig = choice.collectorConfigs.agent;
    const agentScrapes = o.metricSource === 'scrape' && o.scraper === 'agent';
    if (o.scraper === 'agent' && o.metricSource !== 'scrape')
      throw configurationError('--scraper', 'agent only with --metric-source scrape', o.scraper);
    if (logFiles === undefined && !agentScrapes) {
      if (agentConfig !== undefined)
        throw configurationError(
          '--collector-config',
          'no agent=FILE without --log-source file or --scraper agent (Phase 1 runs its agent only then)',
          `agent=${agentConfig}`,
        );
    }
    if (logFiles !== undefined) {
      checkAgentReadsFiles(agentConfig, AGENT_LOG_ROOT, logFiles);
      choice.logFiles = true;
    }
    if (agentScrapes) {
      if (
        agentConfig !== undefined &&
        logFiles?.agent !== 'promtail' &&
        scrapingReceivers(readFileSync(agentConfig, 'utf8')).length === 0
      )
        throw configurationError(
          '--collector-config',
          'with --scraper agent, an agent configuration with a prometheus receiver in a metrics pipeline (the harness adds its targets to it)',
          `agent=${agentConfig}`,
        );
      // The default collector has no prometheus receiver: the platform distribution has.
      if (choice.manifest === undefined && choice.images.otelcol === undefined) {
        choice.manifest = join(stacksDir(), PLATFORM_MANIFEST);
        choice.manifestWhy = `collector built from stacks/${PLATFORM_MANIFEST} for receiver prometheus (--scraper agent)`;
      }
    }
    if (o.metricSource === 'scrape') choice.scrapeMetrics = true;
    const variants = listVariants(phase1Dir());
    if (!variants.includes(o.variant))
      throw configurationError('--variant', `one of ${variants.join(', ')}`, o.variant);
    if (Object.keys(choice.collectorConfigs).length > 0 && o.variant !== SEED_VARIANT)
      throw configurationError(
        '--variant',
        "'seed' with --collector-config (a variant edits the seed's configuration)",
        o.variant,
      );
  },
  faultTargets(o) {
    const promtail = o.logSource === 'file' && o.logAgent === 'promtail';
    const agent = (o.logSource === 'file' && !promtail) || (o.metricSource === 'scrape' && o.scraper === 'agent');
    return {
      services: [
        'otelcol',
        o.traces,
        'prometheus',
        'loki',
        ...(agent ? [AGENT_SERVICE] : []),
        ...(promtail ? [PROMTAIL_SERVICE] : []),
        ...(o.remoteWrite === 'mimir' ? ['mimir'] : []),
        ...(o.storage === 's3' ? [OBJECT_STORE_SERVICE] : []),
        ...(o.metricSource === 'scrape' ? [SCRAPE_TARGETS] : []),
      ],
      aliases: {
        collector: 'otelcol',
        'otel-collector': 'otelcol',
        traces: o.traces,
        ...(agent ? { agent: AGENT_SERVICE, 'otel-node-collector': AGENT_SERVICE } : {}),
        // The agent that reads the files is the one `agent-kill` means.
        ...(promtail ? { agent: PROMTAIL_SERVICE } : {}),
        ...(o.metricSource === 'scrape' ? { [SCRAPE_TARGETS_ALIAS]: SCRAPE_TARGETS } : {}),
      },
    };
  },
  describe(o, choice) {
    return `Phase 1 (traces: ${o.traces}, images ${choice.source}: ${IMAGE_SOURCE_SHORT[choice.source]}${o.collectorCpus !== SEED_COLLECTOR_CPUS ? `, collector CPUs: ${o.collectorCpus}` : ''}${o.logSource === 'file' ? `, logs from ${o.logFormat} files through ${o.logAgent === 'promtail' ? 'Promtail' : 'a node agent'}` : ''}${o.metricSource === 'scrape' ? `, metrics scraped from ${o.scrapeTargets} targets${o.scraper === 'agent' ? ' by the node agent' : ''}` : ''}${o.remoteWrite === 'mimir' ? ', Prometheus remote-writing to Mimir' : ''}${storageText(o.storage)})`;
  },
  builder: (o, choice) =>
    new Phase1Builder(
      {
        ...o,
        logFiles: logFileChoice(o),
        scrapeTargets: o.metricSource === 'scrape' ? o.scrapeTargets : undefined,
        scraper: o.scraper,
        remoteWrite: o.remoteWrite === 'mimir' ? 'mimir' : undefined,
      },
      choice,
    ),
});

/**
 * A Phase 1 builder with defaults for what is not given (logs as OTLP):
 * `await using stack = await phase1({ traces: 'tempo' }, { ports: 'random' }).start()`.
 */
export function phase1(
  options: Partial<Pick<Phase1TopologyOptions, 'traces' | 'variant' | 'collectorCpus'>> = {},
  choice: Partial<StackChoice> = {},
): Phase1OtlpBuilder {
  return new Phase1OtlpBuilder(
    {
      traces: options.traces ?? 'jaeger',
      variant: options.variant ?? SEED_VARIANT,
      collectorCpus: options.collectorCpus ?? SEED_COLLECTOR_CPUS,
    },
    { source: 'local', images: {}, collectorConfigs: {}, manifest: undefined, ports: 'random', ...choice },
  );
}
