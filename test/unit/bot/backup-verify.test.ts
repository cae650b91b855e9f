import { describe, expect, it } from 'vitest';
import { verifyResultMessage } from '../../../src/bot/views/verify-result.ts';
import { completedBackup } from '../../doubles/sample-backups.ts';
import { testBot } from '../../doubles/test-bot.ts';
import { messageText } from '../../doubles/test-chat.ts';
import { testConfig } from '../../doubles/test-config.ts';

function botWithBackup(config = testConfig()) {
  const bot = testBot({ config });
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
    // No level asked for: the default, which the worker lowers to 1 when no key opens it.
    expect(services.verifications.requests).toEqual([
      { backup: 'latest', requestedBy: 'console:alice' },
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

  it('verifies an explicit id without --profile, even when the config has no default profile', async () => {
    const { chat, services, backup } = botWithBackup(testConfig({ defaultProfile: undefined }));
    const result = await chat.say(`/backup verify ${backup.id}`);
    expect(result).toMatchObject({ status: 'passed', backup: backup.id, profile: 'full' });
    expect(services.verifications.requests).toEqual([
      { backup: backup.id, requestedBy: 'console:alice' },
    ]);
    // `latest` still needs to know which profile.
    const latest = await chat.say('/backup verify latest');
    expect(latest).toMatchObject({ status: 'invalid', code: 'profile_required' });
  });

  it('picks the level with --level: 1 checks checksums only', async () => {
    const { chat, services, backup } = botWithBackup();
    const result = await chat.say(`/backup verify ${backup.id} --level 1`);
    expect(services.verifications.requests[0]).toMatchObject({ backup: backup.id, level: 1 });
    expect(result).toMatchObject({ status: 'passed', level: 1 });
    expect(chat.lastText()).toContain('verified at level 1 (checksums)');
  });

  it('takes --level 3 and --restore-test together, as the same level', async () => {
    const { chat, services, backup } = botWithBackup();
    await chat.say(`/backup verify ${backup.id} --level 3 --restore-test`);
    expect(services.verifications.requests[0]).toMatchObject({ level: 3 });
  });

  it.each([
    ['--level 2 --restore-test', /--restore-test is level 3, and --level asks for 2/],
    ['--level 4', /level/],
    ['--level one', /level/],
  ])('refuses %s, queueing nothing', async (flags, why) => {
    const { chat, services, backup } = botWithBackup();
    const result = await chat.say(`/backup verify ${backup.id} ${flags}`);
    expect(result.status).toBe('invalid');
    expect(String(result.error)).toMatch(why);
    expect(services.verifications.requests).toEqual([]);
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

describe('the result of a verification that fell back to level 1', () => {
  it('says the level that ran and why, never a pass of level 2', () => {
    const message = verifyResultMessage(
      {
        id: 'vf_20261122T120000Z_abc123',
        backupId: 'bk_20261122T020000Z_full_7q3k',
        profile: 'full',
        level: 2,
        components: ['app-db'],
        requestedBy: 'console:alice',
      },
      {
        id: 'vf_20261122T120000Z_abc123',
        backupId: 'bk_20261122T020000Z_full_7q3k',
        level: 1,
        status: 'passed',
        requestedBy: 'console:alice',
        startedAt: new Date('2026-11-22T12:00:00Z'),
        finishedAt: new Date('2026-11-22T12:00:01Z'),
        error: null,
        results: {
          components: [],
          notes: ['Checked at level 1 (checksums) only: levels 2 and 3 need the identity.'],
          scratch: null,
          durationMs: 1000,
        },
      },
    );
    const text = messageText(message);
    expect(text).toContain('verified at level 1 (checksums)');
    expect(text).not.toContain('level 2');
    expect(text).toContain(
      'Checked at level 1 (checksums) only: levels 2 and 3 need the identity.',
    );
  });
});
