import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeSurvey, surveyStore } from '../../../src/catalog/store-survey.ts';
import { newBackupId } from '../../../src/core/ids.ts';
import { LocalBackupStore } from '../../../src/storage/local-backup-store.ts';

describe('the bounded look at the store', () => {
  let root: string;
  let store: LocalBackupStore;
  const ids: string[] = [];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'lifeboat-survey-'));
    store = new LocalBackupStore({ root });
    ids.length = 0;
    for (let i = 0; i < 30; i++) {
      const id = newBackupId('db', new Date(Date.UTC(2026, 0, 1, 0, i)));
      ids.push(id);
      await store.putBytes(`${id}/db.dump.zst`, Buffer.from('x'));
      await store.putBytes(`${id}/manifest.json`, Buffer.from('{}'));
    }
    // An incomplete backup (no manifest) is not one the catalog should know.
    await store.putBytes('bk_20260101T235900Z_db_zzzz/db.dump.zst', Buffer.from('x'));
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('names the complete backups the catalog does not know', async () => {
    const known = new Set(ids.slice(0, 28));
    const survey = await surveyStore({ store, known: async () => known });
    expect(survey).toEqual({ store: root, unknown: ids.slice(28), seen: 30, partial: false });
    expect(describeSurvey(survey)).toContain(
      `holds 2 backups that the catalog does not know (${ids[28]}, ${ids[29]})`,
    );
    expect(describeSurvey({ ...survey, unknown: [] })).toBeNull();
  });

  it('stops after a bounded number of objects, the oldest first, and says it looked at part only', async () => {
    const survey = await surveyStore({ store, known: async () => new Set(), maxObjects: 10 });
    expect(survey.partial).toBe(true);
    expect(survey.unknown).toEqual(ids.slice(0, 5));
    expect(describeSurvey(survey)).toContain('holds at least 5 backups');
  });
});
