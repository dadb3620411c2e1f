import type { Signal } from '../ledger.js';
import type { Compression, Protocol } from '../otlp/transport.js';

export const DRIVERS = ['native', 'sdk', 'k6', 'k6-operator'] as const;
export type DriverName = (typeof DRIVERS)[number];

/** What a load driver can do: the plan, the step and the stack ask these, never the driver's name. */
export interface DriverCapabilities {
  /** The signals it sends. */
  signals: readonly Signal[];
  /** Why it sends no others (said when they are asked for). */
  signalsWhy?: string;
  /** Runs a k6 scenario: the scenario's signals, whole seconds, metrics at a constant whole rate. */
  k6Scenario: boolean;
  /** Runs on the stack's Kubernetes cluster: the load's clock starts when its runners start. */
  onCluster: boolean;
  /** The OTLP protocols it speaks (the first when none is asked for) and the compressions it sends. */
  protocols: readonly Protocol[];
  compressions: readonly Compression[];
  /** Narrower compressions over one protocol (absent: `compressions` over every protocol), and why. */
  compressionsOver?: Partial<Record<Protocol, { compressions: readonly Compression[]; why: string }>>;
  /** Why it speaks no others (said when they are asked for). */
  transportWhy?: string;
  /** Speaks TLS to an https OTLP target with the run's CA and client certificate. */
  tls: boolean;
  /** Sends the payload profiles other than synthetic (--payload). */
  payloads: boolean;
  /**
   * Sources other than OTLP push: writes log records as lines of container log files (--log-source file) and
   * serves metric samples from scrape targets (--metric-source scrape).
   */
  localSources: boolean;
}

/** What every driver but k6-operator has: all three signals, sent from this machine, plain or gzip. */
const LOCAL = {
  signals: ['traces', 'metrics', 'logs'],
  onCluster: false,
  compressions: ['none', 'gzip'],
} as const;

export const DRIVER_CAPABILITIES: Readonly<Record<DriverName, DriverCapabilities>> = {
  native: {
    ...LOCAL,
    k6Scenario: false,
    protocols: ['http/protobuf', 'grpc', 'http/json'],
    tls: true,
    payloads: true,
    localSources: true,
  },
  sdk: {
    ...LOCAL,
    k6Scenario: false,
    protocols: ['grpc', 'http/protobuf'],
    transportWhy: "the SDK driver exports with the JS SDK's OTLP exporters, gRPC or HTTP protobuf",
    tls: false,
    payloads: false,
    localSources: false,
  },
  k6: {
    ...LOCAL,
    k6Scenario: true,
    protocols: ['http/protobuf', 'grpc'],
    transportWhy: "the k6 scenarios post OTLP/HTTP protobuf (k6/http) or call OTLP/gRPC's Export (k6/net/grpc)",
    compressionsOver: {
      grpc: { compressions: ['none'], why: "k6's gRPC client sends uncompressed messages" },
    },
    tls: false,
    payloads: false,
    localSources: false,
  },
  'k6-operator': {
    signals: ['traces', 'logs'],
    signalsWhy: 'its runners start at different moments, so their metric ticks would not follow one schedule',
    k6Scenario: true,
    onCluster: true,
    protocols: ['http/protobuf'],
    compressions: ['none', 'gzip'],
    transportWhy: 'the k6 scenarios run by the operator post OTLP/HTTP protobuf',
    tls: false,
    payloads: false,
    localSources: false,
  },
};

export function capabilitiesOf(driver: DriverName): DriverCapabilities {
  return DRIVER_CAPABILITIES[driver];
}
