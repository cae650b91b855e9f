import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Catalog, openCatalog } from '../../src/catalog/open-catalog.ts';
import { configSchema, type LifeboatConfig } from '../../src/config/schema.ts';
import { LifeboatError } from '../../src/core/errors.ts';
import { type PruneReport, prune } from '../../src/retention/prune.ts';
import type { BackupStore } from '../../src/storage/backup-store.ts';
import { LocalBackupStore } from '../../src/storage/local-backup-store.ts';
import { databaseUrl, dropDatabase, sql, uniqueName } from '../support/databases.ts';
import {
  keysOf,
  markVerified,
  recordVerification,
  type StoredBackup,
  storeBackup,
} from '../support/stored-backups.ts';

const config: LifeboatConfig = configSchema.parse({
  targets: { files: { kind: 'directory', path: '/srv/files' } },
  profiles: {
    daily: { targets: ['files'], retention: { daily: 3, minKeep: 2 } },
    adhoc: { targets: ['files'] },
  },
});

/** A store whose deletes fail for keys under one backup, as a store that refuses them would. */
function refusingDeletesOf(store: BackupStore, id: string): BackupStore {
  return {
    name: store.name,
    put: (key, body, options) => store.put(key, body, options),
    putBytes: (key, body) => store.putBytes(key, body),
    get: (key) => store.get(key),
    stat: (key) => store.stat(key),
    list: (prefix) => store.list(prefix),
    describe: (key) => store.describe(key),
    async delete(key) {
      if (key.startsWith(`${id}/`)) throw new Error('permission denied');
      return store.delete(key);
    },
    async deleteAll(prefix) {
      if (prefix.startsWith(`${id}/`)) throw new Error('permission denied');
      return store.deleteAll(prefix);
    },
  };
}

