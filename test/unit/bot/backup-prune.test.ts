import { describe, expect, it } from 'vitest';
import { renderMessage } from '../../../src/chat/console/render-text.ts';
import { completedBackup } from '../../doubles/sample-backups.ts';
import { testBot } from '../../doubles/test-bot.ts';
import { testConfig } from '../../doubles/test-config.ts';

const at = (iso: string) => new Date(iso);

function botWithHistory() {
  const config = testConfig({
    profiles: {
      full: {
        targets: ['app-db', 'uploads', 'cache'],
        retention: { daily: 2, minKeep: 1 },
      },
      quick: { targets: ['app-db', 'uploads'], retention: { keepLast: 1 } },
      db: { targets: ['app-db'] },
    },
  });
  const bot = testBot({ config });
  const full = ['2026-11-22', '2026-11-21', '2026-11-20', '2026-11-19'].map((day) =>
    completedBackup(config, { profile: 'full', createdAt: at(`${day}T02:00:00Z`) }),
  );
  const quick = ['2026-11-22T06:00:00Z', '2026-11-22T00:00:00Z'].map((iso) =>
    completedBackup(config, { profile: 'quick', createdAt: at(iso) }),
  );
  const db = completedBackup(config, { profile: 'db', createdAt: at('2026-11-22T09:00:00Z') });
  bot.services.backups.add(...full, ...quick, db);
  // The oldest backup of full passed a verification; the newer ones were never verified.
  const [f22, f21, f20, f19] = full as [
    (typeof full)[0],
    (typeof full)[0],
    (typeof full)[0],
    (typeof full)[0],
  ];
  bot.services.retention.verified.add(f19.id);
  return { ...bot, full: { f22, f21, f20, f19 }, quick, db };
}

interface ProfileResult {
  profile: string;
  hasPolicy: boolean;
  deleted: { id: string; reasons: string[] }[];
  kept: { id: string; reasons: string[] }[];
  freedBytes: number;
}

describe('/backup prune --dry-run', () => {
  it('lists per profile what would go and why, what stays and why, and changes nothing', async () => {
    const { chat, services, full, quick } = botWithHistory();
    const result = await chat.say('/backup prune --dry-run');
    expect(result.status).toBe('ok');
    expect(result.dryRun).toBe(true);
    const profiles = result.profiles as ProfileResult[];
    expect(profiles.map((p) => p.profile)).toEqual(['full', 'quick', 'db']);

    const [fullPlan, quickPlan, dbPlan] = profiles;
    expect(fullPlan?.deleted).toEqual([{ id: full.f20.id, reasons: ['delete: no rule keeps it'] }]);
    expect(fullPlan?.kept).toEqual([
      { id: full.f22.id, reasons: ['keep: daily #1 (2026-11-22)', 'keep: minKeep #1'] },
      { id: full.f21.id, reasons: ['keep: daily #2 (2026-11-21)'] },
      { id: full.f19.id, reasons: ['keep: newest verified'] },
    ]);
    expect(fullPlan?.freedBytes).toBe(full.f20.bytes);
    expect(quickPlan?.deleted.map((d) => d.id)).toEqual([quick[1]?.id]);
    expect(dbPlan).toMatchObject({ hasPolicy: false, deleted: [] });

    // Nothing was pruned.
    for (const record of services.backups.records.values()) {
      expect(record.status).toBe('completed');
    }
    expect(services.retention.requests).toEqual([{ requestedBy: 'console:alice', dryRun: true }]);
  });

  it('reads as a person would see it in the console', async () => {
    const { chat, full } = botWithHistory();
    await chat.say('/backup prune --dry-run');
    const rendered = renderMessage(chat.last());
    // The console wraps prose at its width; the table is not wrapped.
    const text = rendered.replace(/[ \n]+/g, ' ');
    expect(text).toContain('Prune plan (dry run)');
    expect(text).toContain(
      'full (daily 2, minKeep 1): would delete 1 backup (36.0 MiB), keeps 3 backups (108.0 MiB).',
    );
    expect(rendered).toMatch(
      new RegExp(`DELETE\\s+${full.f20.id}\\s+2026-11-20 02:00\\s+36\\.0 MiB\\s+no rule keeps it`),
    );
    expect(rendered).toMatch(
      new RegExp(
        `KEEP\\s+${full.f22.id}\\s+2026-11-22 02:00\\s+36\\.0 MiB\\s+daily #1 \\(2026-11-22\\), minKeep #1`,
      ),
    );
    expect(rendered).toMatch(new RegExp(`KEEP\\s+${full.f19.id}.*newest verified`));
    expect(text).toContain('db: no retention policy, so every backup is kept (1 backup)');
    expect(text).toContain(
      'Dry run: nothing was deleted. It would delete 2 backups, 60.0 MiB. Run the same command without --dry-run to delete them.',
    );
  });

  it('plans one profile with --profile', async () => {
    const { chat } = botWithHistory();
    const result = await chat.say('/backup prune --profile quick --dry-run');
    expect((result.profiles as ProfileResult[]).map((p) => p.profile)).toEqual(['quick']);
    expect(chat.lastText()).not.toContain('full');
  });

  it('refuses an unknown profile, naming the valid ones', async () => {
    const { chat, services } = botWithHistory();
    const result = await chat.say('/backup prune --profile ful --dry-run');
    expect(result.status).toBe('invalid');
    expect(chat.lastText()).toContain('full');
    expect(services.retention.requests).toEqual([]);
  });
});

