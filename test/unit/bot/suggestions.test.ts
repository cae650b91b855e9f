import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupRecord } from '../../../src/app/services.ts';
import { MAX_SUGGESTIONS, suggestionSource } from '../../../src/bot/suggestions.ts';

function backup(id: string, status: BackupRecord['status']): BackupRecord {
  return { id, status } as BackupRecord;
}

describe('suggestionSource', () => {
  let runbooks: string;

  beforeAll(async () => {
    runbooks = await mkdtemp(join(tmpdir(), 'lifeboat-suggest-'));
    for (const file of ['database-corruption.md', 'dns-outage.md', 'notes.txt']) {
      await writeFile(join(runbooks, file), '# x\n');
    }
  });
  afterAll(async () => {
    await rm(runbooks, { recursive: true, force: true });
  });

  const source = (path = '') =>
    suggestionSource({
      config: {
        profiles: { full: {}, fast: {}, 'db-only': {} },
        targets: { 'app-db': {}, cache: {} },
        drills: { 'weekly-db': {} },
        runbooks: { path: path || runbooks },
      },
      backups: {
        list: async () => [
          backup('bk_20261122T020000Z_full_aaaa', 'completed'),
          backup('bk_20261122T030000Z_full_bbbb', 'failed'),
          backup('bk_20261121T020000Z_fast_cccc', 'completed'),
        ],
      },
      openRequests: async () => [{ id: 'apr_1' }, { id: 'apr_2' }],
    });

  it('offers config names starting with what was typed first, then those containing it', async () => {
    expect(await source()('profile', 'f')).toEqual(['full', 'fast']);
    expect(await source()('profile', 'only')).toEqual(['db-only']);
    expect(await source()('target', '')).toEqual(['app-db', 'cache']);
    expect(await source()('drill', 'WEEK')).toEqual(['weekly-db']);
  });

  it('offers latest and completed backup ids, never failed ones', async () => {
    expect(await source()('backup', '')).toEqual([
      'latest',
      'bk_20261122T020000Z_full_aaaa',
      'bk_20261121T020000Z_fast_cccc',
    ]);
    expect(await source()('backup', 'bk_20261121')).toEqual(['bk_20261121T020000Z_fast_cccc']);
  });

  it('offers open approval requests and runbook names', async () => {
    expect(await source()('request', 'apr')).toEqual(['apr_1', 'apr_2']);
    expect(await source()('runbook', 'd')).toEqual(['database-corruption', 'dns-outage']);
  });

  it('offers nothing, without failing, when a source cannot be read', async () => {
    expect(await source(join(runbooks, 'missing'))('runbook', '')).toEqual([]);
  });

  it('offers at most 25', async () => {
    const many = suggestionSource({
      config: {
        profiles: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`p${i}`, {}])),
        targets: {},
        drills: {},
        runbooks: { path: runbooks },
      },
      backups: { list: async () => [] },
      openRequests: async () => [],
    });
    expect(await many('profile', 'p')).toHaveLength(MAX_SUGGESTIONS);
  });
});
