import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/backup/manifest.ts';
import { runBackup } from '../../src/backup/run-backup.ts';
import { configSchema, type LifeboatConfig } from '../../src/config/schema.ts';
import { planRestore } from '../../src/restore/plan-restore.ts';
import { runRestore } from '../../src/restore/run-restore.ts';
import { LocalBackupStore } from '../../src/storage/local-backup-store.ts';
import { databaseSettings } from '../support/database-settings.ts';
import { databaseUrl, dropDatabase, sql, uniqueName } from '../support/databases.ts';

describe('database-level settings and comment survive a restore into a database of another name', () => {
  const sourceDb = uniqueName('lb_dbset_src');
  const latinDb = uniqueName('lb_dbset_latin');
  const intoDb = uniqueName('lb_dbset_into');
  const latinInto = uniqueName('lb_dbset_latin_into');
  let dir: string;
  let store: LocalBackupStore;
  let config: LifeboatConfig;
  let manifest: Manifest;

  const restore = (component: string, destination: string, backup = manifest) =>
    runRestore({
      restoreId: 'rs_dbset',
      plan: planRestore({
        manifest: backup,
        config,
        selection: { components: [component], into: { [component]: destination } },
      }),
      manifest: backup,
      config,
      store,
      identities: [],
      stagingDirectory: join(dir, 'staging'),
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-dbset-'));
    await mkdir(join(dir, 'staging'));
    store = new LocalBackupStore({ root: join(dir, 'store') });
    const q = pg.escapeIdentifier;
    await sql(`create database ${q(sourceDb)} template template0`);
    await sql(
      `alter database ${q(sourceDb)} set timezone to 'Pacific/Auckland';
       alter database ${q(sourceDb)} set search_path to 'app', 'public';
       alter database ${q(sourceDb)} set default_transaction_isolation to 'repeatable read';
       alter database ${q(sourceDb)} set statement_timeout to '5min';
       alter database ${q(sourceDb)} connection limit 42;
       alter role current_user in database ${q(sourceDb)} set work_mem to '12MB';
       comment on database ${q(sourceDb)} is 'Shop data; it''s
multi-line';`,
    );
    await sql(
      `create schema app;
       create table app.events (id int, at timestamptz);
       insert into app.events values (1, '2026-01-01 12:00:00+00');`,
      sourceDb,
    );
    await sql(`create database ${q(latinDb)} template template0 encoding 'LATIN1' locale 'C'`);
    await sql(`comment on database ${q(latinDb)} is 'latin'`);
    await sql(
      `create table "café" (name text); insert into "café" values ('crème brûlée')`,
      latinDb,
    );
    config = configSchema.parse({
      targets: {
        'app-db': { kind: 'postgres', url: databaseUrl(sourceDb), environment: 'staging' },
        'latin-db': { kind: 'postgres', url: databaseUrl(latinDb), environment: 'staging' },
        into: { kind: 'postgres', url: databaseUrl(intoDb), environment: 'staging' },
        'latin-into': { kind: 'postgres', url: databaseUrl(latinInto), environment: 'staging' },
      },
      profiles: { dbset: { targets: ['app-db', 'latin-db'] } },
    });
    manifest = await runBackup({
      id: 'bk_20261122T020000Z_dbset_db01',
      profile: 'dbset',
      note: null,
      requestedBy: 'console:alice',
      targets: ['app-db', 'latin-db'].map((name) => ({
        name,
        config: config.targets[name] ?? (undefined as never),
      })),
      compression: 'zstd',
      store,
    });
  }, 60_000);

  afterAll(async () => {
    for (const db of [sourceDb, latinDb, intoDb, latinInto]) await dropDatabase(db);
    await rm(dir, { recursive: true, force: true });
  });

  it('restores the settings, role settings, connection limit and comment under the new name', async () => {
    const results = await restore('app-db', 'into');
    expect(results.error).toBeNull();
    expect(results.components[0]?.notes).toEqual([]);
    const source = await databaseSettings(sourceDb);
    expect(source?.settings).toHaveLength(4);
    expect(await databaseSettings(intoDb)).toEqual(source);
  });

  it('reads timestamps back as the source does (its time zone came along)', async () => {
    const read = (database: string) =>
      sql<{ at: string }>('select at::text as at from app.events', database);
    expect(await read(intoDb)).toEqual(await read(sourceDb));
    expect((await read(intoDb))[0]?.at).toBe('2026-01-02 01:00:00+13');
  });

  it('restores settings over an existing database that had others, replacing them', async () => {
    await sql(`alter database ${pg.escapeIdentifier(intoDb)} set timezone to 'UTC'`);
    await sql(`comment on database ${pg.escapeIdentifier(intoDb)} is 'staging copy'`);
    const results = await restore('app-db', 'into');
    expect(results.error).toBeNull();
    expect(await databaseSettings(intoDb)).toEqual(await databaseSettings(sourceDb));
  });

  it("creates the database with the backup's encoding and locale, odd names read right", async () => {
    const results = await restore('latin-db', 'latin-into');
    expect(results.error).toBeNull();
    expect(results.components[0]?.checks).toEqual([
      { name: 'public.café rows', expected: 1, actual: 1, ok: true },
    ]);
    expect(await databaseSettings(latinInto)).toMatchObject({
      encoding: 'LATIN1',
      collate: 'C',
      ctype: 'C',
      comment: 'latin',
    });
    expect(await sql('select name from "café"', latinInto)).toEqual([{ name: 'crème brûlée' }]);
  });
});
