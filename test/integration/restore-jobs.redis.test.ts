import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ComponentProgress } from '../../src/backup/progress.ts';
import type { WorkerHandle } from '../../src/jobs/worker.ts';
import type { RestoreAuthorization } from '../../src/restore/restore-record.ts';
import { sql } from '../support/databases.ts';
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
roles:
  dba: ["console:alice"]
breakGlass: { role: dba }
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
      const { plan } = await restores.plan({
        backup: 'latest',
        into: { files: 'copy' },
        requestedBy: 'console:tester',
      });
      expect(plan.needsApproval).toBe(false);
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
    const { plan } = await suite.app.services.restores.plan({
      backup: backupId,
      requestedBy: 'console:tester',
    });
    expect(plan.components.find((c) => c.destination === 'files')).toMatchObject({
      environment: 'production',
      needsApproval: true,
    });
    await expect(suite.app.services.restores.enqueue(plan, 'console:tester')).rejects.toMatchObject(
      { code: 'restore_needs_approval' },
    );
  });

  it('runs an authorised production restore once, after a safety backup of the destination as it was', async () => {
    const { restores, backups } = suite.app.services;
    const { plan } = await restores.plan({ backup: backupId, requestedBy: 'console:alice' });
    // Break glass as the command does it: the review first, its execution id the restore's.
    const review = await suite.app.services.approvals.breakGlass({
      action: 'restore',
      command: '/restore latest --break-glass "orders table dropped"',
      payload: { type: 'restore', plan },
      environments: ['production'],
      requestedBy: 'console:alice',
      from: { platform: 'console', channel: { channel: 'ops' } },
      reason: 'orders table dropped',
    });
    const authorization: RestoreAuthorization = {
      kind: 'break-glass',
      request: review.id,
      by: 'console:alice',
      reason: 'orders table dropped',
    };
    // Production as it is now: a.txt changed and one file more than the backup holds.
    await writeFile(join(suite.dir, 'files/a.txt'), 'changed in production\n');
    await writeFile(join(suite.dir, 'files/extra.txt'), 'only in production\n');
    const id = review.executionId as string;

    const first = await restores.enqueue(plan, 'console:alice', { id, authorization });
    const again = await restores.enqueue(plan, 'console:alice', { id, authorization });
    expect(first.restoreId).toBe(id);
    expect(again.restoreId).toBe(id);
    const outcome = await restores.follow(id, () => {});

    expect(outcome.status).toBe('completed');
    expect(await readFile(join(suite.dir, 'files/a.txt'), 'utf8')).toBe('alpha\n');
    const record = await suite.app.catalog.restores.get(id);
    expect(record).toMatchObject({ status: 'completed', authorization, attempts: 1 });
    const safetyId = record?.safetyBackupId as string;
    expect(safetyId).toMatch(/_safety_/);
    const safety = await backups.get(safetyId);
    expect(safety).toMatchObject({ status: 'completed', profile: 'safety' });
    const saved = safety?.manifest?.components[0]?.source;
    const original = (await backups.get(backupId))?.manifest?.components[0]?.source;
    expect(saved?.kind === 'directory' && original?.kind === 'directory').toBe(true);
    if (saved?.kind === 'directory' && original?.kind === 'directory') {
      expect(saved.files).toBe(original.files + 1);
    }
    const [counts] = await sql<{ restores: number; jobs: number }>(
      `SELECT (SELECT count(*)::int FROM restores WHERE id = $1) AS restores,
              (SELECT count(*)::int FROM jobs WHERE id = $1) AS jobs`,
      suite.catalogDatabase,
      [id],
    );
    expect(counts).toEqual({ restores: 1, jobs: 1 });
    const safetyBackups = await backups.list({ profile: 'safety', limit: 100 });
    expect(safetyBackups.filter((b) => b.note === `safety backup before ${id}`)).toHaveLength(1);
    expect((await suite.app.queue.queue.getJob(id))?.returnvalue).toMatchObject({
      restoreId: id,
      status: 'completed',
    });
  });
});
