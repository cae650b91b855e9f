import { describe, expect, it } from 'vitest';
import { completedBackup, failedBackup } from '../../doubles/sample-backups.ts';
import { testBot } from '../../doubles/test-bot.ts';
import { messageText } from '../../doubles/test-chat.ts';
import { testConfig } from '../../doubles/test-config.ts';

/** The spec's targets plus somewhere safe for each kind to go. */
const config = testConfig({
  targets: {
    'app-db': { kind: 'postgres', url: 'postgres://127.0.0.1:5432/app', environment: 'production' },
    uploads: { kind: 'directory', path: '/srv/app/uploads', environment: 'production' },
    cache: { kind: 'redis', url: 'redis://127.0.0.1:6379/0', environment: 'production' },
    'staging-db': {
      kind: 'postgres',
      url: 'postgres://127.0.0.1:5432/staging',
      environment: 'staging',
    },
    'scratch-files': { kind: 'directory', path: '/tmp/scratch', environment: 'scratch' },
  },
});

function botWithBackups() {
  const bot = testBot({ config });
  const older = completedBackup(config, {
    profile: 'full',
    createdAt: new Date('2026-11-21T02:00:00Z'),
  });
  const newest = completedBackup(config, {
    profile: 'full',
    createdAt: new Date('2026-11-22T02:00:00Z'),
  });
  const broken = failedBackup({
    profile: 'full',
    createdAt: new Date('2026-11-22T03:00:00Z'),
    error: 'pg_dump failed',
    targets: ['app-db'],
  });
  bot.services.backups.add(older, newest, broken);
  return { ...bot, older, newest, broken };
}

