import { describe, expect, it } from 'vitest';
import type { BackupRecord, BackupStatus } from '../../../src/app/services.ts';
import { createJobFailureRecorder } from '../../../src/jobs/job-failures.ts';
import type { BackupJob } from '../../../src/jobs/job-payloads.ts';

const ID = 'bk_20260101T000000Z_full_0001';
const payload: BackupJob = {
  kind: 'backup',
  backupId: ID,
  profile: 'full',
  note: null,
  requestedBy: 'console:alice',
  replicate: false,
};

/** A catalog holding one backup in `status`, recording what `markFailed` was told. */
function catalogWith(status: BackupStatus) {
  const failed: string[] = [];
  const record = { id: ID, status } as BackupRecord;
  return {
    failed,
    backups: {
      get: async (id: string) => (id === ID ? record : undefined),
      markFailed: async (_id: string, error: string) => {
        failed.push(error);
        return { ...record, status: 'failed' as const, error };
      },
    },
  };
}

describe('recording jobs the queue failed', () => {
  it('fails a backup left running by workers that died, saying so', async () => {
    const catalog = catalogWith('running');

    await createJobFailureRecorder(catalog)(payload, 'job stalled more than allowable limit');

    expect(catalog.failed).toHaveLength(1);
    expect(catalog.failed[0]).toMatch(/stopped mid-job too many times/);
  });

  it('fails a backup still queued with the queue’s reason', async () => {
    const catalog = catalogWith('queued');

    await createJobFailureRecorder(catalog)(payload, 'connection lost');

    expect(catalog.failed).toEqual(['the queue failed its job: connection lost']);
  });

  it.each(['completed', 'failed'] as const)('leaves a %s backup as it is', async (status) => {
    const catalog = catalogWith(status);

    await createJobFailureRecorder(catalog)(payload, 'job stalled more than allowable limit');

    expect(catalog.failed).toEqual([]);
  });

  it('ignores jobs that are not backups', async () => {
    const catalog = catalogWith('running');

    await createJobFailureRecorder(catalog)({ kind: 'scheduled-backup', profile: 'full' }, 'x');

    expect(catalog.failed).toEqual([]);
  });
});
