import { describe, expect, it } from 'vitest';
import { startApprovalSweeper } from '../../../src/approvals/approval-sweeper.ts';
import { restoreExecutions } from '../../../src/bot/restore-executions.ts';
import type { LifeboatConfig } from '../../../src/config/schema.ts';
import { completedBackup } from '../../doubles/sample-backups.ts';
import { testBot } from '../../doubles/test-bot.ts';
import { buttonsOf, messageText } from '../../doubles/test-chat.ts';
import { testConfig } from '../../doubles/test-config.ts';

/**
 * The two-person rule as people meet it in chat: alice and bob are on call, carol and dave are
 * DBAs, and a restore into production needs one DBA besides the requester.
 */
function approvalConfig(overrides: Record<string, unknown> = {}): LifeboatConfig {
  return testConfig({
    roles: {
      oncall: ['console:alice', 'console:bob'],
      dba: ['console:carol', 'console:dave'],
    },
    policies: [
      { action: 'restore', environment: 'production', approvals: 1, approvers: ['dba'] },
      { action: 'backup.prune', approvals: 1, approvers: ['dba'], expires: '1h' },
    ],
    breakGlass: { role: 'dba' },
    ...overrides,
  });
}

const START = new Date('2026-11-22T12:00:00Z');

function botWithBackup(config = approvalConfig()) {
  const bot = testBot({ config });
  const backup = completedBackup(config, {
    profile: 'db',
    createdAt: new Date('2026-11-22T02:00:00Z'),
  });
  bot.services.backups.add(backup);
  return { ...bot, backup };
}

/** alice asks for a production restore; the request's id and message. */
async function requested(bot: ReturnType<typeof botWithBackup>) {
  const result = await bot.chat.say('/restore latest --profile db', 'alice');
  expect(result.status).toBe('awaiting_approval');
  const id = String(result.request);
  const entry = bot.chat.posted.find((p) =>
    messageText(p.versions[0] ?? { text: '', blocks: [] }).includes(id),
  );
  if (!entry) throw new Error('the request message was not posted');
  return { id, entry, result };
}

