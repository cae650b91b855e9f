import { describe, expect, it } from 'vitest';
import { whyNotVerifiable } from '../../../src/verify/verifiable.ts';

const ID = 'bk_20261122T020000Z_full_7q3k';
const backup = {
  id: ID,
  status: 'completed' as const,
  error: null,
  prunedAt: null,
  prunedReason: null,
};

describe('whether a backup can be verified', () => {
  it('can when it is completed', () => {
    expect(whyNotVerifiable(backup)).toBeNull();
  });

  it('cannot when it was pruned, saying when and why', () => {
    expect(
      whyNotVerifiable({
        ...backup,
        status: 'pruned',
        prunedAt: new Date('2026-11-23T02:00:00Z'),
        prunedReason: 'delete: no rule keeps it (pruned by scheduler:cron)',
      }),
    ).toBe(
      `backup ${ID} was pruned 2026-11-23 02:00:00 UTC (delete: no rule keeps it (pruned by scheduler:cron)): its objects are deleted, so there is nothing to verify; \`/backup list\` shows the backups that can be`,
    );
  });

  it('cannot when it failed or has not finished', () => {
    expect(
      whyNotVerifiable({ ...backup, status: 'failed', error: 'pg_dump exited with code 1' }),
    ).toBe(
      `backup ${ID} failed (pg_dump exited with code 1): it never completed, so there is nothing to verify`,
    );
    expect(whyNotVerifiable({ ...backup, status: 'running' })).toBe(
      `backup ${ID} is running: verify it once it has completed`,
    );
  });
});
