import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { freePort } from '../src/core/free-port.ts';
import { QUEUE_NAME } from '../src/jobs/job-payloads.ts';
import { urlForDatabase } from '../src/postgres/connection-url.ts';
import { FakeSlack, formBody, postSigned } from '../test/support/fake-slack.ts';
import { dropDatabase, ensurePgbenchDatabase } from './pgbench-database.ts';

/** The goal for Slack: every command acknowledged well inside Slack's 3 s. */
export const ACK_GOAL_P99_MS = 300;

export interface AckOptions {
  readonly serverUrl: string;
  readonly namespace: string;
  readonly keep: boolean;
  readonly fresh: boolean;
  readonly log: (line: string) => void;
  /** @defaultValue 200 */
  readonly commands?: number;
  /** @defaultValue 50 */
  readonly concurrency?: number;
}

export interface AckResult {
  readonly command: string;
  readonly commands: number;
  readonly concurrency: number;
  /** Backups the worker was given while the commands were sent. */
  readonly backups: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Answers other than 200 (none expected). */
  readonly failures: number;
  readonly goalP99Ms: number;
  readonly met: boolean;
}

const SECRET = 'bench-ack-signing-secret';
const MEASURED = '/backup list --limit 5';
const BIN = new URL('../bin/lifeboat.js', import.meta.url).pathname;

/** The `q` quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

/**
 * `npm run bench -- --ack`: the real bot (`lifeboat start`: bot, worker and HTTP server in one
 * process, real Postgres and Redis) in Slack HTTP mode against a fake Slack. Signed slash
 * commands are sent in batches while the worker backs up a pgbench database; each one's time
 * from sending to Slack's HTTP answer (the acknowledgement) is taken.
 */
export async function measureSlackAck(options: AckOptions): Promise<AckResult> {
  const total = options.commands ?? 200;
  const concurrency = options.concurrency ?? 50;
  const { log } = options;
  const source = await ensurePgbenchDatabase(
    options.serverUrl,
    `${options.namespace}_ack`,
    5,
    options.fresh,
  );
  const catalog = `${options.namespace}_ack_catalog_${process.pid}`;
  const prefix = `lbbenchack${process.pid}`;
  const dir = await mkdtemp(join(tmpdir(), 'lifeboat-bench-ack-'));
  const fake = await new FakeSlack().start();
  const port = await freePort();
  await writeFile(
    join(dir, 'lifeboat.yaml'),
    `defaultProfile: db
storage: { local: { path: ./backups } }
targets:
  bench-db: { kind: postgres, url: "${source.url}", environment: staging }
profiles:
  db: { targets: [bench-db] }
`,
  );
  const child = spawn(process.execPath, [BIN, 'start'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      DATABASE_URL: urlForDatabase(options.serverUrl, catalog),
      LIFEBOAT_QUEUE_PREFIX: prefix,
      LIFEBOAT_HTTP_PORT: String(port),
      LOG_LEVEL: 'warn',
      SLACK_BOT_TOKEN: 'xoxb-bench-token',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: fake.apiUrl,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const eventsUrl = `http://127.0.0.1:${port}/slack/events`;
  const send = (text: string) =>
    postSigned(eventsUrl, formBody(fake.slashCommand(FakeSlack.userId('bench'), text)), {
      signingSecret: SECRET,
    });
  try {
    log(`starting the bot on port ${port} (catalog ${catalog})`);
    await untilHealthy(port, () => stderr);
    await send('/help'); // the first request pays for Bolt's auth.test
    const latencies: number[] = [];
    let failures = 0;
    let backups = 0;
    for (let sent = 0; sent < total; sent += concurrency) {
      const posted = fake.callsOf('chat.postMessage').length;
      await send('/backup create');
      backups++;
      // The backup is under way once the bot posted its message.
      await until(() => fake.callsOf('chat.postMessage').length > posted, 30_000);
      const batch = Math.min(concurrency, total - sent);
      log(`sending ${batch} signed ${MEASURED} while backup ${backups} runs`);
      const timings = await Promise.all(
        Array.from({ length: batch }, async () => {
          const started = performance.now();
          const answer = await send(MEASURED);
          const ms = performance.now() - started;
          if (answer.status !== 200) failures++;
          return ms;
        }),
      );
      latencies.push(...timings);
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const p99Ms = quantile(sorted, 0.99);
    return {
      command: MEASURED,
      commands: latencies.length,
      concurrency,
      backups,
      p50Ms: quantile(sorted, 0.5),
      p99Ms,
      maxMs: sorted.at(-1) ?? 0,
      failures,
      goalP99Ms: ACK_GOAL_P99_MS,
      met: failures === 0 && p99Ms <= ACK_GOAL_P99_MS,
    };
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
    await fake.stop();
    await dropDatabase(options.serverUrl, catalog).catch(() => undefined);
    if (!options.keep) await dropDatabase(options.serverUrl, source.name).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    await forgetQueue(prefix);
  }
}

/** The bench's result as text. */
export function renderAck(result: AckResult, machine: string): string {
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  return `Slack acknowledgement latency — ${machine}
${result.commands} signed slash commands (${result.command}), ${result.concurrency} at a time, while the worker ran ${result.backups} backup(s)
  p50   ${ms(result.p50Ms)}
  p99   ${ms(result.p99Ms)}   goal ≤ ${result.goalP99Ms} ms: ${result.met ? 'met' : 'NOT met'}
  max   ${ms(result.maxMs)}
  answers other than 200: ${result.failures}
`;
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`still waiting after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function untilHealthy(port: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the bot did not start:\n${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Removes the queue's keys and the Slack delivery ledger's. */
async function forgetQueue(prefix: string): Promise<void> {
  const connection = { host: '127.0.0.1', port: 6379 };
  const queue = new Queue(QUEUE_NAME, { prefix, connection });
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
  const redis = new Redis({ ...connection, lazyConnect: true });
  try {
    const keys = await redis.keys(`${prefix}:delivery:*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}