describe('/backup prune', () => {
  it('prunes what the plan said, and the pruned backups leave the list but keep their history', async () => {
    const { chat, services, full, quick } = botWithHistory();
    const result = await chat.say('/backup prune');
    expect(result.status).toBe('ok');
    expect(result.dryRun).toBe(false);
    const deleted = (result.profiles as ProfileResult[]).flatMap((p) => p.deleted.map((d) => d.id));
    expect(deleted).toEqual([full.f20.id, quick[1]?.id]);

    // One message, first saying it is pruning, then the report.
    const message = chat.posted.at(-1);
    expect(message?.versions[0]?.text).toBe(
      'Pruning the backups of every profile by their retention policies…',
    );
    expect(renderMessage(chat.last())).toContain(
      'Deleted 2 backups, 60.0 MiB. Requested by console:alice.',
    );

    expect(services.backups.records.get(full.f20.id)?.status).toBe('pruned');
    expect(services.backups.records.get(full.f19.id)?.status).toBe('completed');
    const listed = await chat.say('/backup list');
    const ids = (listed.backups as { id: string }[]).map((b) => b.id);
    expect(ids).toHaveLength(5);
    expect(ids).not.toContain(full.f20.id);

    await chat.say(`/backup show ${full.f20.id}`);
    expect(chat.lastText()).toContain(
      '[info] Pruned 2026-11-22 12:00:00 UTC: delete: no rule keeps it (pruned by console:alice). Its objects are deleted; it cannot be restored.',
    );
  });

  it('deletes nothing more when run again', async () => {
    const { chat } = botWithHistory();
    await chat.say('/backup prune');
    const again = await chat.say('/backup prune --dry-run');
    const deleted = (again.profiles as ProfileResult[]).flatMap((p) => p.deleted);
    expect(deleted).toEqual([]);
  });

  it('leaves alone a backup recorded in another store, and says where it is', async () => {
    const { chat, services, full } = botWithHistory();
    services.retention.elsewhere.set(full.f20.id, `s3://other-bucket/${full.f20.id}`);
    const result = await chat.say('/backup prune --profile full');
    const [report] = result.profiles as (ProfileResult & { elsewhere: unknown })[];
    expect(report?.deleted).toEqual([]);
    expect(report?.elsewhere).toEqual([
      { id: full.f20.id, location: `s3://other-bucket/${full.f20.id}` },
    ]);
    expect(services.backups.records.get(full.f20.id)?.status).toBe('completed');
    expect(chat.lastText()).toContain(
      `Left alone: 1 backup of full recorded in another store (is another config using this catalog?): ${full.f20.id} (s3://other-bucket/${full.f20.id}).`,
    );
  });

  it('leaves a backup something reads for the next prune, saying who reads it', async () => {
    const { chat, services, full } = botWithHistory();
    services.retention.inUse.set(full.f20.id, 'restore rs_20261122T120000Z_abc123');
    const result = await chat.say('/backup prune --profile full');
    const [report] = result.profiles as (ProfileResult & { inUse: unknown })[];
    expect(report?.deleted).toEqual([]);
    expect(report?.inUse).toEqual([
      { id: full.f20.id, heldBy: ['restore rs_20261122T120000Z_abc123'] },
    ]);
    expect(result.status).toBe('ok');
    expect(services.backups.records.get(full.f20.id)?.status).toBe('completed');
    expect(chat.lastText()).toContain(
      `Left for the next prune: ${full.f20.id} (in use by restore rs_20261122T120000Z_abc123).`,
    );
  });
});
