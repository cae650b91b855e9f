import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/backup/manifest.ts';
import { runBackup } from '../../src/backup/run-backup.ts';
import { configSchema, type LifeboatConfig } from '../../src/config/schema.ts';
import { withDefaultUser } from '../../src/postgres/connection-url.ts';
import { planRestore } from '../../src/restore/plan-restore.ts';
import {
  REPLACED_PREFIX,
  RESTORING_PREFIX,
} from '../../src/restore/restorers/postgres/replacement-names.ts';
import { sweepRestoreLeftovers } from '../../src/restore/restorers/postgres/sweep-leftovers.ts';
import { type RestoreResults, runRestore } from '../../src/restore/run-restore.ts';
import { LocalBackupStore } from '../../src/storage/local-backup-store.ts';
import type { RestoreChildJob } from '../support/children/restore-child.ts';
import {
  createPgbenchDatabase,
  databaseExists,
  databaseUrl,
  dropDatabase,
  sql,
  tableChecksums,
  uniqueName,
} from '../support/databases.ts';

/** Everything about a database a restore may change: its tables' rows, its views, its comment. */
async function snapshot(database: string) {
  const [views, comment] = await Promise.all([
    sql<{ name: string }>(
      "select schemaname || '.' || viewname as name from pg_views where schemaname = 'public' order by 1",
      database,
    ),
    sql<{ comment: string | null }>(
      'select shobj_description(oid, $2) as comment from pg_database where datname = $1',
      'postgres',
      [database, 'pg_database'],
    ),
  ]);
  return {
    tables: await tableChecksums(database),
    views: views.map((v) => v.name),
    comment: comment[0]?.comment ?? null,
  };
}

/** Databases a restore made beside its destination that are still on the server. */
async function leftovers(): Promise<string[]> {
  const rows = await sql<{ name: string }>(
    'select datname as name from pg_database where starts_with(datname, $1) or starts_with(datname, $2)',
    'postgres',
    [RESTORING_PREFIX, REPLACED_PREFIX],
  );
  return rows.map((r) => r.name);
}

