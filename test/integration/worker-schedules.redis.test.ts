import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/main.ts';
import { createWorkerSuite, WAIT, type WorkerSuite } from '../support/worker-harness.ts';

const config = (schedules: { nightly: string; hourly?: string }) => `defaultProfile: nightly
storage: { local: { path: ./backups } }
targets:
  files: { kind: directory, path: ./files, environment: staging }
profiles:
  nightly: { targets: [files], schedule: "${schedules.nightly}" }
  hourly: { targets: [files]${schedules.hourly ? `, schedule: "${schedules.hourly}"` : ''} }
  manual: { targets: [files] }
`;

/** The next time after `now` that the UTC clock shows `hour`:`minute`. */
function nextUtc(hour: number, minute: number, now = new Date()): number {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), hour, minute);
  return today > now.getTime() ? today : today + 24 * 3600_000;
}

describe('the audit checkpoint schedule', () => {
  let suite: WorkerSuite;

  beforeAll(async () => {
    suite = await createWorkerSuite(
      'auditschedule',
      () => `${config({ nightly: '0 2 * * *' })}audit: { checkpointEvery: 2h }
`,
    );
  });

  afterAll(async () => {
    await suite?.dispose();
  });

  it('is one job scheduler, every audit.checkpointEvery, whose firings write a checkpoint', async () => {
    await suite.app.syncSchedules();
    await suite.app.syncSchedules();
    const audit = (await suite.app.queue.queue.getJobSchedulers()).filter(
      (s) => s.key === 'audit-checkpoint',
    );
    expect(audit).toHaveLength(1);
    expect(Number(audit[0]?.every)).toBe(2 * 3600_000);
    const firings = (await suite.app.queue.queue.getJobs(['delayed', 'waiting'])).filter(
      (job) => job.name === 'audit-checkpoint',
    );
    expect(firings).toHaveLength(1);
    expect(firings[0]?.data).toEqual({ kind: 'audit-checkpoint' });
    expect(firings[0]?.opts).toMatchObject({ attempts: 1, removeOnComplete: { age: 24 * 3600 } });
  });
});

describe('backup schedules', () => {
  let suite: WorkerSuite;

  beforeAll(async () => {
    suite = await createWorkerSuite('schedules', () =>
      config({ nightly: '0 2 * * *', hourly: '0 * * * *' }),
    );
  });

  afterAll(async () => {
    await suite?.dispose();
  });

  // The audit checkpoint scheduler (audit-checkpoint-schedule.redis.test.ts) is left out here.
  const schedulers = async (app: App = suite.app) =>
    (await app.queue.queue.getJobSchedulers())
      .filter((s) => s.key.startsWith('backup-schedule:'))
      .map((s) => ({ key: s.key, pattern: s.pattern, tz: s.tz, next: s.next }))
      .sort((a, b) => a.key.localeCompare(b.key));
  const pendingFirings = async () =>
    (await suite.app.queue.queue.getDelayed())
      .filter((job) => job.name === 'scheduled-backup')
      .map((job) => job.id)
      .sort();

  it('creates one job scheduler per profile with a schedule, in UTC', async () => {
    const synced = await suite.app.syncSchedules();

    expect(synced).toEqual({ scheduled: ['nightly', 'hourly'], removed: [] });
    expect(await schedulers()).toEqual([
      {
        key: 'backup-schedule:hourly',
        pattern: '0 * * * *',
        tz: 'UTC',
        next: Math.ceil((Date.now() + 1) / 3600_000) * 3600_000,
      },
      { key: 'backup-schedule:nightly', pattern: '0 2 * * *', tz: 'UTC', next: nextUtc(2, 0) },
    ]);
    expect(await pendingFirings()).toHaveLength(2);
  });

  it('fires jobs that are kept no longer than other jobs', async () => {
    const [firing] = (await suite.app.queue.queue.getDelayed()).filter(
      (job) => job.name === 'scheduled-backup',
    );

    expect(firing?.data).toMatchObject({ kind: 'scheduled-backup' });
    expect(firing?.opts).toMatchObject({
      attempts: 1,
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
  });

  it('changes nothing when synced again with the same config', async () => {
    const before = { schedulers: await schedulers(), firings: await pendingFirings() };

    const synced = await suite.app.syncSchedules();

    expect(synced).toEqual({ scheduled: ['nightly', 'hourly'], removed: [] });
    expect({ schedulers: await schedulers(), firings: await pendingFirings() }).toEqual(before);
  });

  it('removes the scheduler of a profile whose schedule was removed, and updates a changed one', async () => {
    const changed = await suite.openApp(config({ nightly: '30 3 * * *' }));

    const synced = await changed.syncSchedules();

    expect(synced).toEqual({ scheduled: ['nightly'], removed: ['hourly'] });
    expect(await schedulers(changed)).toEqual([
      { key: 'backup-schedule:nightly', pattern: '30 3 * * *', tz: 'UTC', next: nextUtc(3, 30) },
    ]);
    expect(await pendingFirings()).toHaveLength(1);
  });

  it('queues a real backup of the profile when a scheduled job runs, requested by the scheduler', async () => {
    const { app } = suite;
    const worker = app.startWorker();
    try {
      await app.queue.queue.add('scheduled-backup', {
        kind: 'scheduled-backup',
        profile: 'hourly',
      });
      const fired = await vi.waitFor(async () => {
        const [job] = (await app.queue.queue.getCompleted()).filter(
          (completed) => completed.name === 'scheduled-backup',
        );
        if (!job) throw new Error('the scheduled job has not completed');
        return job;
      }, WAIT);
      const { backupId } = fired.returnvalue as { backupId: string };

      const outcome = await app.services.backupJobs.follow(backupId, () => {});

      expect(outcome.status).toBe('completed');
      expect(outcome.backup).toMatchObject({
        profile: 'hourly',
        requestedBy: 'scheduler:cron',
        note: 'scheduled',
        targets: ['files'],
      });
    } finally {
      await worker.close(1_000);
    }
  });
});
