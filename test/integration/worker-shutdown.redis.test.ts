import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startWorker } from '../../src/jobs/worker.ts';
import { silentLogger } from '../../src/logging/logger.ts';
import {
  createWorkerSuite,
  filesAndGatedConfig,
  WAIT,
  type WorkerSuite,
} from '../support/worker-harness.ts';

describe('a worker shutting down', () => {
  let suite: WorkerSuite;

  beforeAll(async () => {
    suite = await createWorkerSuite('shutdown', (gated) => filesAndGatedConfig(gated));
  });

  afterAll(async () => {
    await suite?.dispose();
  });

  it('hands a backup still running at the deadline back to the queue, where another worker completes it', async () => {
    const { app } = suite;
    await suite.gate.close();
    const first = app.startWorker();
    const { backupId } = await app.services.backupJobs.enqueue({
      profile: 'both',
      note: null,
      requestedBy: 'console:tester',
      replicate: false,
    });
    // `files` is stored; `gated` is dumping, held at the gate.
    await suite.gate.waitForWaiting(1);
    await vi.waitFor(async () => {
      expect(await suite.objectsOf(backupId)).toEqual([`${backupId}/files.tar.zst`]);
    }, WAIT);

    const closing = performance.now();
    await first.close(200);
    const closeMs = performance.now() - closing;

    expect(closeMs).toBeLessThan(5_000);
    const handedBack = await suite.backup(backupId);
    expect(handedBack).toMatchObject({ status: 'queued', manifest: null, startedAt: null });
    expect(await suite.objectsOf(backupId)).toEqual([]);
    expect(await app.queue.queue.getJobState(backupId)).toBe('delayed');

    await suite.gate.open();
    const second = app.startWorker();
    try {
      const outcome = await app.services.backupJobs.follow(backupId, () => {});
      expect(outcome.status).toBe('completed');
      expect(await suite.attempts(backupId)).toBe(2);
      expect(await suite.objectsOf(backupId)).toEqual([
        `${backupId}/files.tar.zst`,
        `${backupId}/gated.dump.zst`,
        `${backupId}/manifest.json`,
      ]);
    } finally {
      await second.close(1_000);
    }
  });

  it('closes an idle worker at once, leaving nothing that keeps the process alive', async () => {
    const script = join(suite.dir, 'idle-worker.mjs');
    const source = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
    await writeFile(
      script,
      `import { openJobQueue } from ${source('../../src/jobs/queue.ts')};
import { startWorker } from ${source('../../src/jobs/worker.ts')};
import { silentLogger } from ${source('../../src/logging/logger.ts')};
const [redisUrl, prefix] = process.argv.slice(2);
const queue = openJobQueue({ redisUrl, prefix, logger: silentLogger() });
const idle = async () => undefined;
const worker = startWorker({
  redisUrl, prefix, logger: silentLogger(),
  processors: { backup: idle, 'scheduled-backup': idle },
});
while ((await queue.workerCount()) === 0) await new Promise((r) => setTimeout(r, 20));
await queue.close();
const started = performance.now();
await worker.close();
process.stdout.write(JSON.stringify({ closeMs: performance.now() - started }));
`,
    );
    const child = spawn(
      process.execPath,
      [script, suite.env.REDIS_URL ?? '', suite.env.LIFEBOAT_QUEUE_PREFIX ?? ''],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    // The script never exits on purpose: it ends only when nothing is left to wait for.
    const exited = await new Promise<number | null | 'still running'>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('still running');
      }, 15_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });

    expect({ exited, stderr }).toEqual({ exited: 0, stderr: '' });
    expect(JSON.parse(stdout).closeMs).toBeLessThan(1_000);
  });

  it('stops waiting for a job that ignores the abort and hands it back after the grace period', async () => {
    const { env, app } = suite;
    const started = Promise.withResolvers<void>();
    const stuck = startWorker({
      redisUrl: env.REDIS_URL ?? '',
      prefix: env.LIFEBOAT_QUEUE_PREFIX ?? '',
      logger: silentLogger(),
      handBackGraceMs: 100,
      processors: {
        backup: () => {
          started.resolve();
          return new Promise(() => {});
        },
        'scheduled-backup': async () => undefined,
        'audit-checkpoint': async () => undefined,
        prune: async () => undefined,
        verify: async () => undefined,
        restore: async () => undefined,
        'restore-check': async () => undefined,
      },
    });
    const jobId = 'bk_20260101T000000Z_stuck_0001';
    await app.queue.add(
      {
        kind: 'backup',
        backupId: jobId,
        profile: 'both',
        note: null,
        requestedBy: 'console:tester',
        replicate: false,
      },
      jobId,
    );
    await started.promise;

    const closing = performance.now();
    await stuck.close(100);

    expect(performance.now() - closing).toBeLessThan(5_000);
    expect(await app.queue.queue.getJobState(jobId)).toBe('delayed');
    await app.queue.queue.remove(jobId);
  }, 20_000);
});