describe('postgres restores leave a destination restored and validated, or exactly as it was', () => {
  const sourceDb = uniqueName('lb_atom_src');
  const destDb = uniqueName('lb_atom_dst');
  const role = uniqueName('lb_atom_role');
  let dir: string;
  let store: LocalBackupStore;
  let config: LifeboatConfig;
  let manifest: Manifest;
  let sourceTables: Record<string, string>;

  const configWith = (destinationUrl: string) =>
    configSchema.parse({
      targets: {
        'app-db': { kind: 'postgres', url: databaseUrl(sourceDb), environment: 'staging' },
        dest: { kind: 'postgres', url: destinationUrl, environment: 'staging' },
      },
      profiles: { atom: { targets: ['app-db'] } },
    });

  const restore = (
    extra: Partial<Parameters<typeof runRestore>[0]> = {},
    backup: Manifest = manifest,
    into: LifeboatConfig = config,
  ): Promise<RestoreResults> =>
    runRestore({
      restoreId: 'rs_atom',
      plan: planRestore({
        manifest: backup,
        config: into,
        selection: { into: { 'app-db': 'dest' } },
      }),
      manifest: backup,
      config: into,
      store,
      identities: [],
      stagingDirectory: join(dir, 'staging'),
      ...extra,
    });

  /** The destination as a first restore left it, with a view of its own depending on a table. */
  const destinationWithDependentView = async () => {
    await dropDatabase(destDb);
    const first = await restore();
    expect(first.ok).toBe(true);
    await sql(
      `create view extra_totals as select bid, count(*) as n from pgbench_accounts group by bid;
       comment on database ${pg.escapeIdentifier(destDb)} is 'as it was'`,
      destDb,
    );
    return snapshot(destDb);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-atomic-'));
    await mkdir(join(dir, 'staging'));
    store = new LocalBackupStore({ root: join(dir, 'store') });
    await createPgbenchDatabase(sourceDb, 1);
    await sql(
      `create table extra (id int primary key, note text);
       insert into extra select i, 'n' || i from generate_series(1, 500) i;`,
      sourceDb,
    );
    config = configWith(databaseUrl(destDb));
    manifest = await runBackup({
      id: 'bk_20261122T020000Z_atom_at01',
      profile: 'atom',
      note: null,
      requestedBy: 'console:alice',
      targets: [{ name: 'app-db', config: config.targets['app-db'] ?? (undefined as never) }],
      compression: 'zstd',
      store,
    });
    sourceTables = await tableChecksums(sourceDb);
    await sql(`create role ${role} login`);
  }, 120_000);

  afterAll(async () => {
    await dropDatabase(sourceDb);
    await dropDatabase(destDb);
    await sql(`drop role if exists ${role}`);
    await rm(dir, { recursive: true, force: true });
  });

  it('restores over a database whose own view depends on a table of the backup, and says it is restored and validated', async () => {
    await destinationWithDependentView();
    await sql('delete from extra where id > 10', destDb);

    const results = await restore();

    expect(results.error).toBeNull();
    expect(results.components[0]).toMatchObject({
      status: 'restored',
      ok: true,
      destinationState: 'restored',
    });
    const after = await snapshot(destDb);
    expect(after.tables).toEqual(sourceTables);
    expect(after.views).toEqual([]);
    expect(results.components[0]?.notes).toContain(
      'not in the backup, so gone with the database it replaced: view public.extra_totals',
    );
    expect(await leftovers()).toEqual([]);
  });

  it('leaves the destination exactly as it was when a check fails, and says it is unchanged', async () => {
    const before = await destinationWithDependentView();
    const tampered: Manifest = {
      ...manifest,
      components: manifest.components.map((c) =>
        c.source.kind === 'postgres'
          ? {
              ...c,
              source: {
                ...c.source,
                tables: c.source.tables.map((t) =>
                  t.table === 'extra' ? { ...t, rows: t.rows + 1 } : t,
                ),
              },
            }
          : c,
      ),
    };

    const results = await restore({}, tampered);

    expect(results.ok).toBe(false);
    // Not restored: the mismatch was found before the swap, so nothing was put in place.
    expect(results.components[0]).toMatchObject({
      status: 'failed',
      destinationState: 'unchanged',
    });
    expect(results.error).toContain('public.extra rows: 501 expected, 500 found');
    expect(results.error).toContain('dest: unchanged');
    expect(await snapshot(destDb)).toEqual(before);
    expect(await leftovers()).toEqual([]);
  });

  it('leaves the destination exactly as it was when the restore is cancelled mid pg_restore', async () => {
    const before = await destinationWithDependentView();
    const controller = new AbortController();
    const error = await restore({
      signal: controller.signal,
      onProgress: (p) => {
        if (p.message?.startsWith('restored the data of 1 of')) controller.abort();
      },
    }).catch((e: unknown) => e);

    expect(controller.signal.aborted).toBe(true);
    expect(error).toMatchObject({ destination: 'unchanged' });
    expect(await snapshot(destDb)).toEqual(before);
    expect(await leftovers()).toEqual([]);
  });

  it('refuses a destination holding a table with rows the backup does not hold, changing nothing', async () => {
    await destinationWithDependentView();
    await sql('create table local_notes (id int); insert into local_notes values (1)', destDb);
    const before = await snapshot(destDb);

    const results = await restore();

    expect(results.ok).toBe(false);
    expect(results.components[0]).toMatchObject({
      status: 'failed',
      destinationState: 'unchanged',
    });
    expect(results.error).toContain(
      'holds a table with rows that the backup does not: public.local_notes',
    );
    expect(results.error).toContain('dest: unchanged');
    expect(await snapshot(destDb)).toEqual(before);
    await sql('drop table local_notes', destDb);
  });

  it("ends the destination's sessions and swaps the restored database in", async () => {
    await destinationWithDependentView();
    const session = new pg.Client({ connectionString: withDefaultUser(databaseUrl(destDb)) });
    const ended = new Promise<Error>((resolve) => session.on('error', resolve));
    await session.connect();
    await session.query('select 1');

    const results = await restore();

    expect(results.ok).toBe(true);
    expect((await ended).message).toMatch(/terminat/i);
    await session.end().catch(() => {});
    expect((await snapshot(destDb)).tables).toEqual(sourceTables);
  });

  it('refuses before staging anything when the destination user lacks CREATEDB, naming it', async () => {
    await dropDatabase(destDb);
    await sql(`create database ${destDb} owner ${role}`);
    const asRole = configWith(`postgres://${role}@127.0.0.1:5432/${destDb}`);

    const error = await restore({}, manifest, asRole).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'restore_privilege_missing' });
    expect((error as Error).message).toContain(
      `needs the role ${role} to have the CREATEDB privilege (ALTER ROLE "${role}" CREATEDB)`,
    );
    expect((error as Error).message).toContain('Nothing was changed');
    expect(await readdir(join(dir, 'staging'))).toEqual([]);
    expect(await tableChecksums(destDb)).toEqual({});
  });

  it('refuses a destination owned by another role, naming the owner', async () => {
    await sql(`alter role ${role} createdb`);
    await dropDatabase(destDb);
    await sql(`create database ${destDb}`);
    const asRole = configWith(`postgres://${role}@127.0.0.1:5432/${destDb}`);

    const error = await restore({}, manifest, asRole).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'restore_privilege_missing' });
    expect((error as Error).message).toMatch(
      new RegExp(`needs the role ${role} to have ownership of ${destDb}, now owned by \\w+`),
    );
  });

  it('restores as a role that has CREATEDB and owns the destination, the owner kept', async () => {
    await dropDatabase(destDb);
    await sql(`create database ${destDb} owner ${role}`);
    const asRole = configWith(`postgres://${role}@127.0.0.1:5432/${destDb}`);

    const results = await restore({}, manifest, asRole);

    expect(results.error).toBeNull();
    const [owner] = await sql<{ owner: string }>(
      'select pg_get_userbyid(datdba) as owner from pg_database where datname = $1',
      'postgres',
      [destDb],
    );
    expect(owner?.owner).toBe(role);
    expect(await tableChecksums(destDb)).toEqual(sourceTables);
  });

  it("refuses to replace Lifeboat's own catalog database", async () => {
    const error = await restore({ catalogUrl: databaseUrl(destDb) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'restore_into_catalog' });
    expect(await databaseExists(destDb)).toBe(true);
  });

  it('drops what a restore killed mid-way left, and never what a live restore is using', async () => {
    const before = await destinationWithDependentView();
    const job: RestoreChildJob = {
      storeRoot: join(dir, 'store'),
      backupId: manifest.id,
      component: 'app-db',
      destinationUrl: databaseUrl(destDb),
      stagingDirectory: join(dir, 'staging'),
    };
    const child = spawn(
      process.execPath,
      [
        new URL('../support/children/restore-child.ts', import.meta.url).pathname,
        JSON.stringify(job),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (text: string) => {
        if (text.includes('restoring into lifeboat_restore_')) resolve();
      });
      child.once('exit', () => reject(new Error('the restore ended before it was killed')));
    });
    child.kill('SIGKILL');
    await exited;
    const killed = await leftovers();
    expect(killed).toHaveLength(1);
    expect(await snapshot(destDb)).toEqual(before);

    // A restore in progress elsewhere: its session is connected, so its database is left alone.
    const live = `${RESTORING_PREFIX}livelive_other`;
    await sql(`create database ${live}`);
    const owner = new pg.Client({
      connectionString: withDefaultUser(databaseUrl('postgres')),
      application_name: 'lifeboat restore livelive',
    });
    await owner.connect();
    try {
      const results = await restore();
      expect(results.ok).toBe(true);
      // Dropped by this restore, or already by the start-up sweep of a worker another suite
      // runs against the same server meanwhile: either way gone, and the live one left alone.
      const notes = results.components[0]?.notes?.join('\n') ?? '';
      if (notes.includes('dropped')) expect(notes).toContain(`dropped ${killed[0]}`);
      expect(await leftovers()).toEqual([live]);
    } finally {
      await owner.end();
      await dropDatabase(live);
    }
  });

  it('sweeps the servers of the configured targets when a worker starts, each server once', async () => {
    const left = `${REPLACED_PREFIX}deadbeef_${destDb}`.slice(0, 63);
    await sql(`create database ${pg.escapeIdentifier(left)}`);

    const sweeps = await sweepRestoreLeftovers(config.targets);

    expect(sweeps).toEqual([{ server: '127.0.0.1:5432', dropped: [left], error: null }]);
    expect(await databaseExists(left)).toBe(false);
  });
});