describe('/restore', () => {
  it('restores the latest backup into a staging target and shows the checks', async () => {
    const { chat, services, newest } = botWithBackups();

    const result = await chat.say('/restore latest --components app-db --into app-db=staging-db');

    expect(result).toMatchObject({ status: 'completed', backup: newest.id });
    expect(result.id).toMatch(/^rs_\d{8}T\d{6}Z_[0-9a-z]{6}$/);
    expect(services.restores.enqueued).toHaveLength(1);
    expect(services.restores.enqueued[0]?.plan.components).toMatchObject([
      { component: 'app-db', destination: 'staging-db', environment: 'staging' },
    ]);
    const versions = chat.posted[0]?.versions.map(messageText) ?? [];
    expect(versions[0]).toContain(`Restore of ${newest.id}: queued`);
    expect(
      versions.some((v) => v.includes('app-db → staging-db ? staging: reading, checking')),
    ).toBe(true);
    const final = versions.at(-1) ?? '';
    expect(final).toContain(`Restore of ${newest.id}: completed`);
    expect(final).toContain('every check matches the backup');
    expect(final).toMatch(/`app-db` → `staging-db`: restored and validated in 3\.0 s/);
    expect(final).toMatch(/destination\s+check\s+expected\s+actual/);
    expect(final).toMatch(/staging-db\s+public\.table_03 rows\s+3000\s+3000\s+ok/);
    expect(result.components).toMatchObject([
      { component: 'app-db', destination: 'staging-db', status: 'restored', ok: true },
    ]);
  });

  it('asks for approval instead of restoring into production, and records no restore', async () => {
    const { chat, services } = botWithBackups();

    const result = await chat.say('/restore latest --components app-db');

    expect(result.status).toBe('awaiting_approval');
    expect(result.id).toMatch(/^apr_/);
    expect(services.restores.enqueued).toEqual([]);
    expect(services.restores.records.size).toBe(0);
    const text = chat.lastText();
    expect(text).toContain('Approval needed: restore of');
    expect(text).toContain('into app-db (production)');
  });

  it('asks for approval when any one destination is production', async () => {
    const { chat, services } = botWithBackups();
    const result = await chat.say(
      '/restore latest --components app-db,uploads --into app-db=staging-db',
    );
    expect(result.status).toBe('awaiting_approval');
    expect(chat.lastText()).toContain('into staging-db (staging), uploads (production)');
    expect(services.restores.enqueued).toEqual([]);
  });

  it('shows the plan with --dry-run, changing nothing, production included', async () => {
    const { chat, services, older } = botWithBackups();

    const result = await chat.say(`/restore ${older.id} --dry-run --into uploads=scratch-files`);

    expect(result).toMatchObject({
      status: 'ok',
      dryRun: true,
      backup: older.id,
      needsApproval: true,
    });
    expect(services.restores.enqueued).toEqual([]);
    expect(services.restores.records.size).toBe(0);
    const text = chat.lastText();
    expect(text).toContain(`Restore plan (dry run): 3 components of ${older.id}`);
    expect(text).toContain('Dry run: nothing was staged, restored or changed.');
    expect(text).toContain('Taken: 2026-11-21 02:00:12 UTC (1d ago)');
    expect(text).toContain('`app-db` (postgres) → its origin (production)');
    expect(text).toContain('`uploads` (directory) → `scratch-files` (scratch)');
    expect(text).toContain('12.0 MiB stored, 36.0 MiB to restore');
    expect(text).toMatch(/pg_restore -j \d into a new database beside "app" on 127\.0\.0\.1:5432/);
    expect(text).toContain('a restore that fails leaves "app" exactly as it was');
    expect(text).toContain(
      'extract 42 files and 5 directories into a private directory inside /tmp/scratch',
    );
    expect(text).toContain('the destination is put back as it was');
    expect(text).toContain('approval: needed (production target)');
    expect(text).toContain('approval: not needed');
    expect(text).toContain(
      '[warning] Without --dry-run this restore asks for approval first: 1 approver from anyone but the requester, within 30 min (the built-in rule for production).',
    );
  });

  it('reports a failed component, the checks that did not match, and the ones not started', async () => {
    const { chat, services } = botWithBackups();
    services.restores.script({
      kind: 'fail',
      failing: 'app-db',
      error:
        'the restored data does not match the backup (public.table_01 rows: 1000 expected, 999 found)',
      mismatch: true,
    });

    const result = await chat.say(
      '/restore latest --components app-db,uploads --into app-db=staging-db,uploads=scratch-files',
    );

    expect(result.status).toBe('failed');
    expect(result.error).toContain('public.table_01 rows: 1000 expected, 999 found');
    expect(result.components).toMatchObject([
      { component: 'app-db', status: 'restored', ok: false },
      { component: 'uploads', status: 'skipped' },
    ]);
    const final = chat.lastText();
    expect(final).toContain('Restore of');
    expect(final).toContain(': failed');
    expect(final).toMatch(/staging-db\s+public\.table_01 rows\s+1000\s+999\s+MISMATCH/);
    expect(final).toContain('`uploads` → `scratch-files`: not started');
    expect(final).toContain('`staging-db` is unchanged.');
    expect(final).toContain('`scratch-files` is unchanged.');
  });

  it('says of a destination a failed restore wrote into that it must be restored again', async () => {
    const { chat, services } = botWithBackups();
    services.restores.script({
      kind: 'fail',
      failing: 'uploads',
      error: 'tar exited with code 2',
      left: 'changed',
    });
    await chat.say('/restore latest --components uploads --into uploads=scratch-files');
    expect(chat.lastText()).toContain(
      '`scratch-files` was changed and does not match the backup: restore it again before using it.',
    );
  });

  const mistakes = [
    {
      command: '/restore latest --components staging-db',
      message: /has no component "staging-db"; its components: app-db, uploads, cache/i,
    },
    {
      command: '/restore latest --components app-bd',
      message: /unknown target "app-bd"; did you mean "app-db"\?/i,
    },
    {
      command: '/restore latest --into app-db=scratch-files',
      message:
        /app-db is a postgres backup and scratch-files .* is a directory target; postgres targets: app-db, staging-db/i,
    },
    {
      command: '/restore latest --into app-db=nowhere',
      message:
        /unknown target "nowhere"; targets: app-db, uploads, cache, staging-db, scratch-files/i,
    },
    { command: '/restore bk_20261122T030000Z_full_zzzz', message: /there is no backup/i },
    { command: '/restore latest --profile nightly', message: /unknown profile "nightly"/i },
    { command: '/restore yesterday', message: /give a backup id like .*or `latest`/ },
  ];

  it.each(mistakes)(
    'answers `$command` with what is valid and starts nothing',
    async ({ command, message }) => {
      const { chat, services } = botWithBackups();
      const result = await chat.say(command);
      expect(result.status).toBe('invalid');
      expect(chat.lastText()).toMatch(message);
      expect(services.restores.enqueued).toEqual([]);
      expect(services.restores.records.size).toBe(0);
    },
  );

  it('answers a failed backup id with why it cannot be restored', async () => {
    const { chat, broken, services } = botWithBackups();
    const result = await chat.say(`/restore ${broken.id}`);
    expect(result.status).toBe('invalid');
    expect(chat.lastText()).toContain(
      `Backup ${broken.id} cannot be restored: it is failed, not completed; \`/backup list --profile full\` shows completed ones`,
    );
    expect(services.restores.records.size).toBe(0);
  });

  describe('with a problem that would make the restore fail', () => {
    const noIdentity = {
      component: 'app-db',
      check: 'identity' as const,
      message:
        '`app-db` is encrypted to age1xyz, and no age identity is available here to open it: set LIFEBOAT_AGE_IDENTITY …',
    };

    it('shows it in the dry run as blocking, and ends refused', async () => {
      const { chat, services } = botWithBackups();
      services.restores.problems = [noIdentity];
      const result = await chat.say('/restore latest --components app-db --dry-run');
      expect(result).toMatchObject({ status: 'refused', dryRun: true, problems: [noIdentity] });
      const text = chat.lastText();
      expect(text).toContain('[danger] This restore would fail');
      expect(text).toContain('no age identity is available here');
      expect(services.restores.enqueued).toEqual([]);
    });

    it('refuses to open an approval that could never run', async () => {
      const { chat, services } = botWithBackups();
      services.restores.problems = [noIdentity];
      const result = await chat.say('/restore latest --components app-db');
      expect(result).toMatchObject({ status: 'refused', code: 'restore_cannot_run' });
      expect(String(result.error)).toContain('no age identity is available here');
      expect(await services.approvals.open()).toEqual([]);
      expect(services.restores.enqueued).toEqual([]);
      expect(chat.lastText()).toContain('Nothing was asked or changed');
    });

    it('says where the checks ran when they found nothing', async () => {
      const { chat } = botWithBackups();
      const result = await chat.say('/restore latest --components app-db --dry-run');
      expect(result).toMatchObject({
        status: 'ok',
        checks: { ran: true, where: 'on the worker test-worker' },
      });
      expect(chat.lastText()).toContain(
        'Checked on the worker test-worker, where restores run: age identities, tools',
      );
    });

    it('refuses a restore that needs no approval too, before queueing it', async () => {
      const { chat, services } = botWithBackups();
      services.restores.problems = [
        { component: 'app-db', check: 'tool', message: '`pg_restore` is not installed here' },
      ];
      const result = await chat.say('/restore latest --components app-db --into app-db=staging-db');
      expect(result).toMatchObject({ status: 'refused', code: 'restore_cannot_run' });
      expect(services.restores.enqueued).toEqual([]);
    });
  });

  describe('when no worker could check it', () => {
    const unchecked = {
      why: 'no worker answered within 10 s',
      seenHere: ['`app-db` answers'],
    };

    it('shows the plan with the warning and what this process saw, refusing nothing', async () => {
      const { chat, services } = botWithBackups();
      services.restores.unchecked = unchecked;
      const result = await chat.say('/restore latest --components app-db --dry-run');
      expect(result).toMatchObject({
        status: 'ok',
        dryRun: true,
        checks: { ran: false, ...unchecked },
      });
      expect(result.problems).toBeUndefined();
      const text = chat.lastText();
      expect(text).toContain(
        '[warning] Not checked where restores run: no worker answered within 10 s. The age identities, tools, staging space and privileges were not checked',
      );
      expect(text).toContain(
        'Seen from this process only, not where restores run: `app-db` answers.',
      );
      expect(text).not.toContain('Checked on');
    });

    it('opens the approval with the warning on the request, for the approver to see', async () => {
      const { chat, services } = botWithBackups();
      services.restores.unchecked = unchecked;
      const result = await chat.say('/restore latest --components app-db');
      expect(result).toMatchObject({ status: 'awaiting_approval', checks: { ran: false } });
      const [request] = await services.approvals.open();
      expect(request?.payload).toMatchObject({ type: 'restore', unchecked });
      expect(chat.lastText()).toContain(
        '[warning] Not checked where restores run: no worker answered within 10 s.',
      );
      await chat.say('/approvals', 'bob');
      expect(chat.lastText()).toContain(
        'Not checked where restores run: no worker answered within 10 s',
      );
    });

    it('leaves the warning off the request once it is decided', async () => {
      const { chat, services } = botWithBackups();
      services.restores.unchecked = unchecked;
      const asked = await chat.say('/restore latest --components app-db');
      await chat.say(`/approve ${asked.request}`, 'bob');
      const texts = chat.texts();
      const updated = texts.filter((t) => t.includes('Approved and done'));
      expect(updated.length).toBeGreaterThan(0);
      expect(updated.every((t) => !t.includes('Not checked where restores run'))).toBe(true);
    });
  });
});
