import createDebug from 'debug';
import type { DockerEngine } from '../../docker/docker-engine.js';
import { LABEL } from '../../docker/labels.js';
import { ExitCode, HarnessError } from '../../harness-error.js';
import { removeHarnessResources } from './cleanup.js';
import { containerLogLines } from '../../observe/collector-log.js';
import { HarnessContainer, LOG_TAIL_LINES } from './harness-container.js';
import { HttpReadiness, ReadinessError } from './http-readiness.js';
import { bootLayers, type ServiceDefinition, type StackDefinition } from './stack-definition.js';
import { DockerStack, type StartedService } from './docker-stack.js';
import { initVolumes } from './volume-init.js';
import { freePorts } from './free-ports.js';

const debug = createDebug('otel-harness:stack');

export type PortMode = 'standard' | 'random';

export interface BootOptions {
  runId: string;
  /** Image reference per catalog component (from the image source resolution). */
  images: ReadonlyMap<string, string>;
  ports: PortMode;
  signal?: AbortSignal;
  /** Progress lines, e.g. 'loki: starting'. */
  progress?: (message: string) => void;
  /** sha256 of the OCB manifest the collector image was built from (for the report). */
  manifestHash?: string;
  /** Component → version that runs (catalog or the user's --image). */
  versions?: Record<string, string>;
}

/**
 * Boots a stack: one labelled network, labelled volumes (ownership prepared), then services layer by
 * layer in dependency order, each awaited by its readiness check. On any failure or abort everything of
 * the run is removed before the error surfaces.
 */
export async function bootStack(
  engine: DockerEngine,
  definition: StackDefinition,
  options: BootOptions,
): Promise<DockerStack> {
  const started = Date.now();
  const { runId } = options;
  const progress = options.progress ?? (() => undefined);
  const labels = { [LABEL.run]: runId, [LABEL.phase]: String(definition.phase) };
  const network = `${runId}-net`;
  try {
    options.signal?.throwIfAborted();
    await engine.dockerode.createNetwork({ Name: network, Driver: 'bridge', Labels: labels, CheckDuplicate: true });
    const volumeNames = new Map<string, string>();
    for (const service of definition.services) {
      for (const v of service.volumes) {
        const name = `${runId}-${v.name}`;
        if (!volumeNames.has(v.name)) {
          await engine.dockerode.createVolume({ Name: name, Labels: labels });
          volumeNames.set(v.name, name);
        }
      }
    }
    const owned = definition.services.flatMap((s) =>
      s.volumes.flatMap((v) =>
        v.owner === undefined ? [] : [{ volume: volumeNames.get(v.name) ?? v.name, owner: v.owner }],
      ),
    );
    if (owned.length > 0) {
      progress('preparing volumes');
      await initVolumes(engine, imageOf(options.images, 'toolbox'), owned, labels);
    }
    const services = new Map<string, StartedService>();
    for (const layer of bootLayers(definition.services)) {
      options.signal?.throwIfAborted();
      const results = await Promise.allSettled(
        layer.map((service) => startService(engine, service, { ...options, progress }, network, volumeNames, labels)),
      );
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      for (const r of results) if (r.status === 'fulfilled') services.set(r.value.definition.name, r.value);
      if (failure !== undefined) throw failure.reason;
    }
    options.signal?.throwIfAborted();
    return new DockerStack(runId, definition, network, services, (Date.now() - started) / 1000, engine, {
      manifestHash: options.manifestHash,
      versions: options.versions ?? definition.versions,
      // Starts one more service on the run's network later (scaling a role): same images, labels, ports.
      launch: (service) =>
        startService(engine, service, { ...options, progress, signal: undefined }, network, volumeNames, labels),
    });
  } catch (err) {
    debug('boot of %s failed, removing its resources: %o', runId, err);
    await removeHarnessResources(engine, runId);
    throw err;
  }
}

function imageOf(images: ReadonlyMap<string, string>, component: string): string {
  const image = images.get(component);
  if (image === undefined) throw new Error(`no image resolved for component '${component}'`);
  return image;
}

