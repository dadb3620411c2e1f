import type Dockerode from 'dockerode';
import type { BoundPorts, WaitStrategy } from 'testcontainers';
import { retryUntil } from '../../time/retry-until.js';
import type { Clock } from '../../time/clock.js';

type Probe =
  { kind: 'answer'; status: number } | { kind: 'exited'; exitCode: number } | { kind: 'no-answer'; reason: string };

/** Thrown when a container is not ready in time; says what was awaited and what was last seen. */
export class ReadinessError extends Error {
  override readonly name = 'ReadinessError';
  constructor(
    readonly awaited: string,
    readonly waitedMs: number,
    readonly lastSeen: string,
  ) {
    super(`waited ${(waitedMs / 1000).toFixed(1)} s for ${awaited}; last seen: ${lastSeen}`);
  }
}

/**
 * Ready when GET `path` on the container's published `port` (on 127.0.0.1) answers `status`.
 * Fails fast when the container exits instead of waiting out the timeout.
 */
export class HttpReadiness implements WaitStrategy {
  private timeoutMs = 60_000;
  private timeoutSet = false;

  constructor(
    readonly port: number,
    readonly path: string,
    readonly status = 200,
    private readonly clock?: Clock,
  ) {}

  describe(): string {
    return `HTTP ${this.status} from GET ${this.path} on port ${this.port}`;
  }

  withStartupTimeout(startupTimeoutMs: number): this {
    this.timeoutMs = startupTimeoutMs;
    this.timeoutSet = true;
    return this;
  }

  isStartupTimeoutSet(): boolean {
    return this.timeoutSet;
  }

  getStartupTimeout(): number {
    return this.timeoutMs;
  }

  async waitUntilReady(container: Dockerode.Container, boundPorts: BoundPorts): Promise<void> {
    const url = `http://127.0.0.1:${boundPorts.getBinding(this.port)}${this.path}`;
    const probe = async (): Promise<Probe> => {
      const state = (await container.inspect()).State;
      if (!state.Running) return { kind: 'exited', exitCode: state.ExitCode };
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        await response.body?.cancel();
        return { kind: 'answer', status: response.status };
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause;
        return { kind: 'no-answer', reason: cause?.code ?? (err as Error).message };
      }
    };
    const outcome = await retryUntil(probe, (p) => p.kind === 'answer' && p.status === this.status, {
      timeoutMs: this.timeoutMs,
      intervalMs: 500,
      stop: (p) => p.kind === 'exited',
      ...(this.clock === undefined ? {} : { clock: this.clock }),
    });
    if (outcome.status === 'done') return;
    const last = outcome.last;
    const lastSeen =
      last === undefined
        ? String(outcome.lastError)
        : last.kind === 'exited'
          ? `the container exited with code ${last.exitCode}`
          : last.kind === 'answer'
            ? `HTTP ${last.status}`
            : last.reason;
    throw new ReadinessError(this.describe(), outcome.elapsedMs, lastSeen);
  }
}
