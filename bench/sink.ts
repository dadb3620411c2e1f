import { connectDockerEngine } from '../src/docker/docker-engine.js';
import { LABEL, newRunId } from '../src/docker/labels.js';
import { loadCatalog, localImageRef } from '../src/images/catalog.js';
import { removeHarnessResources } from '../src/stack/docker/cleanup.js';
import { HarnessContainer } from '../src/stack/docker/harness-container.js';
import { HttpReadiness } from '../src/stack/docker/http-readiness.js';

/** A collector that accepts OTLP (gRPC and HTTP) and discards it: the benchmark's common sink. */
const SINK_CONFIG = `
extensions:
  health_check: { endpoint: 0.0.0.0:13133 }
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 0.0.0.0:4317 }
      http: { endpoint: 0.0.0.0:4318 }
exporters:
  debug: { verbosity: basic, sampling_initial: 1, sampling_thereafter: 1000 }
service:
  extensions: [health_check]
  telemetry:
    logs: { level: warn }
    metrics:
      level: basic
      readers:
        - pull: { exporter: { prometheus: { host: 0.0.0.0, port: 8888 } } }
  pipelines:
    traces: { receivers: [otlp], exporters: [debug] }
`;

export interface Sink {
  runId: string;
  grpc: string;
  http: string;
  metrics: string;
  stop(): Promise<void>;
}

export async function startSink(): Promise<Sink> {
  const engine = await connectDockerEngine();
  const runId = newRunId();
  const image = localImageRef(loadCatalog().components.get('otelcol')!);
  const container = await new HarnessContainer(image)
    .withName(`${runId}-sink`)
    .withLabels({ [LABEL.run]: runId, [LABEL.component]: 'bench-sink' })
    .withCopyContentToContainer([{ content: SINK_CONFIG, target: '/etc/otelcol-contrib/config.yaml', mode: 0o644 }])
    .withExposedPorts(4317, 4318, 8888, 13133)
    .withWaitStrategy(new HttpReadiness(13133, '/').withStartupTimeout(60_000))
    .start();
  const port = (p: number) => container.getMappedPort(p);
  return {
    runId,
    grpc: `127.0.0.1:${port(4317)}`,
    http: `http://127.0.0.1:${port(4318)}`,
    metrics: `http://127.0.0.1:${port(8888)}/metrics`,
    stop: async () => {
      await removeHarnessResources(engine, runId);
    },
  };
}
