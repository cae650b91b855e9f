import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/backup/manifest.ts';
import { poolDatabase } from '../../src/catalog/database.ts';
import { applyMigrations, loadMigrations } from '../../src/catalog/migrate.ts';
import { type Catalog, openCatalog } from '../../src/catalog/open-catalog.ts';
import { withDefaultUser } from '../../src/postgres/connection-url.ts';
import {
  databaseExists,
  databaseUrl,
  dropDatabase,
  sql,
  uniqueName,
} from '../support/databases.ts';

const created: string[] = [];
function newDatabaseName(): string {
  const name = uniqueName('lb_catalog');
  created.push(name);
  return name;
}

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
});

function manifestFor(id: string, profile: string): Manifest {
  return {
    format: 'lifeboat.manifest/v1',
    id,
    profile,
    note: 'before the migration',
    requestedBy: 'console:alice',
    lifeboatVersion: '0.1.0',
    startedAt: '2026-11-22T02:00:00.000Z',
    finishedAt: '2026-11-22T02:00:09.000Z',
    durationMs: 9000,
    storage: [{ store: 'local', location: `/var/backups/${id}` }],
    components: [
      {
        name: 'app-db',
        kind: 'postgres',
        object: 'app-db.dump.zst',
        bytes: 6_000_000_000,
        sha256: 'a'.repeat(64),
        rawBytes: 9_000_000_000,
        compression: 'zstd',
        encryption: { format: 'age', recipients: ['age1example'] },
        tools: { pg_dump: '15.20' },
        startedAt: '2026-11-22T02:00:00.000Z',
        finishedAt: '2026-11-22T02:00:08.000Z',
        durationMs: 8000,
        source: {
          kind: 'postgres',
          url: 'postgres://127.0.0.1:5432/app',
          database: 'app',
          serverVersion: '15.20',
          format: 'custom',
          snapshot: '00000003-00000002-1',
          tables: [{ schema: 'public', table: 'users', rows: 42 }],
        },
      },
      {
        name: 'uploads',
        kind: 'directory',
        object: 'uploads.tar.zst',
        bytes: 1234,
        sha256: 'b'.repeat(64),
        rawBytes: 10_240,
        compression: 'zstd',
        encryption: null,
        tools: { tar: '1.34' },
        startedAt: '2026-11-22T02:00:08.000Z',
        finishedAt: '2026-11-22T02:00:09.000Z',
        durationMs: 1000,
        source: {
          kind: 'directory',
          path: '/srv/uploads',
          include: [],
          exclude: ['*.tmp'],
          counts: 'archive',
          files: 3,
          directories: 1,
          bytes: 10_000,
          warnings: [],
        },
      },
    ],
  };
}

describe('opening the catalog', () => {
  it('creates its database when it does not exist', async () => {
    const name = newDatabaseName();
    expect(await databaseExists(name)).toBe(false);

    const catalog = await openCatalog(databaseUrl(name));
    try {
      await catalog.ping();
      expect(await databaseExists(name)).toBe(true);
    } finally {
      await catalog.close();
    }
  });

  it('leaves a missing database missing when told not to create it', async () => {
    const name = newDatabaseName();

    await expect(openCatalog(databaseUrl(name), { createIfMissing: false })).rejects.toMatchObject({
      code: '3D000',
    });
    expect(await databaseExists(name)).toBe(false);
  });

  it('opens twice at once on a missing database, one creating it and the other waiting', async () => {
    const name = newDatabaseName();

    const catalogs = await Promise.all([
      openCatalog(databaseUrl(name)),
      openCatalog(databaseUrl(name)),
    ]);
    try {
      await Promise.all(catalogs.map((c) => c.ping()));
    } finally {
      await Promise.all(catalogs.map((c) => c.close()));
    }
  });

  it('runs nothing implicitly: a new catalog has no tables until migrated', async () => {
    const name = newDatabaseName();
    const catalog = await openCatalog(databaseUrl(name));
    await catalog.close();

    const tables = await sql("SELECT 1 FROM pg_tables WHERE schemaname = 'public'", name);
    expect(tables).toHaveLength(0);
  });
});

