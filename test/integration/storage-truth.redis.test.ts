import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/backup/manifest.ts';
import type { WorkerHandle } from '../../src/jobs/worker.ts';
import { LocalBackupStore } from '../../src/storage/local-backup-store.ts';
import { TestChat } from '../doubles/test-chat.ts';
import { sql } from '../support/databases.ts';
import { storeBackup } from '../support/stored-backups.ts';
import { createWorkerSuite, type WorkerSuite } from '../support/worker-harness.ts';

/**
 * Storage is the truth: what a worker reads from the store (manifests, the names in them) is
 * checked before it is used, and whatever it finds ends the job with the reason, never a crash
 * and never a job left running.
 */
describe('a worker reading what the store holds', () => {
  let suite: WorkerSuite;
  let worker: WorkerHandle;

  beforeAll(async () => {
    suite = await createWorkerSuite(
      'truth',
      () => `defaultProfile: files
storage: { local: { path: ./backups } }
targets:
  files: { kind: directory, path: ./files, environment: staging }
  copy: { kind: directory, path: ./copy, environment: development }
profiles:
  files: { targets: [files] }
`,
    );
    worker = suite.app.startWorker();
  });

  afterAll(async () => {
    await worker?.close(1_000);
    await suite?.dispose();
  });

  const backUp = async () => {
    const { backupId } = await suite.app.services.backupJobs.enqueue({
      profile: 'files',
      note: null,
      requestedBy: 'console:tester',
      replicate: false,
    });
    const outcome = await suite.app.services.backupJobs.follow(backupId, () => {});
    expect(outcome.status).toBe('completed');
    return backupId;
  };
  const backupDir = (id: string) => join(suite.dir, 'backups', id);
  const storedManifest = async (id: string) =>
    JSON.parse(await readFile(join(backupDir(id), 'manifest.json'), 'utf8')) as Manifest;
  const writeManifest = (id: string, manifest: unknown) =>
    writeFile(join(backupDir(id), 'manifest.json'), JSON.stringify(manifest));

  /**
   * Moves the backup's object into a subdirectory and makes both the stored manifest and the
   * catalog's copy name it `nested/…`, as a crafted manifest recorded by an older catalog
   * rebuild would.
   */
  async function nestObject(id: string): Promise<void> {
    const manifest = await storedManifest(id);
    const [component] = manifest.components as [Manifest['components'][number]];
    await mkdir(join(backupDir(id), 'nested'));
    await rename(
      join(backupDir(id), component.object),
      join(backupDir(id), 'nested', component.object),
    );
    const crafted = {
      ...manifest,
      components: [{ ...component, object: `nested/${component.object}` }],
    };
    await writeManifest(id, crafted);
    await sql('UPDATE backups SET manifest = $2::jsonb WHERE id = $1', suite.catalogDatabase, [
      id,
      JSON.stringify(crafted),
    ]);
  }

  describe('a manifest whose object name leaves its place', () => {
    it('fails a restore test naming the object, and the worker goes on', async () => {
      const id = await backUp();
      await nestObject(id);
      const { verificationId } = await suite.app.services.verifications.enqueue({
        backup: id,
        level: 3,
        requestedBy: 'console:tester',
      });
      const record = await suite.app.services.verifications.follow(verificationId, () => {});

      expect(record.status).toBe('failed');
      expect(record.error).toContain('components.0.object');
      expect(record.error).toContain('nested/files.tar.zst');
      expect(await suite.app.catalog.jobs.get(verificationId)).toMatchObject({
        status: 'completed',
      });
      // The catalog's damaged copy does not break listing.
      const listed = await suite.app.services.backups.list({ limit: 10 });
      expect(listed.find((b) => b.id === id)?.manifest).toBeNull();
      // The same worker still serves the queue.
      expect((await backUp()).startsWith('bk_')).toBe(true);
    });

    it('fails a restore before touching the destination, and the worker goes on', async () => {
      const id = await backUp();
      const { plan } = await suite.app.services.restores.plan({
        backup: id,
        into: { files: 'copy' },
        requestedBy: 'console:tester',
      });
      await nestObject(id);
      const { restoreId } = await suite.app.services.restores.enqueue(plan, 'console:tester');
      const outcome = await suite.app.services.restores.follow(restoreId, () => {});

      expect(outcome.status).toBe('failed');
      expect(outcome.restore.status).toBe('failed');
      expect(outcome.restore.error).toContain('nested/files.tar.zst');
      expect(existsSync(join(suite.dir, 'copy'))).toBe(false);
      expect((await backUp()).startsWith('bk_')).toBe(true);
      await rm(join(suite.dir, 'copy'), { recursive: true, force: true });
    });
  });

  describe('a manifest deleted or edited in the store', () => {
    const planToCopy = (id: string) =>
      suite.app.services.restores.plan({
        backup: id,
        into: { files: 'copy' },
        requestedBy: 'console:tester',
      });

    /** Queues the plan made before the store changed, and follows it to its end. */
    const restoreWith = async (plan: Awaited<ReturnType<typeof planToCopy>>['plan']) => {
      const { restoreId } = await suite.app.services.restores.enqueue(plan, 'console:tester');
      return suite.app.services.restores.follow(restoreId, () => {});
    };

    it('refuses the plan, the dry run and the restore of a backup whose manifest is gone, touching nothing', async () => {
      const id = await backUp();
      const { plan } = await planToCopy(id);
      await unlink(join(backupDir(id), 'manifest.json'));

      await expect(planToCopy(id)).rejects.toMatchObject({
        code: 'manifest_not_found',
        message: expect.stringMatching(
          /has no manifest.*`\/backup verify .*lifeboat catalog rebuild/s,
        ),
      });
      const chat = new TestChat(suite.app.dispatcher);
      const dryRun = await chat.say(`/restore ${id} --into files=copy --dry-run`);
      expect(dryRun).toMatchObject({ status: 'failed', code: 'manifest_not_found' });
      expect(chat.lastText()).toContain('lifeboat catalog rebuild');

      const outcome = await restoreWith(plan);
      expect(outcome.status).toBe('failed');
      expect(outcome.restore.error).toMatch(/backup .* has no manifest at .*Nothing was changed/);
      expect(existsSync(join(suite.dir, 'copy'))).toBe(false);
    });

    it('refuses a backup whose stored manifest disagrees with the catalog, naming the difference', async () => {
      const id = await backUp();
      const { plan } = await planToCopy(id);
      const manifest = await storedManifest(id);
      const [component] = manifest.components as [Manifest['components'][number]];
      // The object swapped for other bytes, and the manifest edited to match them.
      const forged = Buffer.from('not the backup');
      await writeFile(join(backupDir(id), component.object), forged);
      const sha256 = (await import('node:crypto'))
        .createHash('sha256')
        .update(forged)
        .digest('hex');
      await writeManifest(id, {
        ...manifest,
        components: [{ ...component, bytes: forged.length, sha256 }],
      });

      await expect(planToCopy(id)).rejects.toMatchObject({
        code: 'manifest_disagrees',
        message: expect.stringContaining(
          `component files: bytes ${forged.length} in the store, ${component.bytes} in the catalog`,
        ),
      });
      const outcome = await restoreWith(plan);
      expect(outcome.status).toBe('failed');
      expect(outcome.restore.error).toContain(
        `component files: sha256 ${sha256} in the store, ${component.sha256} in the catalog`,
      );
      expect(existsSync(join(suite.dir, 'copy'))).toBe(false);

      // A verification at any level reads the same truth and fails the same way.
      const { verificationId } = await suite.app.services.verifications.enqueue({
        backup: id,
        level: 1,
        requestedBy: 'console:tester',
      });
      const record = await suite.app.services.verifications.follow(verificationId, () => {});
      expect(record.status).toBe('failed');
      expect(record.error).toContain('disagrees with the catalog');
    });
  });

  describe('a backup that is not there to verify', () => {
    it('is refused when asked for, naming why, and queues nothing', async () => {
      const id = await backUp();
      await suite.app.catalog.retention.markPruned(id, 'delete: no rule keeps it');
      await expect(
        suite.app.services.verifications.enqueue({
          backup: id,
          level: 1,
          requestedBy: 'console:tester',
        }),
      ).rejects.toMatchObject({
        code: 'backup_pruned',
        message: expect.stringMatching(
          /^backup .* was pruned .* \(delete: no rule keeps it\): its objects are deleted, so there is nothing to verify/,
        ),
      });
      const chat = new TestChat(suite.app.dispatcher);
      const result = await chat.say(`/backup verify ${id}`);
      expect(result).toMatchObject({ status: 'invalid', code: 'backup_pruned' });
    });

    it('is recorded could not verify (error), never passed, when it was pruned after the verification was queued', async () => {
      const id = await backUp();
      await worker.close(1_000);
      let verificationId: string;
      try {
        ({ verificationId } = await suite.app.services.verifications.enqueue({
          backup: id,
          level: 1,
          requestedBy: 'console:tester',
        }));
        // Marked pruned while its objects are still stored, as a prune of another config did.
        await suite.app.catalog.retention.markPruned(id, 'delete: no rule keeps it');
      } finally {
        worker = suite.app.startWorker();
      }
      const record = await suite.app.services.verifications.follow(verificationId, () => {});
      // Nothing was there to check: no verdict (could not verify), and never passed.
      expect(record.status).toBe('error');
      expect(record.error).toMatch(/^could not verify: .*was pruned .*nothing to verify/);
    });
  });

  describe('backups of another config sharing the catalog', () => {
    it('are never `latest`, and are refused by id saying where they live', async () => {
      const ours = await backUp();
      const other = new LocalBackupStore({ root: join(suite.dir, 'other-backups') });
      const theirs = await storeBackup({
        store: other,
        catalog: suite.app.catalog,
        database: suite.catalogDatabase,
        profile: 'files',
        at: new Date(Date.now() + 3_600_000),
      });
      const { plan } = await suite.app.services.restores.plan({
        backup: 'latest',
        into: { files: 'copy' },
        requestedBy: 'console:tester',
      });
      expect(plan.backupId).toBe(ours);
      const { backup } = await suite.app.services.verifications.enqueue({
        backup: 'latest',
        level: 1,
        requestedBy: 'console:tester',
      });
      expect(backup.id).toBe(ours);

      await expect(
        suite.app.services.restores.plan({
          backup: theirs.id,
          into: { files: 'copy' },
          requestedBy: 'console:tester',
        }),
      ).rejects.toMatchObject({
        code: 'backup_elsewhere',
        message: expect.stringContaining(`is recorded in ${other.describe(theirs.id)}`),
      });
    });
  });
});
