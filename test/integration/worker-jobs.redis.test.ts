import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ComponentProgress } from '../../src/backup/progress.ts';
import type { WorkerHandle } from '../../src/jobs/worker.ts';
import { createWorkerSuite, WAIT, type WorkerSuite } from '../support/worker-harness.ts';

type Snapshot = readonly ComponentProgress[];

/** `component: phase` of every component of a progress report. */
function phases(snapshot: Snapshot | undefined): Record<string, string> {
  return Object.fromEntries((snapshot ?? []).map((c) => [c.component, c.phase]));
}

describe('backup jobs on a worker', () => {
  let suite: WorkerSuite;
  let worker: WorkerHandle;

  beforeAll(async () => {
    suite = await createWorkerSuite(
      'jobs',
      (gated) => `defaultProfile: both
storage: { local: { path: ./backups } }
targets:
  files: { kind: directory, path: ./files, environment: staging }
  gated: { kind: postgres, url: "${gated}", environment: staging }
  missing: { kind: postgres, url: "${gated}_does_not_exist", environment: staging }
profiles:
  files: { targets: [files] }
  both: { targets: [files, gated] }
  broken: { targets: [files, missing] }
`,
    );
    worker = suite.app.startWorker();
  });

  afterAll(async () => {
    await worker?.close(1_000);
    await suite?.dispose();
  });

  const enqueue = (profile: string) =>
    suite.app.services.backupJobs.enqueue({
      profile,
      note: null,
      requestedBy: 'console:tester',
      replicate: false,
    });

  describe('with an invalid payload', () => {
    const addRaw = async (jobId: string, data: object) => {
      const { queue } = suite.app.queue;
      // Straight onto the queue, as an older or foreign producer might, with retries allowed.
      await queue.add('backup', data, { jobId, attempts: 3 });
      await vi.waitFor(async () => {
        expect(await queue.getJobState(jobId)).toBe('failed');
      }, WAIT);
      const job = await queue.getJob(jobId);
      if (!job) throw new Error(`job ${jobId} is gone`);
      return job;
    };

    it('fails the job at once, without retries, naming the bad field', async () => {
      const job = await addRaw('bad-backup-id', {
        kind: 'backup',
        backupId: 'not a backup id',
        profile: 'files',
        note: null,
        requestedBy: 'console:tester',
        replicate: false,
      });

      expect(job.attemptsMade).toBe(1);
      expect(job.failedReason).toMatch(/invalid payload: backupId: /);
    });

    it('names the kind of a job no processor knows', async () => {
      const job = await addRaw('unknown-kind', { kind: 'drill', drill: 'weekly-db' });

      expect(job.attemptsMade).toBe(1);
      expect(job.failedReason).toMatch(/invalid payload: kind: /);
    });

    it('keeps the worker serving the jobs that come next', async () => {
      const { backupId } = await enqueue('files');

      const outcome = await suite.app.services.backupJobs.follow(backupId, () => {});

      expect(outcome.status).toBe('completed');
    });
  });

  describe('followed', () => {
    let completedId: string;
    let failedId: string;

    it("reports each component's progress as it goes and resolves with the catalog's completed backup", async () => {
      await suite.gate.close();
      const { backupId } = await enqueue('both');
      completedId = backupId;
      const reports: Snapshot[] = [];
      const following = suite.app.services.backupJobs.follow(backupId, (components) =>
        reports.push(components),
      );

      // `files` is done while `gated` is still dumping, held at the gate.
      await vi.waitFor(() => {
        expect(phases(reports.at(-1))).toEqual({ files: 'done', gated: 'running' });
      }, WAIT);
      await suite.gate.open();
      const outcome = await following;

      expect(outcome).toEqual({ status: 'completed', backup: await suite.backup(backupId) });
      expect(phases(reports.at(-1))).toEqual({ files: 'done', gated: 'done' });
      const last = reports.at(-1) ?? [];
      for (const component of outcome.backup.manifest?.components ?? []) {
        expect(last.find((c) => c.component === component.name)?.storedBytes).toBe(component.bytes);
      }
    });

    it("resolves with the catalog's failed backup and its error", async () => {
      const { backupId } = await enqueue('broken');
      failedId = backupId;
      const reports: Snapshot[] = [];

      const outcome = await suite.app.services.backupJobs.follow(backupId, (components) =>
        reports.push(components),
      );

      const record = await suite.backup(backupId);
      expect(record.status).toBe('failed');
      expect(outcome).toEqual({ status: 'failed', backup: record, error: record.error });
      expect(outcome.status === 'failed' && outcome.error).toMatch(/backup of missing failed/);
      expect(phases(reports.at(-1))).toMatchObject({ missing: 'failed' });
    });

    it('resolves a follow started after the backup had ended', async () => {
      const never = () => {
        throw new Error('no progress is expected from a backup that has ended');
      };
      const started = performance.now();

      const [completed, failed] = await Promise.all([
        suite.app.services.backupJobs.follow(completedId, never),
        suite.app.services.backupJobs.follow(failedId, never),
      ]);

      expect(completed.status).toBe('completed');
      expect(failed.status).toBe('failed');
      expect(performance.now() - started).toBeLessThan(1_000);
    });

    it("keeps each job's life in the catalog's jobs table", async () => {
      const completed = await suite.app.catalog.jobs.get(completedId);
      expect(completed).toMatchObject({ status: 'completed', attempts: 1, backupId: completedId });
      expect(completed?.startedAt).toBeInstanceOf(Date);
      expect(completed?.finishedAt).toBeInstanceOf(Date);
      expect(completed?.result).toMatchObject({ backupId: completedId });
      await vi.waitFor(async () => {
        const failed = await suite.app.catalog.jobs.get(failedId);
        expect(failed).toMatchObject({ status: 'failed', backupId: failedId });
        expect(failed?.error).toMatch(/backup of missing failed/);
      }, WAIT);
    });
  });
});