describe('a production restore under the two-person rule', () => {
  it('becomes an approval request with the backup, target, requester, approvals and expiry, and runs nothing', async () => {
    const bot = botWithBackup();
    const { id, entry, result } = await requested(bot);

    expect(id).toMatch(/^apr_\d{8}T\d{6}Z_[0-9a-z]{6}$/);
    expect(result).toMatchObject({
      id,
      clauses: [
        {
          environments: ['production'],
          approvals: 1,
          approverRoles: ['dba'],
          policy: 'policies[0]',
          approvedBy: [],
          left: 1,
        },
      ],
    });
    expect(result.expiresAt).toBe('2026-11-22T12:30:00.000Z');
    const text = messageText(bot.chat.current(entry));
    expect(text).toContain('Approval needed');
    expect(text).toContain(bot.backup.id);
    expect(text).toContain('app-db (production)');
    expect(text).toContain('Requested by: console:alice');
    expect(text).toContain('Approvals: 0; production: 1 more from dba');
    expect(text).toContain('dba: console:carol, console:dave');
    expect(text).toMatch(/Expires: .*\(in 30 min\)/);
    const buttons = buttonsOf(bot.chat.current(entry));
    expect(buttons.map((b) => [b.label, b.command])).toEqual([
      ['Approve', `/approve ${id}`],
      ['Reject', `/reject ${id}`],
    ]);
    expect(bot.services.restores.enqueued).toEqual([]);
  });

  it('refuses the requester approving their own request', async () => {
    const bot = botWithBackup();
    const { id } = await requested(bot);

    const result = await bot.chat.say(`/approve ${id}`, 'alice');

    expect(result).toMatchObject({ status: 'refused', code: 'own_request' });
    expect(bot.chat.lastText()).toMatch(/second person/);
    expect(bot.services.restores.enqueued).toEqual([]);
  });

  it('answers an approval of a request that does not exist with what to do', async () => {
    const bot = botWithBackup();

    const result = await bot.chat.clickAction('cmd:approve apr_20261122T120000Z_forged', 'carol');

    expect(result).toMatchObject({ status: 'refused', code: 'not_found' });
    expect(bot.chat.lastText()).toContain('apr_20261122T120000Z_forged');
    expect(bot.chat.lastText()).toContain('/approvals');
    expect(bot.services.restores.enqueued).toEqual([]);
  });

  it('refuses someone without the approver role', async () => {
    const bot = botWithBackup();
    const { id } = await requested(bot);

    const result = await bot.chat.say(`/approve ${id}`, 'bob');

    expect(result).toMatchObject({ status: 'refused', code: 'not_an_approver' });
    expect(String(result.error)).toContain('dba');
    expect(bot.services.restores.enqueued).toEqual([]);
  });

  it('runs once when a role holder clicks Approve: authorised by the request, as the requester', async () => {
    const bot = botWithBackup();
    const { id, entry } = await requested(bot);

    const result = await bot.chat.click('Approve', 'carol');

    expect(result).toMatchObject({ status: 'completed', id, request: id, outcome: 'approved' });
    expect(bot.services.restores.enqueued).toHaveLength(1);
    const [run] = bot.services.restores.enqueued;
    expect(run?.id).toBe(result.execution);
    expect(run?.requestedBy).toBe('console:alice');
    expect(run?.authorization).toEqual({
      kind: 'approval',
      request: id,
      approvedBy: ['console:carol'],
    });
    const final = messageText(bot.chat.current(entry));
    expect(final).toContain('Approved and done');
    expect(final).toContain(`Restore ${run?.id} completed`);
    expect(buttonsOf(bot.chat.current(entry))).toEqual([]);

    const late = await bot.chat.say(`/approve ${id}`, 'dave');
    expect(late).toMatchObject({ status: 'refused', code: 'executed' });
    expect(bot.services.restores.enqueued).toHaveLength(1);
  });

  it('shows the request, the approval and the restore to the channel, and a refused vote only to the voter', async () => {
    const bot = botWithBackup();
    const { id, entry } = await requested(bot);
    expect(entry.private).toBeUndefined();

    await bot.chat.say(`/approve ${id}`, 'alice');
    expect(bot.chat.posted.at(-1)?.private).toBe(true);
    const publicBefore = bot.chat.publicTexts().length;

    await bot.chat.click('Approve', 'carol');
    const shown = bot.chat.publicTexts().slice(publicBefore).join('\n');
    expect(shown).toContain(`You approved ${id}`);
    expect(shown).toMatch(/Restore \S+ completed|completed/);
    expect(bot.chat.privateTexts()).toHaveLength(1);
    expect(messageText(bot.chat.current(entry))).toContain('Approved and done');
  });

  it('runs once on a double click and on two approvers clicking at the same moment', async () => {
    const bot = botWithBackup();
    await requested(bot);

    const results = await Promise.all([
      bot.chat.click('Approve', 'carol'),
      bot.chat.click('Approve', 'carol'),
      bot.chat.click('Approve', 'dave'),
    ]);

    expect(results.filter((r) => r.status === 'completed')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'refused')).toHaveLength(2);
    expect(bot.services.restores.enqueued).toHaveLength(1);
  });

  it('a mixed restore (production and staging) needs every policy: two oncall approvals never restore production', async () => {
    const base = testConfig();
    const config = approvalConfig({
      targets: {
        ...base.targets,
        'staging-files': {
          kind: 'directory',
          path: '/srv/staging/uploads',
          environment: 'staging',
        },
      },
      roles: {
        oncall: ['console:alice', 'console:bob', 'console:olga'],
        dba: ['console:carol', 'console:dave'],
      },
      policies: [
        {
          action: 'restore',
          environment: 'production',
          approvals: 1,
          approvers: ['dba'],
          expires: '30m',
        },
        {
          action: 'restore',
          environment: 'staging',
          approvals: 1,
          approvers: ['oncall'],
          expires: '15m',
        },
      ],
    });
    const bot = testBot({ config });
    bot.services.backups.add(
      completedBackup(config, { profile: 'full', createdAt: new Date('2026-11-22T02:00:00Z') }),
    );
    const asked = await bot.chat.say(
      '/restore latest --profile full --components app-db,uploads --into uploads=staging-files',
      'alice',
    );
    expect(asked.status).toBe('awaiting_approval');
    const id = String(asked.request);
    expect(asked.expiresAt).toBe('2026-11-22T12:15:00.000Z');

    expect(await bot.chat.say(`/approve ${id}`, 'bob')).toMatchObject({ outcome: 'counted' });
    const entry = bot.chat.posted.find((p) =>
      messageText(p.versions[0] ?? { text: '', blocks: [] }).includes(id),
    );
    if (!entry) throw new Error('the request message was not posted');
    expect(messageText(bot.chat.current(entry))).toContain(
      'production: 1 more from dba; staging: satisfied',
    );
    const olga = await bot.chat.say(`/approve ${id}`, 'olga');
    expect(olga).toMatchObject({ status: 'refused', code: 'not_needed' });
    expect(String(olga.error)).toContain('production: 1 more from dba; staging: satisfied');
    expect(bot.services.restores.enqueued).toEqual([]);

    const done = await bot.chat.say(`/approve ${id}`, 'carol');
    expect(done.status).toBe('completed');
    expect(bot.services.restores.enqueued).toHaveLength(1);
    expect(bot.services.restores.enqueued[0]?.authorization).toMatchObject({
      approvedBy: ['console:bob', 'console:carol'],
    });
  });

  it('counts an approver once and needs every approver a policy asks for', async () => {
    const bot = botWithBackup(
      approvalConfig({
        policies: [
          { action: 'restore', environment: 'production', approvals: 2, approvers: ['dba'] },
        ],
        roles: {
          oncall: ['console:alice'],
          dba: ['console:carol', 'console:dave', 'console:erin'],
        },
      }),
    );
    const { id, entry } = await requested(bot);

    expect(await bot.chat.say(`/approve ${id}`, 'carol')).toMatchObject({
      status: 'ok',
      outcome: 'counted',
      approvals: 1,
      clauses: [{ approvals: 2, approvedBy: ['console:carol'], left: 1 }],
    });
    expect(messageText(bot.chat.current(entry))).toContain(
      'Approvals: 1 (console:carol); production: 1 more from dba',
    );
    expect(await bot.chat.say(`/approve ${id}`, 'carol')).toMatchObject({
      status: 'refused',
      code: 'already_voted',
    });
    expect(bot.services.restores.enqueued).toEqual([]);

    const done = await bot.chat.say(`/approve ${id}`, 'dave');
    expect(done.status).toBe('completed');
    expect(bot.services.restores.enqueued[0]?.authorization).toMatchObject({
      approvedBy: ['console:carol', 'console:dave'],
    });
  });

  it('ends with one rejection: nothing runs and later approvals are refused', async () => {
    const bot = botWithBackup();
    const { id, entry } = await requested(bot);

    const rejected = await bot.chat.say(`/reject ${id} wrong backup, use the 02:00 one`, 'dave');

    expect(rejected).toMatchObject({ status: 'ok', outcome: 'rejected' });
    const text = messageText(bot.chat.current(entry));
    expect(text).toContain('Rejected by console:dave: wrong backup, use the 02:00 one');
    expect(buttonsOf(bot.chat.current(entry))).toEqual([]);
    expect(await bot.chat.say(`/approve ${id}`, 'carol')).toMatchObject({
      status: 'refused',
      code: 'rejected',
    });
    expect(bot.services.restores.enqueued).toEqual([]);
  });

  it('cannot be approved once expired, and the request message says so', async () => {
    const bot = botWithBackup();
    const { id, entry } = await requested(bot);

    bot.setNow(new Date(START.getTime() + 30 * 60_000));
    const result = await bot.chat.say(`/approve ${id}`, 'carol');

    expect(result).toMatchObject({ status: 'refused', code: 'expired' });
    expect(messageText(bot.chat.current(entry))).toContain('Expired');
    expect(bot.services.restores.enqueued).toEqual([]);
  });

  it('is expired by the sweeper when nobody acts, on the controllable clock', async () => {
    const bot = botWithBackup();
    const { id } = await requested(bot);
    const expired: string[] = [];
    const sweeper = startApprovalSweeper({
      approvals: bot.services.approvals,
      onChanged: async (request) => {
        expired.push(request.id);
      },
      onError: (error) => {
        throw error;
      },
      intervalMs: 3_600_000,
    });
    try {
      bot.setNow(new Date(START.getTime() + 29 * 60_000));
      expect(await sweeper.sweep()).toEqual({ expired: [], settled: [] });
      bot.setNow(new Date(START.getTime() + 31 * 60_000));
      expect((await sweeper.sweep()).expired.map((r) => r.id)).toEqual([id]);
      expect(await sweeper.sweep()).toEqual({ expired: [], settled: [] });
    } finally {
      await sweeper.stop();
    }
    expect(expired).toEqual([id]);
    expect((await bot.services.approvals.get(id))?.status).toBe('expired');
  });

  it('lists open requests for those who can act on them, and their own as waiting', async () => {
    const bot = botWithBackup();
    const { id } = await requested(bot);

    const carol = await bot.chat.say('/approvals', 'carol');
    expect(carol.requests).toMatchObject([{ id, requestedBy: 'console:alice' }]);
    expect(bot.chat.lastText()).toContain(id);
    expect(buttonsOf(bot.chat.last()).map((b) => b.command)).toEqual([
      `/approve ${id}`,
      `/reject ${id}`,
    ]);

    const alice = await bot.chat.say('/approvals', 'alice');
    expect(alice.requests).toEqual([]);
    expect(alice.waiting).toMatchObject([{ id }]);

    const bob = await bot.chat.say('/approvals', 'bob');
    expect(bob).toMatchObject({ requests: [], waiting: [] });

    // Past its expiry, before any sweep, it is no longer offered: approving it would be refused.
    bot.setNow(new Date(START.getTime() + 30 * 60_000));
    expect((await bot.chat.say('/approvals', 'carol')).requests).toEqual([]);
  });

  it('shows what approval a --dry-run would need and changes nothing', async () => {
    const bot = botWithBackup();

    const result = await bot.chat.say('/restore latest --profile db --dry-run', 'alice');

    expect(result).toMatchObject({
      status: 'ok',
      needsApproval: true,
      approval: {
        clauses: [
          {
            environments: ['production'],
            approvals: 1,
            approverRoles: ['dba'],
            policy: 'policies[0]',
          },
        ],
        expiresInMs: 30 * 60_000,
      },
    });
    expect(bot.chat.lastText()).toContain('asks for approval first: 1 approver from dba');
    expect(await bot.services.approvals.open()).toEqual([]);
  });

  it('applies the built-in rule without a policies key: production needs a second identity', async () => {
    const config = testConfig();
    const bot = botWithBackup(config);

    const asked = await bot.chat.say('/restore latest --profile db', 'alice');
    expect(asked.status).toBe('awaiting_approval');
    const id = String(asked.request);
    expect(await bot.chat.say(`/approve ${id}`, 'alice')).toMatchObject({ code: 'own_request' });
    // Without roles anyone else may approve: a single-user trial still needs two identities.
    expect((await bot.chat.say(`/approve ${id}`, 'bob')).status).toBe('completed');
  });
});

