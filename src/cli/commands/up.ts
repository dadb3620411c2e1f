import { connectDockerEngine } from '../../docker/docker-engine.js';
import { newRunId } from '../../docker/labels.js';
import { ExitCode, InterruptedError } from '../../harness-error.js';
import { removeHarnessResources } from '../../stack/cleanup.js';
import { phase1 } from '../../stack/phase1-stack.js';
import type { StartedStack } from '../../stack/started-stack.js';
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
  const { options } = command;
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
    reporter.progress(`run ${runId}: Phase ${options.phase} (traces: ${options.traces}, images: ${options.source})`);
    const boot = phase1()
      .withTraces(options.traces)
      .withImageSource(options.source)
      .withPorts(options.ports)
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

    reporter.progress(`${stack.definition.title} ready in ${formatSeconds(stack.bootSeconds)}`);
    printEndpoints(stack, reporter, command.json);
    reporter.err('Press Ctrl-C to stop and remove everything.');
    // Watching the containers also keeps the process alive until a signal arrives.
    const watch = watchServices(stack, reporter);
    await new Promise<void>((resolve) => {
      wake = resolve;
      if (interrupted !== undefined) resolve();
    });
    clearInterval(watch);
    const removed = await stack.stop();
    reporter.progress(`removed run ${runId} (${summary(removed)})`);
    return ExitCode.pass;
  } finally {
    stopListening();
  }
}

/** Reports, once each, services whose container stops while the stack is up. */
function watchServices(stack: StartedStack, reporter: Reporter): NodeJS.Timeout {
  const reported = new Set<string>();
  return setInterval(() => {
    for (const [name, service] of stack.services) {
      if (reported.has(name)) continue;
      stack
        .containerState(name)
        .then((state) => {
          if (state.running || reported.has(name)) return;
          reported.add(name);
          reporter.progress(
            `warning: ${name} stopped (exit code ${state.exitCode}); its logs: docker logs ${service.container.getName().replace(/^\//, '')}`,
          );
        })
        .catch(() => undefined);
    }
  }, WATCH_INTERVAL_MS);
}

function printEndpoints(stack: StartedStack, reporter: Reporter, json: boolean): void {
  const endpoints = stack.endpoints();
  if (json) {
    reporter.out(JSON.stringify({ runId: stack.runId, title: stack.definition.title, endpoints }, null, 2));
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
