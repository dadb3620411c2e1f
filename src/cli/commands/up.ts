import { connectDockerEngine } from '../../docker/docker-engine.js';
import { newRunId } from '../../docker/labels.js';
import { ExitCode, InterruptedError } from '../../harness-error.js';
import { removeHarnessResources } from '../../stack/docker/cleanup.js';
import type { StartedStack } from '../../stack/stack.js';
import { renderStackSpec } from '../../stack/stack-spec.js';
import type { Command } from '../parse-args.js';
import { formatSeconds, renderTable, type Reporter } from '../output.js';
import type { SignalSource } from './signals.js';

/** How long an interrupted boot may take to unwind before the final sweep. */
const ABORT_GRACE_MS = 15_000;
const WATCH_INTERVAL_MS = 5_000;

/**
 * `up`: builds missing images, boots the stack, prints its endpoints and stays up until SIGINT/SIGTERM.
 * Interrupted mid-boot: aborts, removes everything of the run and exits 130. Interrupted once ready:
 * removes everything and exits 0.
 */
export async function runUp(
  command: Extract<Command, { name: 'up' }>,
  reporter: Reporter,
  signals: SignalSource,
): Promise<number> {
  const { stack: resolved } = command;
  if (command.printSpec) {
    const flagsOf = Object.fromEntries(
      resolved.topology.options.options
        .filter((o) => resolved.options[o.key] !== undefined && !o.repeatable)
        .map((o) => [o.flag, String(resolved.options[o.key] as string)]),
    );
    reporter.out(
      renderStackSpec({
        topology: resolved.topology.name,
        source: resolved.choice.source,
        options: flagsOf,
        images: resolved.choice.images,
        collectorConfigs: resolved.choice.collectorConfigs,
        otelcolManifest: resolved.choice.manifest,
      }),
    );
    return ExitCode.pass;
  }
  const runId = newRunId();
  const controller = new AbortController();
  let interrupted: NodeJS.Signals | undefined;
  let wake: (() => void) | undefined;
  const stopListening = signals.onInterrupt((signal) => {
    if (interrupted !== undefined) return;
    interrupted = signal;
    reporter.progress(`${signal} received: stopping and removing run ${runId}`);
    controller.abort(new InterruptedError(signal));
    wake?.();
  });
  let stack: StartedStack | undefined;
  try {
    const engine = await connectDockerEngine();
    reporter.progress(`run ${runId}: ${resolved.topology.describe(resolved.options, resolved.choice)}`);
    const boot = resolved.topology
      .builder(resolved.options, resolved.choice)
      .withRunId(runId)
      .withAbortSignal(controller.signal)
      .withProgress((m) => reporter.progress(m), reporter.images())
      .start();
    try {
      stack = await Promise.race([boot, aborted(controller.signal)]);
    } catch (err) {
      if (interrupted === undefined) throw err;
      // Let the boot unwind (it removes what it started), then sweep whatever was created meanwhile.
      await Promise.race([boot.catch(() => undefined), delay(ABORT_GRACE_MS)]);
      const removed = await removeHarnessResources(engine, runId);
      reporter.progress(`removed run ${runId} (${summary(removed)})`);
      return ExitCode.interrupted;
    }

    const boot1 = stack.describe().bootSeconds;
    reporter.progress(`${stack.title} ready${boot1 === undefined ? '' : ` in ${formatSeconds(boot1)}`}`);
    printEndpoints(stack, reporter, command.json);
    reporter.err('Press Ctrl-C to stop and remove everything.');
    // Watching the containers also keeps the process alive until a signal arrives.
    const watch = watchServices(stack, reporter);
    await new Promise<void>((resolve) => {
      wake = resolve;
      if (interrupted !== undefined) resolve();
    });
    clearInterval(watch);
    await stack.stop();
    reporter.progress(`removed run ${runId}`);
    return ExitCode.pass;
  } finally {
    stopListening();
  }
}

/** Reports, once each, services whose container stops while the stack is up. */
function watchServices(stack: StartedStack, reporter: Reporter): NodeJS.Timeout {
  const reported = new Set<string>();
  return setInterval(() => {
    stack
      .exitedServices?.()
      .then((exited) => {
        for (const e of exited) {
          if (reported.has(e.name)) continue;
          reported.add(e.name);
          reporter.progress(
            `warning: ${e.name} stopped (exit code ${e.exitCode}); its logs: docker logs ${e.container}`,
          );
        }
      })
      .catch(() => undefined);
  }, WATCH_INTERVAL_MS);
}

function printEndpoints(stack: StartedStack, reporter: Reporter, json: boolean): void {
  const endpoints = stack.endpointList();
  if (json) {
    reporter.out(
      JSON.stringify({ runId: stack.runId, title: stack.title, endpoints, stack: stack.endpoints() }, null, 2),
    );
    return;
  }
  reporter.out(
    renderTable(
      ['SERVICE', 'ENDPOINT', 'ADDRESS'],
      endpoints.map((e) => [e.service, e.label, e.address]),
    ),
  );
}

function summary(removed: { containers: string[]; networks: string[]; volumes: string[] }): string {
  return `${removed.containers.length} containers, ${removed.networks.length} networks, ${removed.volumes.length} volumes`;
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
