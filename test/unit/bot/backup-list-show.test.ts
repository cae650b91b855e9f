import { describe, expect, it } from 'vitest';
import { completedBackup, failedBackup, sampleComponent } from '../../doubles/sample-backups.ts';
import { testBot } from '../../doubles/test-bot.ts';

const at = (iso: string) => new Date(iso);

function botWithBackups() {
  const bot = testBot();
  const { config, services } = bot;
  const old = completedBackup(config, {
    profile: 'full',
    createdAt: at('2026-11-20T02:00:00Z'),
    note: 'before the 2.4 migration',
  });
  const db = completedBackup(config, {
    profile: 'db',
    createdAt: at('2026-11-22T09:00:00Z'),
    components: [sampleComponent('app-db', 'postgres', { tables: 14 })],
  });
  const failed = failedBackup({
    profile: 'quick',
    createdAt: at('2026-11-22T11:30:00Z'),
    error: 'pg_dump: error: connection to server failed',
    targets: ['app-db', 'uploads'],
  });
  services.backups.add(old, db, failed);
  return { ...bot, old, db, failed };
}

describe('/backup list', () => {
  it('lists backups newest first with id, profile, status, size, age and note', async () => {
    const { chat, old, db, failed } = botWithBackups();
    const result = await chat.say('/backup list');
    expect(result.status).toBe('ok');
    expect((result.backups as { id: string }[]).map((b) => b.id)).toEqual([
      failed.id,
      db.id,
      old.id,
    ]);
    const table = chat.last().blocks.find((b) => b.type === 'code');
    const lines = table?.type === 'code' ? table.text.split('\n') : [];
    expect(lines[0]).toMatch(/^ID\s+PROFILE\s+STATUS\s+SIZE\s+VERIFIED\s+AGE\s+NOTE$/);
    expect(lines[1]).toMatch(new RegExp(`^${failed.id}\\s+quick\\s+failed\\s+—\\s+—\\s+30m ago$`));
    expect(lines[2]).toMatch(
      new RegExp(`^${db.id}\\s+db\\s+completed\\s+12\\.0 MiB\\s+—\\s+3h ago$`),
    );
    expect(lines[3]).toMatch(
      /full\s+completed\s+36\.0 MiB\s+—\s+2d ago\s+before the 2\.4 migration$/,
    );
  });

  it('tells a backup found bad from one that could not be verified', async () => {
    const { chat, services, old, db } = botWithBackups();
    const ended = (backupId: string, status: 'failed' | 'error', error: string) => ({
      id: `vf_${backupId}`,
      backupId,
      level: 3 as const,
      status,
      requestedBy: 'console:alice',
      startedAt: new Date('2026-11-22T12:00:00Z'),
      finishedAt: new Date('2026-11-22T12:01:00Z'),
      results: null,
      error,
    });
    services.verifications.records.set(
      `vf_${db.id}`,
      ended(db.id, 'error', 'could not verify: no scratch server'),
    );
    services.verifications.records.set(
      `vf_${old.id}`,
      ended(old.id, 'failed', 'component app-db is corrupted'),
    );
    const result = await chat.say('/backup list');
    const table = chat.last().blocks.find((b) => b.type === 'code');
    const text = table?.type === 'code' ? table.text : '';
    expect(text).toMatch(new RegExp(`${db.id}.*could not verify \\(L3\\)`));
    expect(text).toMatch(new RegExp(`${old.id}.*failed \\(L3\\)`));
    const rows = result.backups as { id: string; lastVerification: { status: string } | null }[];
    expect(rows.find((b) => b.id === db.id)?.lastVerification?.status).toBe('error');
    expect(rows.find((b) => b.id === old.id)?.lastVerification?.status).toBe('failed');

    const shown = await chat.say(`/backup show ${db.id}`);
    expect(shown.lastVerification).toMatchObject({ status: 'error' });
    expect(chat.lastText()).toContain('could not verify at level 3 (restore test)');
    expect(chat.lastText()).toContain('no scratch server');
  });

  it('filters by profile and limits the count, saying there may be more', async () => {
    const { chat, services, db } = botWithBackups();
    const result = await chat.say('/backup list --profile db --limit 1');
    expect((result.backups as { id: string }[]).map((b) => b.id)).toEqual([db.id]);
    expect(chat.lastText()).toContain('Backups of db');
    expect(chat.lastText()).toContain('Showing the newest 1; `--limit N` shows more.');
    const listed = await services.backups.list({ limit: 20 });
    expect(listed).toHaveLength(3);
  });

  it('asks the catalog for 20 by default', async () => {
    const { chat, services } = testBot();
    const seen: unknown[] = [];
    const list = services.backups.list.bind(services.backups);
    services.backups.list = async (filter) => {
      seen.push(filter);
      return list(filter);
    };
    await chat.say('/backup list');
    expect(seen).toEqual([{ limit: 20 }]);
  });

  it('suggests taking a first backup when there is none', async () => {
    const { chat } = testBot();
    const result = await chat.say('/backup list');
    expect(result).toEqual({ status: 'ok', backups: [] });
    expect(chat.lastText()).toContain('No backups yet. Run `/backup create` to take one.');
    await chat.say('/backup list --profile db');
    expect(chat.lastText()).toContain('No backups of db yet. Run `/backup create db` to take one.');
  });
});

describe('/backup show', () => {
  it('shows components, checksums, row counts, tools and location', async () => {
    const { chat, db } = botWithBackups();
    const result = await chat.say(`/backup show ${db.id}`);
    expect(result).toMatchObject({ status: 'ok', id: db.id, backup: db });
    const text = chat.lastText();
    const component = db.manifest?.components[0];
    expect(text).toContain(`Backup ${db.id}`);
    expect(text).toContain(`Stored at: ${db.location}`);
    expect(text).toContain(`sha256 ${component?.sha256}`);
    expect(text).toContain('tools: pg_dump 15.20');
    expect(text).toContain('105,000 rows in 14 tables');
    expect(text).toContain('public.table_14: 14,000');
    expect(text).toContain('… and 4 more tables');
    expect(text).not.toContain('public.table_04:');
  });

  it('shows the error of a failed backup', async () => {
    const { chat, failed } = botWithBackups();
    await chat.say(`/backup show ${failed.id}`);
    expect(chat.lastText()).toContain(
      '[danger] Failed: pg_dump: error: connection to server failed',
    );
    expect(chat.lastText()).toContain('Components: app-db, uploads. No manifest yet');
  });

  it('answers an unknown id clearly', async () => {
    const { chat } = botWithBackups();
    const result = await chat.say('/backup show bk_20261122T020000Z_full_zzzz');
    expect(result.status).toBe('invalid');
    expect(chat.lastText()).toContain(
      'There is no backup `bk_20261122T020000Z_full_zzzz` in the catalog. `/backup list` shows the recent ones.',
    );
  });
});