describe('break glass', () => {
  it('is refused to anyone outside the configured role', async () => {
    const bot = botWithBackup();

    const result = await bot.chat.say(
      '/restore latest --profile db --break-glass "db gone"',
      'bob',
    );

    expect(result).toMatchObject({ status: 'refused', code: 'break_glass_refused' });
    expect(String(result.error)).toContain('only for the dba role');
    expect(bot.services.restores.enqueued).toEqual([]);
  });

  it('is refused with a blank reason, saying a reason is required', async () => {
    const bot = botWithBackup();

    const result = await bot.chat.say('/restore latest --profile db --break-glass "   "', 'carol');

    expect(result).toMatchObject({ status: 'refused', code: 'break_glass_reason_required' });
    expect(String(result.error)).toContain('a reason is required');
    expect(bot.services.restores.enqueued).toEqual([]);
    expect(await bot.services.approvals.open()).toEqual([]);
  });

  it('is refused when no role is configured for it', async () => {
    const config = approvalConfig();
    const bot = botWithBackup({ ...config, breakGlass: undefined });

    const result = await bot.chat.say(
      '/restore latest --profile db --break-glass "db gone"',
      'carol',
    );

    expect(result.status).toBe('refused');
    expect(String(result.error)).toContain('breakGlass.role');
  });

  it('runs at once for the role, alerts loudly, and leaves a review a second person acknowledges', async () => {
    const bot = botWithBackup();

    const result = await bot.chat.say(
      '/restore latest --profile db --break-glass "primary corrupted, dbas asleep"',
      'carol',
    );

    expect(result).toMatchObject({ status: 'completed', breakGlass: true });
    const review = String(result.request);
    expect(bot.services.restores.enqueued).toHaveLength(1);
    expect(bot.services.restores.enqueued[0]?.authorization).toEqual({
      kind: 'break-glass',
      request: review,
      by: 'console:carol',
      reason: 'primary corrupted, dbas asleep',
    });
    const alert = bot.chat.publicTexts().find((t) => t.startsWith('BREAK GLASS'));
    expect(alert).toContain('console:carol');
    expect(alert).toContain('primary corrupted, dbas asleep');
    expect(bot.logger.entries.some((e) => e.obj.alert === 'break_glass')).toBe(true);

    expect((await bot.chat.say('/approvals', 'carol')).requests).toEqual([]);
    expect((await bot.chat.say('/approvals', 'dave')).requests).toMatchObject([
      { id: review, kind: 'review' },
    ]);
    expect(await bot.chat.say(`/approve ${review}`, 'carol')).toMatchObject({
      code: 'own_request',
    });
    expect(await bot.chat.say(`/approve ${review}`, 'dave')).toMatchObject({
      status: 'ok',
      outcome: 'acknowledged',
    });
    expect((await bot.chat.say('/approvals', 'dave')).requests).toEqual([]);
    expect(bot.services.restores.enqueued).toHaveLength(1);
  });
});

