import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Dockerode from 'dockerode';
import type { BoundPorts } from 'testcontainers';
import { afterEach, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../src/docker/docker-engine.js';
import { exitedBeforeReady } from '../../src/stack/docker/boot.js';
import { HarnessContainer } from '../../src/stack/docker/harness-container.js';
import { HttpReadiness, ReadinessError } from '../../src/stack/docker/http-readiness.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

async function serve(statuses: number[]): Promise<number> {
  let i = 0;
  server = createServer((_req, res) => {
    res.statusCode = statuses[Math.min(i++, statuses.length - 1)]!;
    res.end();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const container = (running: () => boolean) =>
  ({
    inspect: () => Promise.resolve({ State: { Running: running(), ExitCode: 1 } }),
  }) as unknown as Dockerode.Container;
const ports = (hostPort: number) => ({ getBinding: () => hostPort }) as unknown as BoundPorts;

describe('HttpReadiness (a local server on port 0 standing in for a container port)', () => {
  it('is ready once the path answers the expected status', async () => {
    const port = await serve([503, 503, 200]);
    await new HttpReadiness(3100, '/ready').withStartupTimeout(10_000).waitUntilReady(
      container(() => true),
      ports(port),
    );
  });

  it('fails after the timeout, saying what it awaited and what it last saw', async () => {
    const port = await serve([503]);
    const wait = new HttpReadiness(3100, '/ready').withStartupTimeout(1_200);
    const err = await wait
      .waitUntilReady(
        container(() => true),
        ports(port),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReadinessError);
    expect((err as ReadinessError).message).toMatch(
      /^waited 1\.\d s for HTTP 200 from GET \/ready on port 3100; last seen: HTTP 503$/,
    );
  });

  it('fails at once when the container has exited', async () => {
    const port = await serve([503]);
    let now = 0;
    const clock = { now: () => now, sleep: (ms: number) => ((now += ms), Promise.resolve()) };
    let probes = 0;
    const exitsAfterTwoProbes = container(() => ++probes <= 2);
    const err = await new HttpReadiness(13133, '/health', 200, clock)
      .withStartupTimeout(60_000)
      .waitUntilReady(exitsAfterTwoProbes, ports(port))
      .catch((e: unknown) => e);
    expect((err as ReadinessError).lastSeen).toBe('the container exited with code 1');
    expect((err as ReadinessError).waitedMs).toBe(1_000); // two 500 ms pauses, not the 60 s budget
  });
});

describe('a container that exits before Docker publishes its ports', () => {
  const frame = (text: string) => {
    const body = Buffer.from(text);
    const head = Buffer.alloc(8);
    head[0] = 2;
    head.writeUInt32BE(body.length, 4);
    return Buffer.concat([head, body]);
  };
  const engine = (running: boolean) =>
    ({
      dockerode: {
        getContainer: () => ({
          inspect: () => Promise.resolve({ State: { Running: running, ExitCode: 3 } }),
          logs: () => Promise.resolve(frame('level=error msg="bad config"\n')),
        }),
      },
    }) as unknown as DockerEngine;
  const portWait = new Error('Timed out after 10000ms while waiting for container ports to be bound to the host');

  it("is told as the exit, with the code and the container's log lines, not as the library's port wait", async () => {
    const created = new HarnessContainer('otel-harness/loki:3.7.8');
    created.createdId = 'abc';
    const err = await exitedBeforeReady(
      engine(false),
      created,
      new HttpReadiness(3100, '/ready'),
      Date.now(),
      portWait,
    );
    expect(err).toBeInstanceOf(ReadinessError);
    expect((err as Error).message).toMatch(
      /^waited [\d.]+ s for HTTP 200 from GET \/ready on port 3100; last seen: the container exited with code 3$/,
    );
    expect(created.logTail.snapshot()).toEqual(['level=error msg="bad config"']);
  });

  it('keeps the original error while the container runs, or when it was never created', async () => {
    const running = new HarnessContainer('x');
    running.createdId = 'abc';
    expect(await exitedBeforeReady(engine(true), running, new HttpReadiness(3100, '/'), Date.now(), portWait)).toBe(
      portWait,
    );
    expect(
      await exitedBeforeReady(engine(false), new HarnessContainer('x'), new HttpReadiness(3100, '/'), 0, portWait),
    ).toBe(portWait);
  });
});
