import { type ChildProcess, spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { QUEUE_NAME } from '../../src/jobs/job-payloads.ts';
import { redisOptions } from '../../src/jobs/redis.ts';
import type { WorkerHandle } from '../../src/jobs/worker.ts';
import { TestChat } from '../doubles/test-chat.ts';
import { filesUnder } from '../support/backup-outcomes.ts';
import { sql } from '../support/databases.ts';
import {
  createWorkerSuite,
  filesAndGatedConfig,
  WAIT,
  type WorkerSuite,
} from '../support/worker-harness.ts';

const BIN = fileURLToPath(new URL('../../bin/lifeboat.js', import.meta.url));

/** A `lifeboat worker` process, with what it printed so far for failure messages. */
interface WorkerProcess {
  readonly child: ChildProcess;
  output(): string;
}

describe('a worker killed mid-backup', () => {
  let suite: WorkerSuite;
  let redis: Redis;
  const processes: WorkerProcess[] = [];
  const handles: { close(): Promise<unknown> }[] = [];

  beforeAll(async () => {
    suite = await createWorkerSuite('recovery', (gated) => filesAndGatedConfig(gated, 'zstd'));
    redis = new Redis(suite.env.REDIS_URL ?? '');
  });

  afterEach(async () => {
    for (const { child } of processes.splice(0)) await kill(child);
    for (const handle of handles.splice(0)) await handle.close();
    await suite.gate.open();
  });

  afterAll(async () => {
    redis?.disconnect();
    await suite?.dispose();
  });

  /** Starts `lifeboat worker` in the suite's directory and waits until it serves the queue. */
  async function spawnWorker(): Promise<WorkerProcess> {
    const before = await suite.app.queue.workerCount();
    const child = spawn(process.execPath, [BIN, 'worker'], {
      cwd: suite.dir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        LOG_LEVEL: 'warn',
        ...suite.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk;
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const worker = { child, output: () => output };
    processes.push(worker);
    await vi.waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`lifeboat worker exited:\n${output}`);
      expect(await suite.app.queue.workerCount()).toBe(before + 1);
    }, WAIT);
    return worker;
  }

  async function kill(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /**
   * Fast-forwards what Redis does by itself once a dead worker's keys expire: the job's lock
   * (renewed every 15 s, lasting 30 s) and the marker that keeps other workers from checking
   * for stalled jobs during the dead worker's 30 s stalled-check interval.
   */
  async function expireKeysOfDeadWorker(jobId: string): Promise<void> {
    const { queue } = suite.app.queue;
    await redis.del(queue.toKey(`${jobId}:lock`), queue.toKey('stalled-check'));
  }

  /** A BullMQ worker that never takes a job and looks for stalled ones every 100 ms. */
  async function startStalledJobChecker(): Promise<Worker> {
    const checker = new Worker(QUEUE_NAME, undefined, {
      prefix: suite.env.LIFEBOAT_QUEUE_PREFIX,
      connection: redisOptions(suite.env.REDIS_URL ?? '', 'stalled-job-checker'),
      autorun: false,
      stalledInterval: 100,
    });
    handles.push(checker);
    await checker.startStalledCheckTimer();
    return checker;
  }

  const enqueue = () =>
    suite.app.services.backupJobs.enqueue({
      profile: 'both',
      note: null,
      requestedBy: 'console:tester',
      replicate: false,
    });

  /**
   * What a person or a restore would see of a backup that is not complete: the catalog does
   * not offer it as the profile's latest, `/backup list` shows it as `status`, and it has no
   * manifest in storage.
   */
  async function expectNotRestorable(backupId: string, status: string): Promise<void> {
    expect((await suite.app.catalog.backups.latestCompleted('both'))?.id).not.toBe(backupId);
    const chat = new TestChat(suite.app.dispatcher);
    await chat.say('/backup list --profile both');
    expect(chat.last().text).toContain(`${backupId} (${status})`);
    expect(await suite.objectsOf(backupId)).not.toContain(`${backupId}/manifest.json`);
  }

  /** Every file, temporary ones included, under the backup's directory in the local store. */
  const filesOf = async (backupId: string) =>
    (await filesUnder(join(suite.dir, 'backups'))).filter((file) => file.includes(backupId));

  it('has its backup stalled back onto the queue and completed by another worker, once', async () => {
    await suite.gate.close();
    const { child } = await spawnWorker();
    const { backupId } = await enqueue();
    await suite.gate.waitForWaiting(1);
    await suite.waitForStatus(backupId, 'running');
    await vi.waitFor(async () => {
      expect(await suite.objectsOf(backupId)).toEqual([`${backupId}/files.tar.zst`]);
    }, WAIT);

    await kill(child);
    // The killed attempt's objects are still there, and the backup is not restorable.
    expect(await suite.objectsOf(backupId)).toEqual([`${backupId}/files.tar.zst`]);
    await expectNotRestorable(backupId, 'running');
    await expireKeysOfDeadWorker(backupId);
    await suite.gate.open();
    // The worker that takes over runs a newer config, so its objects have other names than the
    // ones the killed attempt left behind.
    const updated = await suite.openApp(filesAndGatedConfig(suite.gate.url, 'gzip'));
    const next: WorkerHandle = updated.startWorker({ stalledIntervalMs: 100 });
    handles.push({ close: () => next.close(1_000) });
    const outcome = await suite.app.services.backupJobs.follow(backupId, () => {});

    expect(outcome.status).toBe('completed');
    expect(await suite.attempts(backupId)).toBe(2);
    expect(await suite.objectsOf(backupId)).toEqual([
      `${backupId}/files.tar.gz`,
      `${backupId}/gated.dump.gz`,
      `${backupId}/manifest.json`,
    ]);
    const files = await readdir(join(suite.dir, 'backups', backupId));
    expect(files.filter((name) => name.startsWith('manifest'))).toEqual(['manifest.json']);
    expect((await suite.app.catalog.backups.latestCompleted('both'))?.id).toBe(backupId);
    expect(await suite.app.catalog.jobs.get(backupId)).toMatchObject({ status: 'completed' });
  });

  it('fails its backup in the catalog when it is killed mid-backup once more than allowed', async () => {
    await suite.writeConfig(filesAndGatedConfig(suite.gate.url, 'zstd'));
    await suite.gate.close();
    const first = await spawnWorker();
    const { backupId } = await enqueue();
    await suite.gate.waitForWaiting(1);
    await suite.waitForStatus(backupId, 'running');
    await kill(first.child);
    await expireKeysOfDeadWorker(backupId);

    // Put back on the queue by the checker, the job goes to the second worker.
    await startStalledJobChecker();
    const second = await spawnWorker();
    await vi.waitFor(async () => {
      expect(await suite.attempts(backupId)).toBe(2);
      expect((await suite.backup(backupId)).status).toBe('running');
    }, WAIT);
    await kill(second.child);
    await expireKeysOfDeadWorker(backupId);
    await vi.waitFor(async () => {
      expect(await suite.app.queue.queue.getJobState(backupId)).toBe('waiting');
    }, WAIT);

    // A job stalled more often than allowed fails when a worker takes it, without running.
    const last = suite.app.startWorker();
    handles.push({ close: () => last.close(1_000) });
    const failed = await suite.waitForStatus(backupId, 'failed');
    const outcome = await suite.app.services.backupJobs.follow(backupId, () => {});

    expect(failed.error).toMatch(/stopped mid-job too many times/);
    expect(outcome).toEqual({ status: 'failed', backup: failed, error: failed.error });
    expect(await suite.app.queue.queue.getJobState(backupId)).toBe('failed');
    expect(await suite.app.catalog.jobs.get(backupId)).toMatchObject({ status: 'failed' });
    await expectNotRestorable(backupId, 'failed');

    // The next backup of the same profile runs as if nothing had happened.
    await suite.gate.open();
    const next = await enqueue();
    const completed = await suite.app.services.backupJobs.follow(next.backupId, () => {});
    expect(completed.status).toBe('completed');
    expect(await suite.objectsOf(next.backupId)).toEqual([
      `${next.backupId}/files.tar.zst`,
      `${next.backupId}/gated.dump.zst`,
      `${next.backupId}/manifest.json`,
    ]);
    expect((await suite.app.catalog.backups.latestCompleted('both'))?.id).toBe(next.backupId);
  });

  it('fails its backup in the catalog and leaves nothing when its pg_dump dies mid-backup', async () => {
    await suite.writeConfig(filesAndGatedConfig(suite.gate.url, 'zstd'));
    await suite.gate.close();
    const worker = suite.app.startWorker();
    handles.push({ close: () => worker.close(1_000) });
    const { backupId } = await enqueue();
    // The directory is stored; pg_dump waits at the gate, its connection open.
    await suite.gate.waitForWaiting(1);
    await vi.waitFor(async () => {
      expect(await suite.objectsOf(backupId)).toEqual([`${backupId}/files.tar.zst`]);
    }, WAIT);

    const gated = new URL(suite.gate.url).pathname.slice(1);
    const killed = await sql(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = $1 AND application_name = 'pg_dump'`,
      'postgres',
      [gated],
    );
    expect(killed).toHaveLength(1);
    const failed = await suite.waitForStatus(backupId, 'failed');

    expect(failed.error).toMatch(/^backup of gated failed: pg_dump exited with code 1: /);
    expect(await suite.objectsOf(backupId)).toEqual([]);
    expect(await filesOf(backupId)).toEqual([]);
    await vi.waitFor(async () => {
      expect(await suite.app.catalog.jobs.get(backupId)).toMatchObject({ status: 'failed' });
    }, WAIT);
    await expectNotRestorable(backupId, 'failed');

    await suite.gate.open();
    const next = await enqueue();
    expect((await suite.app.services.backupJobs.follow(next.backupId, () => {})).status).toBe(
      'completed',
    );
    expect((await suite.app.catalog.backups.latestCompleted('both'))?.id).toBe(next.backupId);
  });
});
