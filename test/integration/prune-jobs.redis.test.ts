import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { WorkerHandle } from '../../src/jobs/worker.ts';
import { TestChat } from '../doubles/test-chat.ts';
import { sql } from '../support/databases.ts';
import { keysOf, type StoredBackup, storeBackup } from '../support/stored-backups.ts';
import { createWorkerSuite, WAIT, type WorkerSuite } from '../support/worker-harness.ts';

interface ProfileResult {
  profile: string;
  deleted: { id: string; reasons: string[] }[];
  kept: { id: string; reasons: string[] }[];
}

describe('prune jobs on a worker', () => {
  let suite: WorkerSuite;
  let worker: WorkerHandle;
  let chat: TestChat;
  const old: StoredBackup[] = [];

  beforeAll(async () => {
    suite = await createWorkerSuite(
      'prune',
      () => `defaultProfile: nightly
storage: { local: { path: ./backups } }
targets:
  files: { kind: directory, path: ./files, environment: staging }
profiles:
  nightly: { targets: [files], retention: { keepLast: 2 } }
  adhoc: { targets: [files] }
`,
    );
    worker = suite.app.startWorker();
    chat = new TestChat(suite.app.dispatcher);
    for (const day of ['01', '02', '03']) {
      old.push(
        await storeBackup({
          store: suite.app.store,
          catalog: suite.app.catalog,
          database: suite.catalogDatabase,
          profile: 'nightly',
          at: new Date(`2026-11-${day}T02:00:00Z`),
        }),
      );
    }
  });

  afterAll(async () => {
    await worker?.close(1_000);
    await suite?.dispose();
  });

  const nth = (i: number) => () => old[i] as StoredBackup;
  const [nov1, nov2, nov3] = [nth(0), nth(1), nth(2)];

  it('plans a dry run from the catalog without a job, deleting nothing', async () => {
    const result = await chat.say('/backup prune --dry-run');
    expect(result.status).toBe('ok');
    const nightly = (result.profiles as ProfileResult[]).find((p) => p.profile === 'nightly');
    expect(nightly?.deleted).toEqual([{ id: nov1().id, reasons: ['delete: no rule keeps it'] }]);
    expect(await keysOf(suite.app.store, nov1().id)).toHaveLength(2);
    expect((await suite.backup(nov1().id)).status).toBe('completed');
    expect(chat.lastText()).toContain('adhoc: no retention policy');
  });

  it('prunes through a job recorded in the catalog, as the person who asked', async () => {
    const result = await chat.say('/backup prune --profile nightly');
    expect(result.status).toBe('ok');
    const [nightly] = result.profiles as ProfileResult[];
    expect(nightly?.deleted.map((d) => d.id)).toEqual([nov1().id]);
    expect(await keysOf(suite.app.store, nov1().id)).toEqual([]);
    expect((await suite.backup(nov1().id)).status).toBe('pruned');
    expect(chat.lastText()).toContain('Deleted 1 backup');

    const [row] = await sql<{ id: string; status: string; requested_by: string }>(
      "SELECT id, status, requested_by FROM jobs WHERE kind = 'prune'",
      suite.catalogDatabase,
    );
    expect(row).toMatchObject({ status: 'completed', requested_by: 'console:alice' });
    expect((await suite.app.catalog.jobs.get(row?.id ?? ''))?.result).toMatchObject({
      dryRun: false,
    });
  });

  it('prunes the profile after a scheduled backup of it completes', async () => {
    const { backupId } = await suite.app.services.backupJobs.enqueue({
      profile: 'nightly',
      note: 'scheduled',
      requestedBy: 'scheduler:cron',
      replicate: true,
    });
    await suite.waitForStatus(backupId, 'completed');
    const pruneJob = await vi.waitFor(async () => {
      const job = await suite.app.catalog.jobs.get(`pr_after_${backupId}`);
      if (job?.status !== 'completed') throw new Error(`prune job is ${job?.status}`);
      return job;
    }, WAIT);
    expect(pruneJob.requestedBy).toBe('scheduler:cron');
    // keepLast 2: the new backup and Nov 3 stay; Nov 2 goes.
    expect((await suite.backup(nov2().id)).status).toBe('pruned');
    expect((await suite.backup(nov3().id)).status).toBe('completed');
    expect(await keysOf(suite.app.store, nov2().id)).toEqual([]);
    expect((await suite.backup(nov2().id)).prunedReason).toBe(
      'delete: no rule keeps it (pruned by scheduler:cron)',
    );
  });

  it('does not prune after a backup someone asked for by hand', async () => {
    const { backupId, jobId } = await suite.app.services.backupJobs.enqueue({
      profile: 'nightly',
      note: null,
      requestedBy: 'console:alice',
      replicate: true,
    });
    await vi.waitFor(async () => {
      const job = await suite.app.catalog.jobs.get(jobId);
      if (job?.status !== 'completed') throw new Error(`backup job is ${job?.status}`);
    }, WAIT);
    expect(await suite.app.catalog.jobs.get(`pr_after_${backupId}`)).toBeUndefined();
    expect((await suite.backup(nov3().id)).status).toBe('completed');
  });
});
