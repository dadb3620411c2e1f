import { IMAGE_SOURCE_SHORT } from '../../images/image-source.js';
import { AGENT_LOG_ROOT, AGENT_SERVICE } from '../agent-config.js';
import { checkAgentReadsFiles, LOG_FILE_OPTIONS, logFileChoice, type LogFileFlags } from '../log-agent.js';
import { PROMTAIL_SERVICE } from '../promtail.js';
import { configurationError } from '../../harness-error.js';
import { number, text, type OptionTable } from '../../options/option-table.js';
import { listVariants, SEED_VARIANT } from '../collector-variant.js';
import { defineTopology, type StackChoice, type Topology } from '../topology.js';
import { PARTITIONS, phase2Dir } from './definition.js';
import { Phase2Builder, type Phase2TopologyOptions } from './phase2-builder.js';
import { SCALABLE_ROLES } from './phase2-stack.js';
import { OBJECT_STORE_SERVICE, STORAGE_OPTION, storageText, type StorageFlags } from '../object-store.js';

/** HAProxy's server-template fills 10 slots from the gateways' alias. */
export const MAX_GATEWAYS = 10;

const ROLES = ['gateway', 'processor', 'agent'] as const;

type Phase2Flags = Omit<Phase2TopologyOptions, 'logFiles'> & LogFileFlags & StorageFlags;

export const PHASE2_OPTIONS: OptionTable = {
  name: 'phase2',
  title: 'Phase 2',
  activation: 'add --phase 2',
  options: [
    {
      key: 'gateways',
      flag: 'gateways',
      default: '2',
      parse: number(
        `a whole number from 1 to ${MAX_GATEWAYS} (HAProxy's server slots)`,
        (n) => Number.isInteger(n) && n >= 1 && n <= MAX_GATEWAYS,
      ),
      help: `gateway collectors behind HAProxy (1–${MAX_GATEWAYS}; the seeds run 2)`,
    },
    {
      key: 'processors',
      flag: 'processors',
      default: '2',
      parse: number(
        `a whole number from 1 to ${PARTITIONS} (the partitions of each topic)`,
        (n) => Number.isInteger(n) && n >= 1 && n <= PARTITIONS,
      ),
      help: `processor collectors consuming Kafka (1–${PARTITIONS}, the partitions per topic; the seeds run 2)`,
    },
    {
      key: 'variant',
      flag: 'variant',
      default: SEED_VARIANT,
      parse: text,
      help: 'processor variant: seed, or a file of stacks/phase2/variants',
    },
    ...LOG_FILE_OPTIONS,
    STORAGE_OPTION,
  ],
};

/**
 * Phase 2 of the seeds: HAProxy → gateway collectors → Kafka → processor collectors (tail sampling) →
 * Tempo, Mimir, Loki, with Prometheus watching the stack; booted on Docker from images built here.
 */
export const phase2Topology: Topology = defineTopology<Phase2Flags>({
  options: PHASE2_OPTIONS,
  capabilities: { boots: true, tailSampling: true, clusterLoad: false, sideBySide: true },
  collectorRoles: ROLES,
  check(o, choice: StackChoice) {
    choice.storage = o.storage;
    const variants = listVariants(phase2Dir());
    if (!variants.includes(o.variant))
      throw configurationError('--variant', `one of ${variants.join(', ')}`, o.variant);
    if (choice.collectorConfigs.processor !== undefined && o.variant !== SEED_VARIANT)
      throw configurationError(
        '--variant',
        "'seed' with --collector-config processor=FILE (a variant edits the seed's configuration)",
        o.variant,
      );
    const logFiles = logFileChoice(o);
    const agentConfig = choice.collectorConfigs.agent;
    if (logFiles === undefined) {
      if (agentConfig !== undefined)
        throw configurationError(
          '--collector-config',
          'no agent=FILE without --log-source file (Phase 2 runs its node agent only then)',
          `agent=${agentConfig}`,
        );
      return;
    }
    checkAgentReadsFiles(agentConfig, AGENT_LOG_ROOT, logFiles);
    choice.logFiles = true;
  },
  faultTargets(o) {
    const numbered = (role: string, n: number) => Array.from({ length: n }, (_, k) => `${role}-${k + 1}`);
    return {
      services: [
        'haproxy',
        'kafka',
        'tempo',
        'mimir',
        'loki',
        'prometheus',
        ...(o.storage === 's3' ? [OBJECT_STORE_SERVICE] : []),
        ...numbered('gateway', o.gateways),
        ...numbered('processor', o.processors),
        ...(o.logSource === 'file' ? [o.logAgent === 'promtail' ? PROMTAIL_SERVICE : AGENT_SERVICE] : []),
      ],
      aliases: {
        ...(o.logSource !== 'file'
          ? {}
          : o.logAgent === 'promtail'
            ? { agent: PROMTAIL_SERVICE }
            : { agent: AGENT_SERVICE, 'otel-node-collector': AGENT_SERVICE }),
        gateway: 'gateway-1',
        processor: 'processor-1',
        lb: 'haproxy',
        traces: 'tempo',
        metrics: 'mimir',
        logs: 'loki',
      },
      scalable: SCALABLE_ROLES,
    };
  },
  describe(o, choice) {
    const files =
      o.logSource === 'file'
        ? `, logs from ${o.logFormat} files through ${o.logAgent === 'promtail' ? 'Promtail' : 'a node agent'}`
        : '';
    return `Phase 2 (${o.gateways} gateways, ${o.processors} processors${files}${storageText(o.storage)}, images ${choice.source}: ${IMAGE_SOURCE_SHORT[choice.source]})`;
  },
  builder: (o, choice) =>
    new Phase2Builder(
      { gateways: o.gateways, processors: o.processors, variant: o.variant, logFiles: logFileChoice(o) },
      choice,
    ),
});

/** A Phase 2 builder with defaults for what is not given. */
export function phase2(options: Partial<Phase2TopologyOptions> = {}, choice: Partial<StackChoice> = {}): Phase2Builder {
  return new Phase2Builder(
    { gateways: options.gateways ?? 2, processors: options.processors ?? 2, variant: options.variant ?? SEED_VARIANT },
    { source: 'local', images: {}, collectorConfigs: {}, manifest: undefined, ports: 'random', ...choice },
  );
}
