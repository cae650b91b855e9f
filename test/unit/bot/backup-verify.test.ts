import { describe, expect, it } from 'vitest';
import { completedBackup } from '../../doubles/sample-backups.ts';
import { testBot } from '../../doubles/test-bot.ts';
import { messageText } from '../../doubles/test-chat.ts';

function botWithBackup() {
  const bot = testBot();
  const backup = completedBackup(bot.config, {
    profile: 'full',
    createdAt: new Date('2026-11-22T02:00:00Z'),
  });
  bot.services.backups.add(backup);
  return { ...bot, backup };
}

describe('/backup verify', () => {
  it('verifies the latest backup at level 2, with live progress and ✓ per component', async () => {
    const { chat, services, backup } = botWithBackup();
    const result = await chat.say('/backup verify latest');
    expect(services.verifications.requests).toEqual([
      { backup: 'latest', level: 2, requestedBy: 'console:alice' },
    ]);
    const versions = chat.posted[0]?.versions.map(messageText) ?? [];
    expect(versions[0]).toContain(`Verification of ${backup.id}: queued`);
    expect(versions[0]).toContain('Level: 2 (structure)');
    expect(versions.some((v) => v.includes('decrypting and checking structure'))).toBe(true);
    const final = versions[versions.length - 1] ?? '';
    expect(final).toContain(`Verification of ${backup.id}: passed`);
    expect(final).toContain('3 components ok');
    expect(final).toMatch(
      /✓ `app-db` \(postgres\) sha256 ok · pg_restore --list: 2 tables listed · 1\.5 s/,
    );
    expect(result).toMatchObject({
      status: 'passed',
      backup: backup.id,
      profile: 'full',
      level: 2,
      error: null,
    });
    expect(String(result.id)).toMatch(/^vf_/);
  });

  it('restores into scratch with --restore-test (level 3)', async () => {
    const { chat, services, backup } = botWithBackup();
    const result = await chat.say(`/backup verify ${backup.id} --restore-test`);
    expect(services.verifications.requests[0]).toMatchObject({ backup: backup.id, level: 3 });
    expect(result).toMatchObject({ status: 'passed', level: 3 });
    expect(chat.lastText()).toContain('Level: 3 (restore test)');
    expect(chat.lastText()).toContain('restore test: 2 tables, row counts match');
    expect(chat.lastText()).toContain('dropped afterwards');
  });

  it('fails with ✗ naming the component and why, and returns status failed', async () => {
    const { chat, services, backup } = botWithBackup();
    const error = `component app-db (/var/lib/lifeboat/backups/${backup.id}/app-db.dump.zst) is corrupted: its sha256 is ${'b'.repeat(64)}, the manifest records ${'a'.repeat(64)}`;
    services.verifications.script({ failing: 'app-db', code: 'object_checksum_mismatch', error });
    const result = await chat.say('/backup verify latest');
    expect(result).toMatchObject({ status: 'failed', backup: backup.id, error });
    const text = chat.lastText();
    expect(text).toContain(`Verification of ${backup.id}: failed`);
    expect(text).toContain('failed verification at level 2 (structure): 1 of 3 components failed');
    expect(text).toContain(`✗ \`app-db\` (postgres) — ${error}`);
    expect(text).toMatch(/✓ `uploads` \(directory\)/);
  });

  it('refuses a backup that is not in the catalog, queueing nothing', async () => {
    const { chat, services } = botWithBackup();
    const result = await chat.say('/backup verify bk_20261122T020000Z_full_zzzz');
    expect(result.status).toBe('invalid');
    expect(services.verifications.requests).toEqual([]);
  });

  it('rejects a malformed backup reference', async () => {
    const { chat } = botWithBackup();
    const result = await chat.say('/backup verify yesterday');
    expect(result.status).toBe('invalid');
    expect(chat.lastText()).toContain('latest');
  });
});

describe('/backup show after a verification', () => {
  it('shows the last verification of the backup', async () => {
    const { chat, backup } = botWithBackup();
    const verified = await chat.say(`/backup verify ${backup.id}`);
    const shown = await chat.say(`/backup show ${backup.id}`);
    expect(chat.lastText()).toContain(
      `Last verified: passed at level 2 (structure), 2026-11-22 12:00:04 UTC (${verified.id})`,
    );
    expect(shown.lastVerification).toMatchObject({ id: verified.id, status: 'passed', level: 2 });
  });
});
