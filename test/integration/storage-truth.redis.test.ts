import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/backup/manifest.ts';
import type { WorkerHandle } from '../../src/jobs/worker.ts';
import { sql } from '../support/databases.ts';
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
  });
});
