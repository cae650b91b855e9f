import { Queue, QueueEvents } from 'bullmq';
import { type JobPayload, QUEUE_NAME } from './job-payloads.ts';
import { redisOptions } from './redis.ts';

/**
 * How long ended jobs keep their BullMQ records (completed: a day, failed: a week), for every
 * job however it is added; the catalog keeps the history for good.
 */
export const JOB_RETENTION = {
  removeOnComplete: { age: 24 * 3600 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;

export interface JobQueue {
  readonly queue: Queue;
  readonly events: QueueEvents;
  /** Queues a job under a caller-chosen id (re-adding an existing id is a no-op). */
  add(payload: JobPayload, jobId: string): Promise<void>;
  /** Resolves when Redis answers a PING. */
  ping(): Promise<void>;
  /** Workers currently connected to the queue, on any machine. */
  workerCount(): Promise<number>;
  close(): Promise<void>;
}

export async function openJobQueue(options: {
  redisUrl: string;
  prefix: string;
}): Promise<JobQueue> {
  const queue = new Queue(QUEUE_NAME, {
    prefix: options.prefix,
    connection: redisOptions(options.redisUrl, `${QUEUE_NAME}-queue`),
  });
  const events = new QueueEvents(QUEUE_NAME, {
    prefix: options.prefix,
    connection: redisOptions(options.redisUrl, `${QUEUE_NAME}-events`),
  });
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  return {
    queue,
    events,
    async add(payload, jobId) {
      await queue.add(payload.kind, payload, {
        jobId,
        attempts: 1,
        ...JOB_RETENTION,
      });
    },
    async ping() {
      await (await queue.backend.client).runCommand('ping', []);
    },
    async workerCount() {
      return (await queue.getWorkers()).length;
    },
    async close() {
      await Promise.all([events.close(), queue.close()]);
    },
  };
}