describe('an approved restore whose bot stopped watching', () => {
  /** A sweeper over the bot's approvals that looks restores up as the real one does. */
  function sweeperOf(bot: ReturnType<typeof botWithBackup>, changed: string[] = []) {
    return startApprovalSweeper({
      approvals: bot.services.approvals,
      executions: restoreExecutions(async (id) => bot.services.restores.records.get(id)),
      onChanged: async (request) => {
        changed.push(`${request.id} ${request.status}`);
      },
      onError: (error) => {
        throw error;
      },
      intervalMs: 3_600_000,
    });
  }

  it('gets its outcome from the sweeper once the restore ends, recorded once', async () => {
    const bot = botWithBackup();
    const { id } = await requested(bot);
    bot.services.restores.script({ kind: 'lose-track', error: 'Connection is closed.' });

    const result = await bot.chat.click('Approve', 'carol');
    expect(result).toMatchObject({ status: 'failed', lost: true, outcome: 'approved' });
    expect((await bot.services.approvals.get(id))?.status).toBe('approved');

    const changed: string[] = [];
    const sweeper = sweeperOf(bot, changed);
    try {
      // The worker still has it: nothing to record yet.
      expect((await sweeper.sweep()).settled).toEqual([]);
      await bot.services.restores.follow(String(result.execution), () => {});
      const { settled } = await sweeper.sweep();
      expect(settled.map((r) => [r.id, r.status])).toEqual([[id, 'executed']]);
      expect(settled[0]?.outcome).toBe(
        `Restore ${result.execution} completed in 9.0 s; every check matches the backup.`,
      );
      expect((await sweeper.sweep()).settled).toEqual([]);
    } finally {
      await sweeper.stop();
    }
    expect(changed).toEqual([`${id} executed`]);
    expect(bot.services.audit.log.filter((e) => e.action === 'approval.executed')).toHaveLength(1);
    expect(await bot.chat.say(`/approve ${id}`, 'dave')).toMatchObject({ code: 'executed' });
  });

  it('is closed as failed when its bot stopped before queueing it, never started late', async () => {
    const bot = botWithBackup();
    const { id } = await requested(bot);
    // The vote commits, then the bot dies before it queues the restore.
    const vote = await bot.services.approvals.vote(
      id,
      { identity: 'console:carol', decision: 'approve' },
      { platform: 'console', channel: { channel: 'console' } },
    );
    expect(vote.outcome).toBe('approved');

    const sweeper = sweeperOf(bot);
    try {
      bot.setNow(new Date(START.getTime() + 4 * 60_000));
      expect((await sweeper.sweep()).settled).toEqual([]);
      bot.setNow(new Date(START.getTime() + 6 * 60_000));
      const { settled } = await sweeper.sweep();
      expect(settled.map((r) => [r.id, r.status])).toEqual([[id, 'failed']]);
      expect(settled[0]?.outcome).toContain('was never queued, so nothing was restored');
      expect(settled[0]?.outcome).toContain('Ask again (/restore latest --profile db)');
    } finally {
      await sweeper.stop();
    }
    expect(bot.services.restores.enqueued).toEqual([]);
    expect(await bot.chat.say(`/approve ${id}`, 'dave')).toMatchObject({ status: 'refused' });
  });

  it('is settled once when two bot processes sweep at the same moment', async () => {
    const bot = botWithBackup();
    const { id } = await requested(bot);
    bot.services.restores.script({ kind: 'lose-track', error: 'Connection is closed.' });
    const result = await bot.chat.click('Approve', 'carol');
    await bot.services.restores.follow(String(result.execution), () => {});

    const [first, second] = [sweeperOf(bot), sweeperOf(bot)];
    try {
      const sweeps = await Promise.all([first.sweep(), second.sweep()]);
      expect(sweeps.flatMap((s) => s.settled).every((r) => r.status === 'executed')).toBe(true);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
    expect((await bot.services.approvals.get(id))?.status).toBe('executed');
    expect(bot.services.audit.log.filter((e) => e.action === 'approval.executed')).toHaveLength(1);
  });

  it('records a break-glass restore’s outcome on its review, which still waits for a second person', async () => {
    const bot = botWithBackup();
    bot.services.restores.script({ kind: 'lose-track', error: 'Connection is closed.' });
    const result = await bot.chat.say(
      '/restore latest --profile db --break-glass "primary corrupted"',
      'carol',
    );
    expect(result).toMatchObject({ status: 'failed', lost: true, breakGlass: true });
    const review = String(result.request);
    await bot.services.restores.follow(String(result.execution), () => {});

    const sweeper = sweeperOf(bot);
    try {
      const { settled } = await sweeper.sweep();
      expect(settled.map((r) => [r.id, r.status])).toEqual([[review, 'pending']]);
      expect(settled[0]?.outcome).toContain('completed');
    } finally {
      await sweeper.stop();
    }
    expect((await bot.chat.say('/approvals', 'dave')).requests).toMatchObject([{ id: review }]);
  });
});

describe('policies on other commands', () => {
  it('turns /backup prune into a request; the approval runs it as the requester', async () => {
    const bot = botWithBackup();

    const asked = await bot.chat.say('/backup prune --profile db', 'alice');
    expect(asked).toMatchObject({ status: 'awaiting_approval', action: 'backup.prune' });
    expect(bot.services.retention.requests).toEqual([]);

    // A dry run changes nothing, so no policy applies to it.
    expect((await bot.chat.say('/backup prune --dry-run', 'alice')).status).toBe('ok');
    expect(bot.services.retention.requests).toMatchObject([{ dryRun: true }]);

    const approved = await bot.chat.say(`/approve ${String(asked.request)}`, 'carol');
    expect(approved.status).toBe('ok');
    expect(bot.services.retention.requests).toMatchObject([
      { dryRun: true },
      { profile: 'db', requestedBy: 'console:alice', dryRun: false },
    ]);
    expect((await bot.services.approvals.get(String(asked.request)))?.status).toBe('executed');
  });

  it("judges a command on the environments of its profile's targets", async () => {
    const config = approvalConfig({
      profiles: {
        full: { targets: ['app-db', 'uploads', 'cache'] },
        db: { targets: ['app-db'] },
        staging: { targets: ['staging-db'] },
      },
      policies: [{ action: 'backup.create', environment: 'production', approvals: 1 }],
    });
    const bot = botWithBackup(config);

    const production = await bot.chat.say('/backup create db', 'alice');
    expect(production).toMatchObject({ status: 'awaiting_approval', action: 'backup.create' });
    expect(bot.services.backupJobs.requests).toEqual([]);

    const staging = await bot.chat.say('/backup create staging', 'alice');
    expect(staging.status).toBe('completed');
    expect(bot.services.backupJobs.requests).toMatchObject([{ profile: 'staging' }]);

    // Any role holder but the requester approves when the policy names no roles.
    const approved = await bot.chat.say(`/approve ${String(production.request)}`, 'bob');
    expect(approved.status).toBe('completed');
    expect(bot.services.backupJobs.requests).toMatchObject([
      { profile: 'staging' },
      { profile: 'db', requestedBy: 'console:alice' },
    ]);
  });
});

describe('the audit log', () => {
  it('records every command with identity, platform, channel and outcome, and every vote', async () => {
    const bot = botWithBackup();
    const { id } = await requested(bot);
    await bot.chat.say(`/approve ${id}`, 'alice');
    await bot.chat.say(`/approve ${id}`, 'carol');
    await bot.chat.say('/no-such-command', 'bob');

    const entries = bot.services.audit.log.map((e) => [
      e.action,
      e.identity,
      e.platform,
      e.channel,
      e.outcome,
    ]);
    expect(entries).toEqual([
      ['approval.requested', 'console:alice', 'console', 'ops', 'pending'],
      ['command', 'console:alice', 'console', 'ops', 'awaiting_approval'],
      ['approval.refused', 'console:alice', 'console', 'ops', 'refused'],
      ['command', 'console:alice', 'console', 'ops', 'refused'],
      ['approval.approved', 'console:carol', 'console', 'ops', 'approved'],
      ['approval.executed', 'console:alice', 'console', 'ops', 'completed'],
      ['command', 'console:carol', 'console', 'ops', 'completed'],
      ['command', 'console:bob', 'console', 'ops', 'invalid'],
    ]);
    const first = bot.services.audit.log[1];
    expect(first?.command).toBe('/restore latest --profile db');
    expect(first?.requestId).toBe(id);
    expect(first?.args).toMatchObject({ backup: 'latest', profile: 'db' });
  });
});
