import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { QUEUE_NAME } from '../../src/jobs/job-payloads.ts';
import { databaseUrl, dropDatabase, sql, uniqueName } from '../support/databases.ts';
import {
  exitWithin,
  type RunningLifeboat,
  runLifeboat,
  startLifeboat,
} from '../support/lifeboat-process.ts';
import { obliterateQueue, waitForWorker } from '../support/queues.ts';
import { createGate, type Gate } from '../support/worker-harness.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';
/** Bounds for what should happen within seconds, generous for a slow, shared machine. */
const BOUNDED = { timeout: 60_000, interval: 200 } as const;

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '{}');
}

/**
 * The console and the CLI run an in-process worker only when no worker serves the queue. When
 * the worker that served it at their start goes away (a real `lifeboat worker` process, killed),
 * they notice and run the jobs they queued themselves, instead of leaving them queued for good.
 */
describe('a worker elsewhere that goes away', () => {
  let dir: string;
  let gate: Gate;
  const gatedDb = uniqueName('lb_watch_src');
  const catalogDb = uniqueName('lb_watch_cat');
  const prefix = uniqueName('lbq_watch');
  const env = { DATABASE_URL: databaseUrl(catalogDb), LIFEBOAT_QUEUE_PREFIX: prefix };
  const running: RunningLifeboat[] = [];
  let queue: Queue;
  let redis: Redis;

  const start = (args: string[]) => {
    const process = startLifeboat(args, { cwd: dir, env });
    running.push(process);
    return process;
  };
  const workers = async () => (await queue.getWorkers()).length;

  beforeAll(async () => {
    gate = await createGate(gatedDb);
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-watch-'));
    await mkdir(join(dir, 'files'));
    await writeFile(join(dir, 'files/a.txt'), 'alpha\n');
    await writeFile(
      join(dir, 'lifeboat.yaml'),
      `storage: { local: { path: ./backups } }
targets:
  files: { kind: directory, path: ./files, environment: production }
  gated: { kind: postgres, url: "${gate.url}", environment: staging }
profiles:
  files: { targets: [files] }
  gated: { targets: [gated] }
`,
    );
    queue = new Queue(QUEUE_NAME, { prefix, connection: { host: '127.0.0.1', port: 6379 } });
    redis = new Redis(REDIS_URL);
  }, 60_000);

  afterEach(async () => {
    for (const each of running.splice(0)) await each.kill('SIGKILL');
    await gate.open();
  });

  afterAll(async () => {
    redis?.disconnect();
    await queue?.close();
    await obliterateQueue(prefix);
    await gate?.open();
    await dropDatabase(gatedDb);
    await dropDatabase(catalogDb);
    await rm(dir, { recursive: true, force: true });
  });

  it('runs an approved restore in the approving console once the worker it relied on was killed', async () => {
    const worker = start(['worker']);
    await waitForWorker(prefix);
    const backup = await runLifeboat(['backup', 'create', 'files', '--json'], { cwd: dir, env });
    expect(backup.code).toBe(0);
    await writeFile(join(dir, 'files/a.txt'), 'changed after the backup\n');
    const asked = await runLifeboat(['restore', 'latest', '--profile', 'files', '--json'], {
      cwd: dir,
      env,
    });
    expect(asked.code).toBe(3);
    const request = String(lastJson(asked.stdout).request);

    // bob's console starts while the worker serves the queue: it runs none of its own.
    const bob = start(['console', '--as', 'bob']);
    await vi.waitFor(() => expect(bob.stdout()).toContain('console chat'), BOUNDED);
    expect(await workers()).toBe(1);

    await worker.kill('SIGKILL');
    await vi.waitFor(async () => expect(await workers()).toBe(0), BOUNDED);
    bob.type(`/approve ${request}`);

    await vi.waitFor(() => expect(bob.stdout()).toMatch(/Restore of bk_\S+: completed/), BOUNDED);
    expect(await readFile(join(dir, 'files/a.txt'), 'utf8')).toBe('alpha\n');
    const [row] = await sql<{ status: string }>(
      'select status from approval_requests where id = $1',
      catalogDb,
      [request],
    );
    expect(row?.status).toBe('executed');
    bob.endInput();
    expect(await exitWithin(bob, BOUNDED.timeout)).toBe(0);
  }, 180_000);

  it('lets a CLI backup whose worker was killed mid-job finish in the CLI’s own worker', async () => {
    await gate.close();
    const worker = start(['worker']);
    await waitForWorker(prefix);
    const cli = start(['backup', 'create', 'gated', '--json']);
    cli.endInput();
    // The worker process took the job: pg_dump waits at the gate.
    await gate.waitForWaiting(1);
    expect(await workers()).toBe(1);
    const [job] = await queue.getActive();
    expect(job?.id).toBeDefined();

    await worker.kill('SIGKILL');
    await gate.open();
    // Fast-forward what Redis does by itself 30 s later: the dead worker's lock expires.
    await redis.del(queue.toKey(`${job?.id}:lock`), queue.toKey('stalled-check'));

    expect(await exitWithin(cli, 120_000)).toBe(0);
    expect(lastJson(cli.stdout())).toMatchObject({ status: 'completed', id: job?.id });
  }, 180_000);
});