async function startService(
  engine: DockerEngine,
  service: ServiceDefinition,
  options: BootOptions & { progress: (message: string) => void },
  network: string,
  volumeNames: ReadonlyMap<string, string>,
  labels: Record<string, string>,
): Promise<StartedService> {
  const image = imageOf(options.images, service.component);
  const readiness = new HttpReadiness(service.readiness.port, service.readiness.path).withStartupTimeout(
    service.readiness.timeoutMs,
  );
  const exposed = [...new Set([...service.ports.map((p) => p.container), service.readiness.port])];
  const random = await freePorts(exposed.length);
  const container = new HarnessContainer(image)
    .withName(`${options.runId}-${service.name}`)
    .withLabels({ ...labels, [LABEL.component]: service.name })
    .withRunNetwork(network, service.aliases)
    .withEnvironment(service.env)
    .withCopyContentToContainer(service.files.map((f) => ({ content: f.content, target: f.target, mode: 0o644 })))
    .withBindMounts(service.volumes.map((v) => ({ source: volumeNames.get(v.name) ?? v.name, target: v.target })))
    .withExposedPorts(
      ...exposed.map((port, i) => {
        const published = service.ports.find((p) => p.container === port);
        const standard = published?.standardHostPort;
        return {
          container: port,
          host:
            published?.sameOnHost === true
              ? port
              : options.ports === 'standard' && standard !== undefined
                ? standard
                : random[i]!,
        };
      }),
    )
    .withWaitStrategy(readiness)
    .withAbortSignal(options.signal);
  if (service.command !== undefined) container.withCommand(service.command);
  if (service.nestedRuntime !== undefined) container.withNestedRuntime(service.nestedRuntime);
  if (service.hostMounts !== undefined && service.hostMounts.length > 0) {
    container.withBindMounts(
      service.hostMounts.map((m) => ({ source: m.source, target: m.target, mode: m.readOnly ? 'ro' : 'rw' })),
    );
  }
  if (service.resources !== undefined) container.withResourcesQuota(service.resources);

  const started = Date.now();
  options.progress(`${service.name}: starting (${image})`);
  try {
    const startedContainer = await container.start();
    if (service.afterReady !== undefined) {
      await service.afterReady({
        hostPort: (port) => startedContainer.getMappedPort(port),
        progress: (message) => options.progress(`${service.name}: ${message}`),
        signal: options.signal,
      });
    }
    const readySeconds = (Date.now() - started) / 1000;
    options.progress(`${service.name}: ready in ${readySeconds.toFixed(1)} s`);
    return { definition: service, container: startedContainer, image, readySeconds };
  } catch (err) {
    throw startFailure(service, image, container, await exitedBeforeReady(engine, container, readiness, started, err));
  }
}

/**
 * The container library waits for the published ports to be bound before any readiness check runs, and
 * a container that exits first never gets them: it then reports a timeout of its own. Such a failure is
 * told as what it is — the container exited, with its code and its last log lines.
 */
export async function exitedBeforeReady(
  engine: DockerEngine,
  container: HarnessContainer,
  readiness: HttpReadiness,
  startedAt: number,
  err: unknown,
): Promise<unknown> {
  if (err instanceof HarnessError || err instanceof ReadinessError || container.createdId === undefined) return err;
  if (err instanceof Error && err.name === 'AbortError') return err;
  try {
    const state = (await engine.dockerode.getContainer(container.createdId).inspect()).State;
    if (state.Running) return err;
    if (container.logTail.snapshot().length === 0) {
      for (const line of await containerLogLines(engine.dockerode, container.createdId, LOG_TAIL_LINES)) {
        container.logTail.push(`${line}\n`);
      }
    }
    return new ReadinessError(
      readiness.describe(),
      Date.now() - startedAt,
      `the container exited with code ${state.ExitCode}`,
    );
  } catch {
    return err;
  }
}

function startFailure(service: ServiceDefinition, image: string, container: HarnessContainer, err: unknown): unknown {
  if (err instanceof HarnessError || (err instanceof Error && err.name === 'AbortError')) return err;
  const logs = container.logTail.snapshot();
  const details = logs.length > 0 ? `last ${logs.length} log lines of ${service.name}:\n${logs.join('\n')}` : undefined;
  const common = { exitCode: ExitCode.stackFailed, cause: err, ...(details === undefined ? {} : { details }) };
  if (err instanceof ReadinessError) {
    return new HarnessError(`Container ${service.name} (${image}) did not become ready: ${err.message}`, {
      code: 'NOT_READY',
      hint: 'the log lines below usually say why; `otel-harness down` removes anything left over',
      ...common,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  const pull = /pull|manifest|not found|No such image/i.test(message);
  return new HarnessError(`Container ${service.name} (${image}) failed to start: ${message}`, {
    code: pull ? 'IMAGE_UNAVAILABLE' : 'START_FAILED',
    ...(pull ? { hint: 'build the image here with `otel-harness images build` and use --source local' } : {}),
    ...common,
  });
}