describe('pruning with the PostgreSQL catalog and local stores', () => {
  const database = uniqueName('lb_prune');
  let dir: string;
  let catalog: Catalog;
  let primary: LocalBackupStore;
  let replica: LocalBackupStore;
  const seeded = new Map<string, StoredBackup>();
  const id = (key: string) => seeded.get(key)?.id ?? `missing ${key}`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-prune-'));
    primary = new LocalBackupStore({ root: join(dir, 'primary') });
    replica = new LocalBackupStore({ root: join(dir, 'replica') });
    catalog = await openCatalog(databaseUrl(database));
    await catalog.migrate();
    const seed = async (key: string, profile: string, iso: string) => {
      const backup = await storeBackup({
        store: primary,
        replicas: [replica],
        catalog,
        database,
        profile,
        at: new Date(iso),
        bytes: 1000,
      });
      seeded.set(key, backup);
    };
    await seed('22b', 'daily', '2026-11-22T02:00:00Z');
    await seed('22a', 'daily', '2026-11-22T01:00:00Z');
    for (const day of ['21', '20', '19', '18', '17']) {
      await seed(day, 'daily', `2026-11-${day}T02:00:00Z`);
    }
    await seed('adhoc-1', 'adhoc', '2026-10-01T00:00:00Z');
    await seed('adhoc-2', 'adhoc', '2026-09-01T00:00:00Z');
    // Only the oldest backup of `daily` passed a verification.
    await markVerified(database, id('17'));
    // A failed and a running backup of the profile are not retention's business.
    await catalog.backups.createQueued({
      id: 'bk_20261116T020000Z_daily_fail',
      profile: 'daily',
      note: null,
      requestedBy: 'scheduler:cron',
      targets: ['files'],
    });
    await catalog.backups.markFailed('bk_20261116T020000Z_daily_fail', 'pg_dump: gone');
  });

  afterAll(async () => {
    await catalog?.close();
    await dropDatabase(database);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const deps = () => ({
    config,
    retention: catalog.retention,
    stores: [primary, replica],
    claims: catalog.backupClaims,
  });
  const deletedIds = (report: PruneReport, profile: string) =>
    report.profiles.find((p) => p.profile === profile)?.deleted.map((d) => d.id);

  it('a dry run lists what would go and why, and deletes nothing', async () => {
    const report = await prune(deps(), { requestedBy: 'console:alice', dryRun: true });
    const daily = report.profiles.find((p) => p.profile === 'daily');
    expect(daily?.deleted.map((d) => [d.id, d.reasons])).toEqual([
      [id('19'), ['delete: no rule keeps it']],
      [id('18'), ['delete: no rule keeps it']],
    ]);
    expect(daily?.kept.map((d) => [d.id, d.reasons])).toEqual([
      [id('22b'), ['keep: daily #1 (2026-11-22)', 'keep: minKeep #1']],
      [id('22a'), ['keep: minKeep #2']],
      [id('21'), ['keep: daily #2 (2026-11-21)']],
      [id('20'), ['keep: daily #3 (2026-11-20)']],
      [id('17'), ['keep: newest verified']],
    ]);
    expect(daily?.freedBytes).toBe(2000);
    expect(report.profiles.find((p) => p.profile === 'adhoc')).toMatchObject({
      policy: null,
      deleted: [],
    });

    for (const backup of seeded.values()) {
      expect(await keysOf(primary, backup.id)).toHaveLength(2);
      expect(await keysOf(replica, backup.id)).toHaveLength(2);
      expect((await catalog.backups.get(backup.id))?.status).toBe('completed');
    }
  });

  it('deletes exactly the planned backups from every store and marks them pruned', async () => {
    const planned = await prune(deps(), { requestedBy: 'console:alice', dryRun: true });
    const report = await prune(deps(), { requestedBy: 'console:alice', dryRun: false });
    expect(deletedIds(report, 'daily')).toEqual(deletedIds(planned, 'daily'));
    expect(report.profiles.flatMap((p) => p.failures)).toEqual([]);

    const gone = new Set([id('19'), id('18')]);
    for (const backup of seeded.values()) {
      const record = await catalog.backups.get(backup.id);
      if (gone.has(backup.id)) {
        expect(await keysOf(primary, backup.id)).toEqual([]);
        expect(await keysOf(replica, backup.id)).toEqual([]);
        expect(record?.status).toBe('pruned');
        expect(record?.prunedAt).toBeInstanceOf(Date);
        expect(record?.prunedReason).toBe('delete: no rule keeps it (pruned by console:alice)');
        // The history stays: who took it and its manifest.
        expect(record?.manifest?.id).toBe(backup.id);
      } else {
        expect(await keysOf(primary, backup.id)).toHaveLength(2);
        expect(await keysOf(replica, backup.id)).toHaveLength(2);
        expect(record?.status).toBe('completed');
      }
    }
    // The newest verified backup survives, though no count rule keeps it.
    expect((await catalog.backups.get(id('17')))?.status).toBe('completed');
    expect((await catalog.backups.get('bk_20261116T020000Z_daily_fail'))?.status).toBe('failed');
  });

  it('lists pruned backups only when asked, and never picks one as the latest', async () => {
    const listed = await catalog.backups.list({ profile: 'daily', limit: 100 });
    expect(listed.map((b) => b.id)).not.toContain(id('19'));
    expect(listed.map((b) => b.status)).not.toContain('pruned');
    const all = await catalog.backups.list({ profile: 'daily', limit: 100, includePruned: true });
    expect(all.filter((b) => b.status === 'pruned').map((b) => b.id)).toEqual([id('19'), id('18')]);
    expect((await catalog.backups.latestCompleted('daily'))?.id).toBe(id('22b'));
  });

  it('prunes nothing more when run again', async () => {
    const report = await prune(deps(), { requestedBy: 'console:alice', dryRun: false });
    expect(report.profiles.flatMap((p) => p.deleted)).toEqual([]);
  });

  it('never runs a pruned backup again, nor fails it', async () => {
    await expect(catalog.backups.markRunning(id('19'), { attempt: 1 })).rejects.toMatchObject({
      code: 'backup_already_completed',
    });
    expect((await catalog.backups.markFailed(id('19'), 'late failure')).status).toBe('pruned');
  });

  it('reports a backup it cannot delete, leaves it whole and goes on with the next', async () => {
    const older = await storeBackup({
      store: primary,
      catalog,
      database,
      profile: 'daily',
      at: new Date('2026-11-10T02:00:00Z'),
    });
    const oldest = await storeBackup({
      store: primary,
      catalog,
      database,
      profile: 'daily',
      at: new Date('2026-11-09T02:00:00Z'),
    });
    const report = await prune(
      {
        config,
        retention: catalog.retention,
        stores: [refusingDeletesOf(primary, older.id)],
        claims: catalog.backupClaims,
      },
      { profile: 'daily', requestedBy: 'console:alice', dryRun: false },
    );
    const daily = report.profiles[0];
    expect(daily?.failures).toEqual([
      {
        id: older.id,
        error: expect.stringMatching(
          /could not delete .*manifest\.json: permission denied; the backup is left as it was/,
        ),
      },
    ]);
    expect(daily?.deleted.map((d) => d.id)).toEqual([oldest.id]);
    expect((await catalog.backups.get(older.id))?.status).toBe('completed');
    expect(await keysOf(primary, older.id)).toHaveLength(2);
    expect(await keysOf(primary, oldest.id)).toEqual([]);
  });

  it('keeps the status CHECK: pruned is a status, bogus is not, and pruned needs its time', async () => {
    const [constraint] = await sql<{ def: string }>(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
        WHERE conrelid = 'backups'::regclass AND conname = 'backups_status_check'`,
      database,
    );
    expect(constraint?.def).toContain("'pruned'");
    await expect(
      sql("UPDATE backups SET status = 'bogus' WHERE id = $1", database, [id('21')]),
    ).rejects.toThrow(/backups_status_check/);
    await expect(
      sql("UPDATE backups SET status = 'pruned' WHERE id = $1", database, [id('21')]),
    ).rejects.toThrow(/backups_pruned_check/);
  });

  it('rejects marking a backup pruned twice', async () => {
    expect(await catalog.retention.markPruned(id('19'), 'again')).toBe(false);
    const error = await catalog.backups.markRunning('bk_nope', { attempt: 1 }).catch((e) => e);
    expect(error).toBeInstanceOf(LifeboatError);
  });
});

describe('the newest verified backup, in the PostgreSQL catalog', () => {
  const database = uniqueName('lb_prune_vf');
  let dir: string;
  let catalog: Catalog;
  let store: LocalBackupStore;
  const kept: LifeboatConfig = configSchema.parse({
    targets: { files: { kind: 'directory', path: '/srv/files' } },
    profiles: { daily: { targets: ['files'], retention: { keepLast: 1 } } },
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-prune-vf-'));
    store = new LocalBackupStore({ root: dir });
    catalog = await openCatalog(databaseUrl(database));
    await catalog.migrate();
  });

  afterAll(async () => {
    await catalog?.close();
    await dropDatabase(database);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is one whose most recent verification passed, never one that failed since', async () => {
    const seed = (iso: string) =>
      storeBackup({ store, catalog, database, profile: 'daily', at: new Date(iso) });
    const newest = await seed('2026-11-22T02:00:00Z');
    const middle = await seed('2026-11-21T02:00:00Z');
    const oldest = await seed('2026-11-20T02:00:00Z');
    // The newest passed once and failed since; the oldest failed once and passed since.
    await recordVerification(database, newest.id, 'passed', new Date('2026-11-22T03:00:00Z'));
    await recordVerification(database, newest.id, 'failed', new Date('2026-11-22T09:00:00Z'));
    await recordVerification(database, oldest.id, 'failed', new Date('2026-11-20T03:00:00Z'));
    await recordVerification(database, oldest.id, 'passed', new Date('2026-11-21T03:00:00Z'));

    const report = await prune(
      { config: kept, retention: catalog.retention, stores: [store], claims: catalog.backupClaims },
      { requestedBy: 'console:alice', dryRun: false },
    );
    const daily = report.profiles[0];
    expect(daily?.kept.map((b) => [b.id, b.verified, b.reasons])).toEqual([
      [newest.id, false, ['keep: last #1']],
      [oldest.id, true, ['keep: newest verified']],
    ]);
    expect(daily?.deleted.map((b) => b.id)).toEqual([middle.id]);
    expect((await catalog.backups.get(oldest.id))?.status).toBe('completed');
    expect(await keysOf(store, oldest.id)).toHaveLength(2);
    expect((await catalog.backups.get(middle.id))?.status).toBe('pruned');
  });
});

describe('verifications that could not check, in the PostgreSQL catalog', () => {
  const database = uniqueName('lb_prune_vfe');
  let dir: string;
  let catalog: Catalog;
  let store: LocalBackupStore;
  const kept: LifeboatConfig = configSchema.parse({
    targets: { files: { kind: 'directory', path: '/srv/files' } },
    profiles: { daily: { targets: ['files'], retention: { keepLast: 1 } } },
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-prune-vfe-'));
    store = new LocalBackupStore({ root: dir });
    catalog = await openCatalog(databaseUrl(database));
    await catalog.migrate();
  });

  afterAll(async () => {
    await catalog?.close();
    await dropDatabase(database);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('are no verdict: a backup that passed and could not be checked since stays the newest verified', async () => {
    const seed = (iso: string) =>
      storeBackup({ store, catalog, database, profile: 'daily', at: new Date(iso) });
    const newest = await seed('2026-11-22T02:00:00Z');
    const middle = await seed('2026-11-21T02:00:00Z');
    const oldest = await seed('2026-11-20T02:00:00Z');
    await recordVerification(database, middle.id, 'passed', new Date('2026-11-21T03:00:00Z'));
    // The store was unreachable, say: nothing is known about the backup from that one.
    await recordVerification(database, middle.id, 'error', new Date('2026-11-22T03:00:00Z'));
    await recordVerification(database, oldest.id, 'passed', new Date('2026-11-20T03:00:00Z'));
    await recordVerification(database, newest.id, 'error', new Date('2026-11-22T04:00:00Z'));

    const report = await prune(
      { config: kept, retention: catalog.retention, stores: [store], claims: catalog.backupClaims },
      { requestedBy: 'console:alice', dryRun: false },
    );
    const daily = report.profiles[0];
    expect(daily?.kept.map((b) => [b.id, b.verified, b.reasons])).toEqual([
      [newest.id, false, ['keep: last #1']],
      [middle.id, true, ['keep: newest verified']],
    ]);
    expect(daily?.deleted.map((b) => b.id)).toEqual([oldest.id]);
  });
});

describe('pruning with two configs sharing one catalog', () => {
  const database = uniqueName('lb_prune_two');
  let dir: string;
  let catalog: Catalog;
  let ours: LocalBackupStore;
  let theirs: LocalBackupStore;
  const policy: LifeboatConfig = configSchema.parse({
    targets: { files: { kind: 'directory', path: '/srv/files' } },
    profiles: { daily: { targets: ['files'], retention: { keepLast: 1 } } },
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-prune-two-'));
    ours = new LocalBackupStore({ root: join(dir, 'ours') });
    theirs = new LocalBackupStore({ root: join(dir, 'theirs') });
    catalog = await openCatalog(databaseUrl(database));
    await catalog.migrate();
  });

  afterAll(async () => {
    await catalog?.close();
    await dropDatabase(database);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("plans, deletes and marks only the backups in this config's stores, listing the others", async () => {
    const seed = (store: LocalBackupStore, iso: string) =>
      storeBackup({ store, catalog, database, profile: 'daily', at: new Date(iso) });
    const theirNewest = await seed(theirs, '2026-11-22T02:00:00Z');
    const theirOlder = await seed(theirs, '2026-11-21T02:00:00Z');
    const ourNewest = await seed(ours, '2026-11-20T02:00:00Z');
    const ourOlder = await seed(ours, '2026-11-19T02:00:00Z');

    const dry = await prune(
      {
        config: policy,
        retention: catalog.retention,
        stores: [ours],
        claims: catalog.backupClaims,
      },
      { requestedBy: 'console:alice', dryRun: true },
    );
    expect(dry.profiles[0]?.deleted.map((b) => b.id)).toEqual([ourOlder.id]);

    const report = await prune(
      {
        config: policy,
        retention: catalog.retention,
        stores: [ours],
        claims: catalog.backupClaims,
      },
      { requestedBy: 'console:alice', dryRun: false },
    );
    const daily = report.profiles[0];
    expect(daily?.kept.map((b) => b.id)).toEqual([ourNewest.id]);
    expect(daily?.deleted.map((b) => b.id)).toEqual([ourOlder.id]);
    expect(daily?.elsewhere).toEqual([
      { id: theirNewest.id, location: theirs.describe(theirNewest.id) },
      { id: theirOlder.id, location: theirs.describe(theirOlder.id) },
    ]);
    for (const backup of [theirNewest, theirOlder]) {
      expect((await catalog.backups.get(backup.id))?.status).toBe('completed');
      expect(await keysOf(theirs, backup.id)).toHaveLength(2);
    }
    expect((await catalog.backups.get(ourOlder.id))?.status).toBe('pruned');
    expect(await keysOf(ours, ourOlder.id)).toEqual([]);
  });
});
