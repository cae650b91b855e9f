import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Catalog, openCatalog } from '../../src/catalog/open-catalog.ts';
import { newRestoreId, newVerificationId } from '../../src/core/ids.ts';
import { sweepInterruptedWork } from '../../src/jobs/interrupted-work.ts';
import { createJobJournal } from '../../src/jobs/job-journal.ts';
import { silentLogger } from '../../src/logging/logger.ts';
import type { RestorePlan } from '../../src/restore/plan-restore.ts';
import { LocalBackupStore } from '../../src/storage/local-backup-store.ts';
import { databaseUrl, dropDatabase, uniqueName } from '../support/databases.ts';
import { type StoredBackup, storeBackup } from '../support/stored-backups.ts';

/** The sweep of interrupted work, against the catalog: only records no live attempt holds. */
describe('sweeping the work of workers that are gone', () => {
  const database = uniqueName('lb_sweep');
  let catalog: Catalog;
  let dir: string;
  let backup: StoredBackup;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-sweep-'));
    catalog = await openCatalog(databaseUrl(database));
    await catalog.migrate();
    backup = await storeBackup({
      store: new LocalBackupStore({ root: dir }),
      catalog,
      database,
      profile: 'files',
      at: new Date('2026-11-22T02:00:00Z'),
    });
  });

  afterAll(async () => {
    await catalog?.close();
    await dropDatabase(database);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const sweep = () =>
    sweepInterruptedWork({
      restores: catalog.restores,
      verifications: catalog.verifications,
      targetLocks: catalog.targetLocks,
      journal: createJobJournal({
        jobs: catalog.jobs,
        backups: catalog.backups,
        verifications: catalog.verifications,
        restores: catalog.restores,
      }),
      sweepStaging: async () => [],
      audit: catalog.audit,
      logger: silentLogger(),
    });

  const plan = (): RestorePlan => ({
    backupId: backup.id,
    profile: 'files',
    backupFinishedAt: backup.createdAt.toISOString(),
    components: [],
    needsApproval: false,
  });

  it('fails a running restore no attempt holds, and leaves alone one a live attempt holds', async () => {
    const live = newRestoreId();
    const dead = newRestoreId();
    for (const id of [live, dead]) {
      await catalog.restores.create({ id, plan: plan(), requestedBy: 'console:alice' });
      await catalog.restores.claim(id, { attempt: 1 });
    }
    const queued = newRestoreId();
    await catalog.restores.create({ id: queued, plan: plan(), requestedBy: 'console:alice' });
    const attempt = await catalog.targetLocks.acquire([`restore:${live}`], `restore ${live}`);
    try {
      const swept = await sweep();
      expect(swept.restores).toEqual([dead]);
      expect((await catalog.restores.get(dead))?.status).toBe('failed');
      expect((await catalog.restores.get(live))?.status).toBe('running');
      expect((await catalog.restores.get(queued))?.status).toBe('queued');
      expect(await catalog.jobs.get(dead)).toMatchObject({ status: 'failed' });
    } finally {
      await attempt.release();
    }
    expect((await sweep()).restores).toEqual([live]);
  });

  it('ends a running verification no attempt holds as error (not a verdict), never a queued one', async () => {
    const running = newVerificationId();
    const queued = newVerificationId();
    for (const id of [running, queued]) {
      await catalog.verifications.create({
        id,
        backupId: backup.id,
        level: 1,
        requestedBy: 'console:alice',
      });
    }
    await catalog.verifications.markStarted(running);
    expect((await sweep()).verifications).toEqual([running]);
    expect(await catalog.verifications.get(running)).toMatchObject({
      status: 'error',
      error: expect.stringMatching(/^could not verify: /),
    });
    expect((await catalog.verifications.get(queued))?.status).toBe('queued');
    expect((await sweep()).verifications).toEqual([]);
  });
});
