import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ComponentProgress } from '../../src/backup/progress.ts';
import type { WorkerHandle } from '../../src/jobs/worker.ts';
import { createWorkerSuite, WAIT, type WorkerSuite } from '../support/worker-harness.ts';

describe('restore jobs on a worker', () => {
  let suite: WorkerSuite;
  let worker: WorkerHandle;
  let backupId: string;

  beforeAll(async () => {
    suite = await createWorkerSuite(
      'rsjobs',
      (gated) => `defaultProfile: files
storage: { local: { path: ./backups } }
targets:
  files: { kind: directory, path: ./files, environment: production }
  copy: { kind: directory, path: ./copy, environment: development }
  gated: { kind: postgres, url: "${gated}", environment: staging }
profiles:
  files: { targets: [files] }
`,
    );
    worker = suite.app.startWorker();
    const { backupId: id } = await suite.app.services.backupJobs.enqueue({
      profile: 'files',
      note: null,
      requestedBy: 'console:tester',
      replicate: false,
    });
    const outcome = await suite.app.services.backupJobs.follow(id, () => {});
    expect(outcome.status).toBe('completed');
    backupId = id;
  });

  afterAll(async () => {
    await worker?.close(1_000);
    await suite?.dispose();
  });

  it('waits for the job holding its destination, then restores and records the checks', async () => {
    const { restores, backups } = suite.app.services;
    const holder = await suite.app.catalog.targetLocks.acquire(['copy'], 'backup bk_test_holder');
    let released = false;
    try {
      const { plan, refusal } = await restores.plan({
        backup: 'latest',
        into: { files: 'copy' },
        requestedBy: 'console:tester',
      });
      expect(refusal).toBeNull();
      expect(plan.backupId).toBe(backupId);
      const { restoreId } = await restores.enqueue(plan, 'console:tester');
      const seen: ComponentProgress[] = [];
      const following = restores.follow(restoreId, (progress) => seen.push(...progress));

      await vi.waitFor(() => {
        expect(seen.map((p) => p.message)).toContain(
          'waiting for backup bk_test_holder to finish with copy',
        );
      }, WAIT);
      // Staged and checked already, but nothing written while another job holds the target.
      expect(existsSync(join(suite.dir, 'copy'))).toBe(false);
      await holder.release();
      released = true;

      const outcome = await following;
      expect(outcome.status).toBe('completed');
      expect(outcome.restore.results?.components[0]).toMatchObject({
        component: 'files',
        destination: 'copy',
        status: 'restored',
        ok: true,
      });
      expect(await readFile(join(suite.dir, 'copy/a.txt'), 'utf8')).toBe('alpha\n');
      const stored = await suite.app.catalog.restores.get(restoreId);
      expect(stored?.status).toBe('completed');
      expect(stored?.results?.components[0]?.checks.map((c) => c.name)).toEqual([
        'files',
        'directories',
        'bytes',
      ]);
      expect((await backups.get(backupId))?.status).toBe('completed');
    } finally {
      if (!released) await holder.release();
    }
  });

  it('refuses to queue a plan whose destination is production', async () => {
    const { plan, refusal } = await suite.app.services.restores.plan({
      backup: backupId,
      requestedBy: 'console:tester',
    });
    expect(refusal).toContain('files (production)');
    await expect(suite.app.services.restores.enqueue(plan, 'console:tester')).rejects.toMatchObject(
      { code: 'restore_needs_approval' },
    );
  });
});
