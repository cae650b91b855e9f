import { Queue } from 'bullmq';
import { QUEUE_NAME } from '../../src/jobs/job-payloads.ts';
import { uniqueName } from './databases.ts';

/** The test Redis, which the `lifeboat` processes a suite runs reach through the default `REDIS_URL`. */
const REDIS = { host: '127.0.0.1', port: 6379 };

/** A queue prefix for one suite (`LIFEBOAT_QUEUE_PREFIX`), so suites never share jobs. */
export function uniqueQueuePrefix(): string {
  return uniqueName('lbq');
}

/** Removes every Redis key of the Lifeboat queue under `prefix`, through BullMQ's own API. */
export async function obliterateQueue(prefix: string): Promise<void> {
  const queue = new Queue(QUEUE_NAME, { prefix, connection: REDIS });
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
}

/** Resolves once a worker serves the queue under `prefix` (a `lifeboat worker` started). */
export async function waitForWorker(prefix: string, timeoutMs = 30_000): Promise<void> {
  const queue = new Queue(QUEUE_NAME, { prefix, connection: REDIS });
  try {
    const deadline = Date.now() + timeoutMs;
    while ((await queue.getWorkers()).length === 0) {
      if (Date.now() > deadline) throw new Error(`no worker served ${prefix} in ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await queue.close();
  }
}
