import { describe, expect, it } from 'vitest';
import { testBot } from '../../doubles/test-bot.ts';
import { buttonsOf, messageText } from '../../doubles/test-chat.ts';
import { testConfig } from '../../doubles/test-config.ts';

describe('/backup create', () => {
  it('queues a backup of the default profile, shows live progress per component, then the result', async () => {
    const { chat, services } = testBot();

    const result = await chat.say('/backup create');

    expect(services.backupJobs.requests).toEqual([
      { profile: 'full', note: null, requestedBy: 'console:alice', replicate: true },
    ]);
    expect(chat.posted).toHaveLength(1);
    const [entry] = chat.posted;
    const versions = entry?.versions.map(messageText) ?? [];
    expect(versions[0]).toContain('Backup of full: queued');
    expect(versions[0]).toContain('Components: app-db, uploads, cache');
    expect(versions[0]).toContain('Requested by: console:alice');
    expect(versions[0]).toContain(`Id: ${result.id}`);
    expect(versions[0]).toContain('app-db ? waiting');

    const running = versions.find((v) => v.includes('app-db 50% 4.0 MiB of 8.0 MiB · 2.0 MiB/s'));
    expect(running).toContain('Backup of full: running');

    const final = versions[versions.length - 1];
    expect(final).toContain('Backup of full: completed');
    expect(final).toContain('[success] Backup `bk_');
    expect(final).toContain('3 components, 36.0 MiB in 12.0 s');
    expect(final).toMatch(/`app-db` \(postgres\) 12\.0 MiB · sha256 `[0-9a-f]{12}` · 4\.0 s/);
    expect(final).toContain(`Stored at: /var/lib/lifeboat/backups/${result.id}`);
  });

  it('returns the backup id, sizes, duration, location and components for the CLI', async () => {
    const { chat } = testBot();
    const result = await chat.say('/backup create db');
    expect(result).toMatchObject({
      status: 'completed',
      profile: 'db',
      bytes: 12 * 1024 * 1024,
      durationMs: 4000,
      location: `/var/lib/lifeboat/backups/${result.id}`,
      components: [{ name: 'app-db', kind: 'postgres', bytes: 12 * 1024 * 1024 }],
    });
    expect(result.id).toMatch(/^bk_\d{8}T\d{6}Z_db_[0-9a-z]{4}$/);
    expect(JSON.parse(JSON.stringify(result))).toMatchObject({
      status: 'completed',
      id: result.id,
    });
  });

  it('passes the note and --no-replicate on to the job', async () => {
    const { chat, services } = testBot();
    await chat.say('/backup create quick --note "before the 2.4 migration" --no-replicate');
    expect(services.backupJobs.requests[0]).toEqual({
      profile: 'quick',
      note: 'before the 2.4 migration',
      requestedBy: 'console:alice',
      replicate: false,
    });
    expect(messageText(chat.posted[0]?.versions[0] ?? chat.last())).toContain(
      'Note: before the 2.4 migration',
    );
  });

  it('answers an unknown profile with the valid ones and starts nothing', async () => {
    const { chat, services } = testBot();
    const result = await chat.say('/backup create nightly');
    expect(result.status).toBe('invalid');
    expect(chat.lastText()).toContain('nknown profile "nightly"');
    expect(chat.lastText()).toContain('full, quick, db');
    expect(services.backupJobs.requests).toEqual([]);
  });

  it('asks for a profile when none is given and the config has no default', async () => {
    const config = testConfig({ defaultProfile: undefined });
    const { chat, services } = testBot({ config });
    const result = await chat.say('/backup create');
    expect(result.status).toBe('invalid');
    expect(chat.lastText()).toContain('full, quick, db');
    expect(services.backupJobs.requests).toEqual([]);
  });

  it('posts a failure as an alert with the error and a Retry button', async () => {
    const { chat, services } = testBot();
    services.backupJobs.script({
      kind: 'fail',
      failing: 'uploads',
      error: 'tar: /srv/app/uploads: Permission denied',
    });

    const result = await chat.say('/backup create full --no-replicate');

    expect(result).toMatchObject({
      status: 'failed',
      profile: 'full',
      error: 'tar: /srv/app/uploads: Permission denied',
    });
    const text = chat.lastText();
    expect(text).toContain('Backup of full: failed');
    expect(text).toContain(
      `[danger] Backup \`${result.id}\` failed: tar: /srv/app/uploads: Permission denied`,
    );
    expect(text).toContain('uploads 50% failed: tar: /srv/app/uploads: Permission denied');
    expect(text).toContain('app-db 100% done');
    expect(buttonsOf(chat.last())).toEqual([
      {
        label: 'Retry',
        actionId: 'cmd:backup create full --no-replicate',
        command: '/backup create full --no-replicate',
        style: 'primary',
      },
    ]);
  });

  it('runs the backup again when Retry is clicked, as the person who clicked', async () => {
    const { chat, services } = testBot();
    services.backupJobs.script({ kind: 'fail', failing: 'app-db', error: 'connection refused' });
    await chat.say('/backup create db');

    const retry = await chat.click('Retry', 'bob');

    expect(retry.status).toBe('completed');
    expect(services.backupJobs.requests.map((r) => [r.profile, r.requestedBy])).toEqual([
      ['db', 'console:alice'],
      ['db', 'console:bob'],
    ]);
    expect(chat.posted).toHaveLength(2);
    expect(chat.lastText()).toContain('Backup of db: completed');
  });

  it('says so when it loses track of a backup, without claiming it failed', async () => {
    const { chat, services, logger } = testBot();
    services.backupJobs.script({ kind: 'lose-track', error: new Error('Connection is closed.') });
    const result = await chat.say('/backup create db');
    expect(result.status).toBe('failed');
    expect(chat.lastText()).toContain('Lost track of backup');
    expect(chat.lastText()).toContain(`/backup show ${result.id}`);
    expect(logger.errors().map((e) => e.msg)).toEqual(['lost track of a backup']);
  });

  it('throttles progress updates to one per interval and always sends the final one', async () => {
    const { chat } = testBot({ progressIntervalMs: 60_000 });
    await chat.say('/backup create full');
    const versions = chat.posted[0]?.versions.map(messageText) ?? [];
    // Queued, the first progress report, then the final message: the other five reports of
    // this instant backup fall within one interval.
    expect(versions).toHaveLength(3);
    expect(versions[1]).toContain('running');
    expect(versions[2]).toContain('completed');
  });

  it('keeps going when a progress update fails', async () => {
    const { chat, logger } = testBot();
    const update = chat.reply.update;
    let failures = 1;
    chat.reply.update = async (ref, message) => {
      if (failures-- > 0) throw new Error('ratelimited');
      return update(ref, message);
    };
    const result = await chat.say('/backup create db');
    expect(result.status).toBe('completed');
    expect(chat.lastText()).toContain('completed');
    expect(logger.entries.filter((e) => e.level === 'warn').map((e) => e.msg)).toEqual([
      'progress update failed',
    ]);
  });
});
