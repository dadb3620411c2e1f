import { IMAGE_SOURCE_SHORT } from '../../images/image-source.js';
import { configurationError } from '../../harness-error.js';
import { duration, number, wholePercent, type OptionTable } from '../../options/option-table.js';
import { parseDurationMs } from '../../options/duration.js';
import { defineTopology, type StackChoice, type Topology } from '../topology.js';
import { DEFAULT_COLLECTOR_RESOURCES, SEED_HPA } from './manifests.js';
import { Phase3Builder, type Phase3TopologyOptions } from './phase3-builder.js';
import { checkAgentReadsFiles, filelogChoice, LOG_FILE_OPTIONS, type LogFileFlags } from '../log-agent.js';
import { NODE_POD_LOGS } from './node-collector.js';
import { STORAGE_OPTION, storageText, type StorageFlags } from '../object-store.js';

interface Phase3Flags extends LogFileFlags, StorageFlags {
  hpaMin: number;
  hpaMax: number;
  hpaCpuTarget: number;
  hpaMemoryTarget: number;
  scaleDownWindowMs: number;
  collectorCpuRequest: number;
  prometheusOooWindowMs: number;
}

const wholeFrom = (min: number, max: number) =>
  number(`a whole number from ${min} to ${max}`, (n) => Number.isInteger(n) && n >= min && n <= max);

export const PHASE3_OPTIONS: OptionTable = {
  name: 'phase3',
  title: 'Phase 3 (Kubernetes)',
  activation: 'add --phase 3',
  options: [
    {
      key: 'hpaMin',
      flag: 'hpa-min',
      default: String(SEED_HPA.minReplicas),
      parse: wholeFrom(1, 20),
      help: "the collector HPA's minReplicas (seed 000: 2)",
    },
    {
      key: 'hpaMax',
      flag: 'hpa-max',
      default: String(SEED_HPA.maxReplicas),
      parse: wholeFrom(1, 20),
      help: "the collector HPA's maxReplicas (seed 000: 5)",
    },
    {
      key: 'hpaCpuTarget',
      flag: 'hpa-cpu-target',
      default: `${SEED_HPA.cpuTargetPct}%`,
      parse: wholePercent(1, 500),
      help: 'CPU averageUtilization target, of the request (seeds: 70%)',
    },
    {
      key: 'hpaMemoryTarget',
      flag: 'hpa-memory-target',
      default: `${SEED_HPA.memoryTargetPct}%`,
      parse: wholePercent(1, 500),
      help: 'memory averageUtilization target, of the request (seed 000: 80%)',
    },
    {
      key: 'scaleDownWindowMs',
      flag: 'scale-down-window',
      default: `${SEED_HPA.scaleDownWindowSeconds}s`,
      parse: duration,
      help: "the HPA's scaleDown stabilizationWindowSeconds (seed 002: 300s); the run waits for the scale-down",
    },
    {
      key: 'collectorCpuRequest',
      flag: 'collector-cpu-request',
      default: String(DEFAULT_COLLECTOR_RESOURCES.cpuRequestMilli),
      parse: wholeFrom(10, 16000),
      help: "a collector pod's CPU request in millicores (what the CPU target is a % of)",
    },
    {
      key: 'prometheusOooWindowMs',
      flag: 'prometheus-ooo-window',
      default: '0s',
      parse: (raw, name) => parseDurationMs(raw, name),
      help: "Prometheus's storage.tsdb.out_of_order_time_window (seed 000's Prometheus: unset, 0s); several collector replicas write each series, e.g. 30m",
    },
    ...LOG_FILE_OPTIONS,
    STORAGE_OPTION,
  ],
};

function topologyOptions(flags: Phase3Flags): Phase3TopologyOptions {
  return {
    hpa: {
      ...SEED_HPA,
      minReplicas: flags.hpaMin,
      maxReplicas: flags.hpaMax,
      cpuTargetPct: flags.hpaCpuTarget,
      memoryTargetPct: flags.hpaMemoryTarget,
      scaleDownWindowSeconds: Math.round(flags.scaleDownWindowMs / 1000),
    },
    resources: { ...DEFAULT_COLLECTOR_RESOURCES, cpuRequestMilli: flags.collectorCpuRequest },
    terminationGraceSeconds: 60,
    prometheusOooWindowSeconds: Math.round(flags.prometheusOooWindowMs / 1000),
    logFiles: filelogChoice(flags, 3),
  };
}

/**
 * Phase 3 of the seeds: the collector as a Deployment with the seeds' HPA, PDB and graceful shutdown, on
 * a single-node Kubernetes built here (catalog component kube-node), backends beside it on Docker.
 */
export const phase3Topology: Topology = defineTopology<Phase3Flags>({
  options: PHASE3_OPTIONS,
  capabilities: { boots: true, tailSampling: false, clusterLoad: true, sideBySide: false },
  collectorRoles: ['collector'],
  check(o, choice: StackChoice) {
    choice.storage = o.storage;
    if (o.hpaMin > o.hpaMax) throw configurationError('--hpa-min', `at most --hpa-max (${o.hpaMax})`, o.hpaMin);
    if (choice.source === 'upstream')
      throw configurationError(
        '--source',
        "'local' or 'auto' with --phase 3 (its node image is built here; no published image has its layout)",
        choice.source,
      );
    if (Object.keys(choice.collectorConfigs).length > 0)
      throw configurationError('--collector-config', 'none with --phase 3 (it runs the seed configuration)', 'a file');
    const logFiles = filelogChoice(o, 3);
    if (logFiles !== undefined) {
      // The node collector runs the Phase 1 agent's configuration: it must read where the harness writes.
      checkAgentReadsFiles(undefined, NODE_POD_LOGS, logFiles);
      choice.logFiles = true;
    }
  },
  faultTargets() {
    return undefined;
  },
  describe(o, choice) {
    const ooo =
      o.prometheusOooWindowMs > 0 ? `, Prometheus out-of-order window ${o.prometheusOooWindowMs / 1000} s` : '';
    const files = o.logSource === 'file' ? `, logs from ${o.logFormat} files through the node-collector DaemonSet` : '';
    return `Phase 3 on Kubernetes (collector HPA ${o.hpaMin}–${o.hpaMax}, CPU ${o.hpaCpuTarget} % of ${o.collectorCpuRequest}m${ooo}${files}${storageText(o.storage)}, images ${choice.source}: ${IMAGE_SOURCE_SHORT[choice.source]})`;
  },
  builder: (o, choice) => new Phase3Builder(topologyOptions(o), choice),
});

/** A Phase 3 builder with defaults for what is not given (tests). */
export function phase3(flags: Partial<Phase3Flags> = {}, choice: Partial<StackChoice> = {}): Phase3Builder {
  return new Phase3Builder(
    topologyOptions({
      hpaMin: SEED_HPA.minReplicas,
      hpaMax: SEED_HPA.maxReplicas,
      hpaCpuTarget: SEED_HPA.cpuTargetPct,
      hpaMemoryTarget: SEED_HPA.memoryTargetPct,
      scaleDownWindowMs: SEED_HPA.scaleDownWindowSeconds * 1000,
      collectorCpuRequest: DEFAULT_COLLECTOR_RESOURCES.cpuRequestMilli,
      prometheusOooWindowMs: 0,
      logSource: 'otlp',
      logAgent: 'filelog',
      logFormat: 'cri',
      logRotateBytes: 10 * 1024 * 1024,
      logRotateFiles: 5,
      storage: 'local',
      ...flags,
    }),
    { source: 'local', images: {}, collectorConfigs: {}, manifest: undefined, ports: 'random', ...choice },
  );
}
