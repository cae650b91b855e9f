import { describe, expect, it } from 'vitest';
import {
  backupIdFor,
  backupIdProfile,
  backupIdTime,
  isBackupId,
  newBackupId,
} from '../../../src/core/ids.ts';

const AT = new Date('2026-11-22T02:00:00.000Z');

describe('backup ids', () => {
  it('sort by time and name their profile: bk_20261122T020000Z_full_7q3k', () => {
    const id = newBackupId('full', AT);
    expect(id).toMatch(/^bk_20261122T020000Z_full_[0-9a-z]{4}$/);
    expect(isBackupId(id)).toBe(true);
    expect(backupIdTime(id)).toEqual(AT);
    expect(backupIdProfile(id)).toBe('full');
    expect(newBackupId('full', new Date('2026-11-22T02:00:01Z')) > id).toBe(true);
  });

  it('are the same for the same seed and differ for another, when derived', () => {
    const once = backupIdFor('db', AT, 'repeat:backup-schedule:db:1795320000000');
    expect(backupIdFor('db', AT, 'repeat:backup-schedule:db:1795320000000')).toBe(once);
    expect(backupIdFor('db', AT, 'repeat:backup-schedule:db:1795323600000')).not.toBe(once);
    expect(isBackupId(once)).toBe(true);
  });
});
