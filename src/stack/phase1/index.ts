import { IMAGE_SOURCE_SHORT } from '../../images/image-source.js';
import { configurationError } from '../../harness-error.js';
import { number, oneOf, text, type OptionTable } from '../../options/option-table.js';
import { defineTopology, type StackChoice, type Topology } from '../topology.js';
import { listVariants, SEED_VARIANT } from '../collector-variant.js';
import { phase1Dir, SEED_COLLECTOR_CPUS, TRACES_BACKENDS, type TracesBackend } from './definition.js';
import { Phase1Builder } from './phase1-builder.js';

export interface Phase1TopologyOptions {
  traces: TracesBackend;
  variant: string;
  collectorCpus: number;
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
  ],
};

/**
 * Phase 1 of the seeds: one collector with persistent queues in front of Jaeger or Tempo, Prometheus and
 * Loki, booted on Docker from images built here (or upstream).
 */
export const phase1Topology: Topology = defineTopology<Phase1TopologyOptions>({
  options: PHASE1_OPTIONS,
  capabilities: { boots: true, tailSampling: false, clusterLoad: false, sideBySide: true },
  collectorRoles: ['collector'],
  check(o, choice: StackChoice) {
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
    return {
      services: ['otelcol', o.traces, 'prometheus', 'loki'],
      aliases: { collector: 'otelcol', 'otel-collector': 'otelcol', traces: o.traces },
    };
  },
  describe(o, choice) {
    return `Phase 1 (traces: ${o.traces}, images ${choice.source}: ${IMAGE_SOURCE_SHORT[choice.source]}${o.collectorCpus !== SEED_COLLECTOR_CPUS ? `, collector CPUs: ${o.collectorCpus}` : ''})`;
  },
  builder: (o, choice) => new Phase1Builder(o, choice),
});

/**
 * A Phase 1 builder with defaults for what is not given:
 * `await using stack = await phase1({ traces: 'tempo' }, { ports: 'random' }).start()`.
 */
export function phase1(options: Partial<Phase1TopologyOptions> = {}, choice: Partial<StackChoice> = {}): Phase1Builder {
  return new Phase1Builder(
    {
      traces: options.traces ?? 'jaeger',
      variant: options.variant ?? SEED_VARIANT,
      collectorCpus: options.collectorCpus ?? SEED_COLLECTOR_CPUS,
    },
    { source: 'local', images: {}, collectorConfigs: {}, manifest: undefined, ports: 'random', ...choice },
  );
}
