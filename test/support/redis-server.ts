import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { freePort } from '../../src/core/free-port.ts';

/**
 * A redis-server of a test's own, on a free port of 127.0.0.1, that the test may kill and start
 * again on the same port: for outages. (The shared server on 6379 is never stopped.)
 */
export interface KillableRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Kills the server with SIGKILL, as a crash would, and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: it saves nothing) and waits until it answers. */
  start(): Promise<void>;
}

export async function startKillableRedis(): Promise<KillableRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const server: KillableRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = once(running, 'exit');
      running.kill('SIGKILL');
      await exited;
    },
    async start() {
      if (child) return;
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      );
      const deadline = Date.now() + 10_000;
      for (;;) {
        const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => null });
        probe.on('error', () => undefined);
        try {
          await probe.connect();
          await probe.ping();
          return;
        } catch (error) {
          if (Date.now() > deadline)
            throw new Error(`redis-server on port ${port} did not start: ${error}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        } finally {
          probe.disconnect();
        }
      }
    },
  };
  await server.start();
  return server;
}
