import { describe, expect, it } from 'vitest';
import type { BackupRequest } from '../../../src/app/services.ts';
import { createScheduledBackupProcessor } from '../../../src/jobs/processors/scheduled-backup-processor.ts';
import type { JobContext } from '../../../src/jobs/worker.ts';
import { silentLogger } from '../../../src/logging/logger.ts';

function contextFor(jobId: string): JobContext {
  return {
    jobId,
    attempt: 1,
    signal: new AbortController().signal,
    logger: silentLogger(),
    reportProgress: async () => {},
  };
}

describe('a scheduled backup job', () => {
  const requests: BackupRequest[] = [];
  const process = createScheduledBackupProcessor({
    enqueue: async (request) => {
      requests.push(request);
      return { backupId: request.id ?? 'bk_new', jobId: request.id ?? 'bk_new' };
    },
  });
  const fired = 'repeat:backup-schedule:db:1795320000000';

  it('asks for the same backup when the same job runs twice, so one backup is queued', async () => {
    await process({ kind: 'scheduled-backup', profile: 'db' }, contextFor(fired));
    await process({ kind: 'scheduled-backup', profile: 'db' }, contextFor(fired));
    expect(requests).toHaveLength(2);
    expect(requests[0]?.id).toBe(requests[1]?.id);
  });

  it('names the backup after the time the schedule fired, as the scheduler', async () => {
    expect(requests[0]).toMatchObject({ profile: 'db', requestedBy: 'scheduler:cron' });
    expect(requests[0]?.id).toMatch(
      new RegExp(
        `^bk_${new Date(1795320000000).toISOString().slice(0, 19).replace(/[-:]/g, '')}Z_db_`,
      ),
    );
  });

  it('asks for a different backup when the schedule fires again', async () => {
    await process(
      { kind: 'scheduled-backup', profile: 'db' },
      contextFor('repeat:backup-schedule:db:1795323600000'),
    );
    expect(requests[2]?.id).not.toBe(requests[0]?.id);
  });
});