describe('migrating the catalog', () => {
  it('applies every migration once and nothing the second time', async () => {
    const catalog = await openCatalog(databaseUrl(newDatabaseName()));
    try {
      const all = (await loadMigrations()).map((m) => m.name);
      expect(all[0]).toBe('0001_initial');

      expect(await catalog.migrate()).toEqual(all);
      expect(await catalog.migrate()).toEqual([]);
    } finally {
      await catalog.close();
    }
  });

  it('lets two processes migrate at once, applying each migration exactly once', async () => {
    const name = newDatabaseName();
    const first = await openCatalog(databaseUrl(name));
    const second = await openCatalog(databaseUrl(name));
    try {
      const [a, b] = await Promise.all([first.migrate(), second.migrate()]);

      const all = (await loadMigrations()).map((m) => m.name);
      expect([...a, ...b].sort()).toEqual(all);
      const recorded = await sql<{ name: string }>(
        'SELECT name FROM schema_migrations ORDER BY name',
        name,
      );
      expect(recorded.map((r) => r.name)).toEqual(all);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('refuses to go on when an applied migration was edited afterwards', async () => {
    const name = newDatabaseName();
    const catalog = await openCatalog(databaseUrl(name));
    await catalog.migrate();
    await catalog.close();

    const pool = new pg.Pool({ connectionString: withDefaultUser(databaseUrl(name)) });
    try {
      const edited = (await loadMigrations()).map((m, i) =>
        i === 0 ? { ...m, sql: `${m.sql}\n-- edited`, checksum: 'c'.repeat(64) } : m,
      );
      await expect(applyMigrations(poolDatabase(pool), edited)).rejects.toMatchObject({
        code: 'catalog_migration_changed',
        message: expect.stringContaining('0001_initial'),
      });
    } finally {
      await pool.end();
    }
  });
});

describe('the backup repository', () => {
  let catalog: Catalog;
  let database: string;

  beforeAll(async () => {
    database = newDatabaseName();
    catalog = await openCatalog(databaseUrl(database));
    await catalog.migrate();
  });

  afterAll(async () => {
    await catalog.close();
  });

  it('follows a backup from queued through running to completed, keeping components and bytes', async () => {
    const { backups } = catalog;
    const id = 'bk_20261122T020000Z_full_a001';

    const queued = await backups.createQueued({
      id,
      profile: 'full',
      note: 'before the migration',
      requestedBy: 'console:alice',
      targets: ['app-db', 'uploads'],
      jobId: id,
    });
    expect(queued).toMatchObject({
      id,
      status: 'queued',
      targets: ['app-db', 'uploads'],
      startedAt: null,
      bytes: null,
      manifest: null,
    });
    expect(queued.createdAt).toBeInstanceOf(Date);

    const running = await backups.markRunning(id, { attempt: 1 });
    expect(running.status).toBe('running');
    expect(running.startedAt).toBeInstanceOf(Date);

    const manifest = manifestFor(id, 'full');
    const completed = await backups.markCompleted(id, manifest, `/var/backups/${id}`);
    expect(completed).toMatchObject({
      status: 'completed',
      bytes: 6_000_001_234,
      location: `/var/backups/${id}`,
      error: null,
    });
    expect(completed.finishedAt).toBeInstanceOf(Date);

    const stored = await backups.get(id);
    expect(stored?.manifest).toEqual(manifest);
    expect(typeof stored?.bytes).toBe('number');

    const components = await sql(
      `SELECT name, kind, object, bytes, raw_bytes, sha256, compression, encrypted, duration_ms,
              source, tools
         FROM backup_components WHERE backup_id = $1 ORDER BY name`,
      database,
      [id],
    );
    expect(components).toEqual([
      {
        name: 'app-db',
        kind: 'postgres',
        object: 'app-db.dump.zst',
        bytes: '6000000000',
        raw_bytes: '9000000000',
        sha256: 'a'.repeat(64),
        compression: 'zstd',
        encrypted: true,
        duration_ms: 8000,
        source: manifest.components[0]?.source,
        tools: { pg_dump: '15.20' },
      },
      {
        name: 'uploads',
        kind: 'directory',
        object: 'uploads.tar.zst',
        bytes: '1234',
        raw_bytes: '10240',
        sha256: 'b'.repeat(64),
        compression: 'zstd',
        encrypted: false,
        duration_ms: 1000,
        source: manifest.components[1]?.source,
        tools: { tar: '1.34' },
      },
    ]);
  });

  it('counts every attempt at running a backup', async () => {
    const { backups } = catalog;
    const id = 'bk_20261122T020000Z_full_a002';
    await backups.createQueued({ id, profile: 'full', note: null, requestedBy: 'x', targets: [] });

    await backups.markRunning(id, { attempt: 1 });
    await backups.requeue(id);
    await backups.markRunning(id, { attempt: 2 });

    const [row] = await sql<{ attempts: number }>(
      'SELECT attempts FROM backups WHERE id = $1',
      database,
      [id],
    );
    expect(row?.attempts).toBe(2);
  });

  it('puts a running backup handed back by its worker in the queue again', async () => {
    const { backups } = catalog;
    const id = 'bk_20261122T020000Z_full_a003';
    await backups.createQueued({ id, profile: 'full', note: null, requestedBy: 'x', targets: [] });
    await backups.markRunning(id, { attempt: 1 });

    const requeued = await backups.requeue(id);

    expect(requeued).toMatchObject({ status: 'queued', startedAt: null });
  });

  it('keeps the error of a failed backup', async () => {
    const { backups } = catalog;
    const id = 'bk_20261122T020000Z_full_a004';
    await backups.createQueued({ id, profile: 'full', note: null, requestedBy: 'x', targets: [] });
    await backups.markRunning(id, { attempt: 1 });

    await backups.markFailed(id, 'pg_dump: connection refused');

    const failed = await backups.get(id);
    expect(failed).toMatchObject({
      status: 'failed',
      error: 'pg_dump: connection refused',
      manifest: null,
      bytes: null,
    });
    expect(failed?.finishedAt).toBeInstanceOf(Date);
  });

  it('never turns a completed backup into a failed one or runs it again', async () => {
    const { backups } = catalog;
    const id = 'bk_20261122T020000Z_full_a005';
    await backups.createQueued({ id, profile: 'full', note: null, requestedBy: 'x', targets: [] });
    await backups.markRunning(id, { attempt: 1 });
    await backups.markCompleted(id, manifestFor(id, 'full'), '/b');

    const afterFail = await backups.markFailed(id, 'late failure');

    expect(afterFail).toMatchObject({ status: 'completed', error: null });
    await expect(backups.markRunning(id, { attempt: 2 })).rejects.toMatchObject({
      code: 'backup_already_completed',
    });
  });

  it('refuses a manifest that belongs to another backup', async () => {
    const { backups } = catalog;
    const id = 'bk_20261122T020000Z_full_a006';
    await backups.createQueued({ id, profile: 'full', note: null, requestedBy: 'x', targets: [] });

    expect(() =>
      backups.markCompleted(id, manifestFor('bk_20261122T020000Z_full_zzzz', 'full'), '/b'),
    ).toThrow(/cannot complete backup/);
  });

  it('says a backup it does not know is not in the catalog', async () => {
    await expect(catalog.backups.get('bk_19990101T000000Z_full_none')).resolves.toBeUndefined();
    await expect(
      catalog.backups.markRunning('bk_19990101T000000Z_full_none', { attempt: 1 }),
    ).rejects.toMatchObject({ code: 'backup_not_found' });
  });

  it('records a queued backup once, however often it is recorded', async () => {
    const { backups } = catalog;
    const id = 'bk_20261122T020000Z_full_a007';
    const request = { id, profile: 'full', note: 'n', requestedBy: 'x', targets: ['a'] };

    const first = await backups.createQueued(request);
    const second = await backups.createQueued({ ...request, note: 'other' });

    expect(second).toEqual(first);
  });
});

describe('listing backups', () => {
  let catalog: Catalog;

  beforeAll(async () => {
    catalog = await openCatalog(databaseUrl(newDatabaseName()));
    await catalog.migrate();
    const plan = [
      ['bk_20261120T020000Z_full_0001', 'full', 'completed'],
      ['bk_20261120T030000Z_db_0002', 'db', 'completed'],
      ['bk_20261121T020000Z_full_0003', 'full', 'failed'],
      ['bk_20261121T030000Z_db_0004', 'db', 'queued'],
      ['bk_20261122T020000Z_full_0005', 'full', 'completed'],
      ['bk_20261123T020000Z_full_0006', 'full', 'running'],
    ] as const;
    for (const [id, profile, status] of plan) {
      await catalog.backups.createQueued({
        id,
        profile,
        note: null,
        requestedBy: 'x',
        targets: [],
      });
      if (status === 'queued') continue;
      await catalog.backups.markRunning(id, { attempt: 1 });
      if (status === 'completed') {
        await catalog.backups.markCompleted(id, manifestFor(id, profile), `/b/${id}`);
      }
      if (status === 'failed') await catalog.backups.markFailed(id, 'boom');
    }
  });

  afterAll(async () => {
    await catalog.close();
  });

  it('lists every profile newest first', async () => {
    const all = await catalog.backups.list({ limit: 10 });

    expect(all.map((b) => b.id)).toEqual([
      'bk_20261123T020000Z_full_0006',
      'bk_20261122T020000Z_full_0005',
      'bk_20261121T030000Z_db_0004',
      'bk_20261121T020000Z_full_0003',
      'bk_20261120T030000Z_db_0002',
      'bk_20261120T020000Z_full_0001',
    ]);
  });

  it('lists one profile, up to the limit', async () => {
    const full = await catalog.backups.list({ profile: 'full', limit: 2 });

    expect(full.map((b) => [b.id, b.status])).toEqual([
      ['bk_20261123T020000Z_full_0006', 'running'],
      ['bk_20261122T020000Z_full_0005', 'completed'],
    ]);
    expect(full[1]?.manifest?.components.map((c) => c.name)).toEqual(['app-db', 'uploads']);
    expect(full[1]?.createdAt).toBeInstanceOf(Date);
  });

  it('finds the newest completed backup of a profile', async () => {
    expect((await catalog.backups.latestCompleted('full'))?.id).toBe(
      'bk_20261122T020000Z_full_0005',
    );
    expect((await catalog.backups.latestCompleted('db'))?.id).toBe('bk_20261120T030000Z_db_0002');
    expect(await catalog.backups.latestCompleted('nightly')).toBeUndefined();
  });
});

describe('the job repository', () => {
  let catalog: Catalog;

  beforeAll(async () => {
    catalog = await openCatalog(databaseUrl(newDatabaseName()));
    await catalog.migrate();
  });

  afterAll(async () => {
    await catalog.close();
  });

  it('follows a job from queued through active to completed with its result', async () => {
    const { jobs, backups } = catalog;
    const id = 'bk_20261122T020000Z_full_j001';
    await backups.createQueued({ id, profile: 'full', note: null, requestedBy: 'x', targets: [] });
    const payload = { kind: 'backup', backupId: id, profile: 'full', replicate: false };

    const recorded = await jobs.record({
      id,
      kind: 'backup',
      payload,
      requestedBy: 'console:alice',
      backupId: id,
    });
    expect(recorded).toMatchObject({ status: 'queued', attempts: 0, payload, backupId: id });

    const active = await jobs.markActive(id, 1);
    expect(active).toMatchObject({ status: 'active', attempts: 1 });
    expect(active.startedAt).toBeInstanceOf(Date);

    await jobs.markCompleted(id, { backupId: id, bytes: 1234 });

    expect(await jobs.get(id)).toMatchObject({
      id,
      kind: 'backup',
      status: 'completed',
      payload,
      requestedBy: 'console:alice',
      backupId: id,
      attempts: 1,
      result: { backupId: id, bytes: 1234 },
      error: null,
    });
  });

  it('records a job once, however often it is recorded', async () => {
    const { jobs } = catalog;
    const first = await jobs.record({
      id: 'job-2',
      kind: 'scheduled-backup',
      payload: [1],
      requestedBy: 'schedule:full',
    });
    const again = await jobs.record({ id: 'job-2', kind: 'other', payload: [2], requestedBy: 'y' });

    expect(again).toEqual(first);
    expect(first.payload).toEqual([1]);
    expect(first.backupId).toBeNull();
  });

  it('keeps the error of a failed job and its latest attempt', async () => {
    const { jobs } = catalog;
    await jobs.record({ id: 'job-3', kind: 'backup', payload: {}, requestedBy: 'x' });
    await jobs.markActive('job-3', 1);
    await jobs.markActive('job-3', 2);

    await jobs.markFailed('job-3', 'worker lost');

    expect(await jobs.get('job-3')).toMatchObject({
      status: 'failed',
      error: 'worker lost',
      attempts: 2,
    });
    await expect(jobs.get('job-none')).resolves.toBeUndefined();
  });
});
