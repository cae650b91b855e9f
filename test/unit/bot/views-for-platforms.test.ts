import { describe, expect, it } from 'vitest';
import { approvalRequestMessage } from '../../../src/bot/views/approval-request.ts';
import { DISCORD_LIMITS, fitMessage, SLACK_LIMITS } from '../../../src/chat/limits.ts';
import type { ChatMessage } from '../../../src/chat/message.ts';
import { sampleRequest } from '../../doubles/sample-approvals.ts';
import { completedBackup } from '../../doubles/sample-backups.ts';
import { testBot } from '../../doubles/test-bot.ts';
import { buttonsOf, messageText } from '../../doubles/test-chat.ts';

const now = new Date('2026-11-22T12:00:00Z');
const view = { now, roles: {} };

describe('dangerous buttons ask first', () => {
  it('Approve of a restore says what it overwrites with which backup; Reject says nothing runs', () => {
    const message = approvalRequestMessage(sampleRequest(), view);
    const [approve, reject] = buttonsOf(message);

    expect(approve?.label).toBe('Approve');
    expect(approve?.confirm?.title).toBe('Approve this restore?');
    expect(approve?.confirm?.text).toContain('app-db (production)');
    expect(approve?.confirm?.text).toContain('overwritten');
    expect(approve?.confirm?.text).toContain('bk_20261122T020000Z_full_a1b2c3');
    expect(approve?.confirm?.confirm).toBe('Approve and restore');

    expect(reject?.label).toBe('Reject');
    expect(reject?.confirm?.confirm).toBe('Reject');
    expect(reject?.confirm?.text).toContain('does not run');
    for (const b of [approve, reject]) {
      expect(b?.confirm?.text.length).toBeLessThanOrEqual(300);
      expect(b?.confirm?.deny).toBe('Cancel');
    }
  });

  it('Approve of a command says it runs as the requester', () => {
    const message = approvalRequestMessage(
      sampleRequest({
        action: 'backup.prune',
        command: '/backup prune --profile db',
        payload: { type: 'command', text: '/backup prune --profile db' },
      }),
      view,
    );
    const [approve] = buttonsOf(message);
    expect(approve?.confirm?.text).toContain('/backup prune --profile db runs at once as');
  });

  it('a break-glass review is acknowledged without a dialog: acknowledging changes nothing', () => {
    const message = approvalRequestMessage(sampleRequest({ kind: 'review' }), view);
    expect(buttonsOf(message).map((b) => [b.label, b.confirm])).toEqual([
      ['Acknowledge', undefined],
    ]);
  });

  it('keeps the typed command of every confirmed button', () => {
    const message = approvalRequestMessage(sampleRequest(), view);
    expect(buttonsOf(message).map((b) => b.command)).toEqual([
      '/approve apr_20261122T120000Z_7q3k9x',
      '/reject apr_20261122T120000Z_7q3k9x',
    ]);
  });
});

describe('views that can get long name the command that shows them whole', () => {
  function lastPublic(bot: ReturnType<typeof testBot>): ChatMessage {
    const entry = bot.chat.posted.filter((p) => !p.private).at(-1);
    if (!entry) throw new Error('nothing public was posted');
    return bot.chat.current(entry);
  }

  it.each([
    ['/backup list', 'lifeboat backup list --limit 20'],
    ['/backup list --profile db --limit 5', 'lifeboat backup list --profile db --limit 5'],
    ['/status', 'lifeboat status'],
    ['/help', 'lifeboat help'],
    ['/help backup create', 'lifeboat help backup create'],
    ['/help backup', 'lifeboat help backup'],
  ])('%s', async (line, full) => {
    const bot = testBot();
    bot.services.backups.add(completedBackup(bot.config, { profile: 'db', createdAt: now }));
    await bot.chat.say(line);
    expect(lastPublic(bot).fullResult).toBe(full);
  });

  it('/backup show, a completed backup and a verification', async () => {
    const bot = testBot();
    const backup = completedBackup(bot.config, { profile: 'db', createdAt: now });
    bot.services.backups.add(backup);
    await bot.chat.say(`/backup show ${backup.id}`);
    expect(lastPublic(bot).fullResult).toBe(`lifeboat backup show ${backup.id}`);

    const created = await bot.chat.say('/backup create db');
    expect(lastPublic(bot).fullResult).toBe(`/backup show ${created.id}`);

    await bot.chat.say(`/backup verify ${backup.id}`);
    expect(lastPublic(bot).fullResult).toMatch(
      new RegExp(`^lifeboat backup verify ${backup.id} --level \\d$`),
    );
  });

  it('a help listing cut to Discord says where the rest is', async () => {
    const bot = testBot();
    await bot.chat.say('/help');
    const full = lastPublic(bot);
    const tight = { ...DISCORD_LIMITS, maxTotalChars: 800 };
    const fitted = fitMessage(full, tight);
    expect(messageText(fitted)).toContain('`lifeboat help` shows all of it.');
    expect(fitMessage(full, SLACK_LIMITS).blocks.length).toBeLessThanOrEqual(50);
  });
});
