import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/backup/manifest.ts';
import type { ComponentProgress } from '../../src/backup/progress.ts';
import { runBackup } from '../../src/backup/run-backup.ts';
import { type Catalog, openCatalog } from '../../src/catalog/open-catalog.ts';
import { newBackupId } from '../../src/core/ids.ts';
import { generateAgeIdentity, parseAgeIdentity } from '../../src/crypto/age/index.ts';
import { createJobJournal } from '../../src/jobs/job-journal.ts';
import { createVerifyProcessor } from '../../src/jobs/processors/verify-processor.ts';
import type { JobContext } from '../../src/jobs/worker.ts';
import { silentLogger } from '../../src/logging/logger.ts';
import { startTemporaryTcpRedis, type TemporaryTcpRedis } from '../../src/redis/temporary-redis.ts';
import { LocalBackupStore } from '../../src/storage/local-backup-store.ts';
import { SCRATCH_DATABASE_PREFIX } from '../../src/verify/scratch-database.ts';
import type { ComponentVerification, VerificationReport } from '../../src/verify/verification.ts';
import { type VerifyBackupOptions, verifyBackup } from '../../src/verify/verify-backup.ts';
import {
  createPgbenchDatabase,
  databaseUrl,
  dropDatabase,
  sql,
  uniqueName,
} from '../support/databases.ts';

const SCRATCH_SERVER = 'postgres://127.0.0.1:5432/postgres';

describe('verifying stored backups', () => {
  const sourceDb = uniqueName('lb_verify_src');
  const catalogDb = uniqueName('lb_verify_cat');
  let dir: string;
  let store: LocalBackupStore;
  let catalog: Catalog;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-verify-'));
    store = new LocalBackupStore({ root: join(dir, 'backups') });
    await createPgbenchDatabase(sourceDb, 1);
    // A name with spaces and quotes, as pg_restore --list prints it unquoted.
    await sql(
      `CREATE SCHEMA "Odd Schema";
       CREATE TABLE "Odd Schema"."Mixed ""Quoted"" Table" (id int);
       INSERT INTO "Odd Schema"."Mixed ""Quoted"" Table" SELECT generate_series(1, 7);`,
      sourceDb,
    );
    await mkdir(join(dir, 'files/nested/deeper'), { recursive: true });
    await writeFile(join(dir, 'files/a.txt'), 'alpha\n');
    await writeFile(join(dir, 'files/nested/b.bin'), Buffer.alloc(200_000, 7));
    await writeFile(join(dir, 'files/nested/deeper/c.txt'), 'gamma\n');
    catalog = await openCatalog(databaseUrl(catalogDb));
    await catalog.migrate();
  }, 60_000);

  afterAll(async () => {
    await catalog?.close();
    await dropDatabase(sourceDb);
    await dropDatabase(catalogDb);
    await rm(dir, { recursive: true, force: true });
  });

  /** Takes a backup of the database and the directory, recorded as completed in the catalog. */
  async function backup(options: { recipients?: string[] } = {}): Promise<Manifest> {
    const id = newBackupId('verify');
    const manifest = await runBackup({
      id,
      profile: 'verify',
      note: null,
      requestedBy: 'console:alice',
      targets: [
        {
          name: 'app-db',
          config: {
            kind: 'postgres',
            url: databaseUrl(sourceDb),
            environment: 'staging',
            pgDumpArgs: [],
          },
        },
        {
          name: 'files',
          config: {
            kind: 'directory',
            path: join(dir, 'files'),
            include: [],
            exclude: [],
            environment: 'staging',
          },
        },
      ],
      compression: 'zstd',
      ...(options.recipients ? { encryption: { recipients: options.recipients } } : {}),
      store,
    });
    await catalog.backups.createQueued({
      id,
      profile: 'verify',
      note: null,
      requestedBy: 'console:alice',
      targets: ['app-db', 'files'],
    });
    await catalog.backups.markCompleted(id, manifest, store.describe(id));
    return manifest;
  }

  function objectPath(manifest: Manifest, name: string): string {
    const component = manifest.components.find((c) => c.name === name);
    if (!component) throw new Error(`no component ${name}`);
    return join(store.root, manifest.id, component.object);
  }

  function component(report: VerificationReport, name: string): ComponentVerification {
    const found = report.components.find((c) => c.name === name);
    if (!found) throw new Error(`no component ${name} in the report`);
    return found;
  }

  async function sha256Of(path: string): Promise<string> {
    return createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  }

  async function scratchDatabases(): Promise<string[]> {
    const rows = await sql<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE starts_with(datname, $1)',
      'postgres',
      [SCRATCH_DATABASE_PREFIX],
    );
    return rows.map((r) => r.datname);
  }

  /** Runs a verification, collecting the scratch databases its progress names. */
  async function verify(options: Omit<VerifyBackupOptions, 'store'>) {
    const scratch = new Set<string>();
    const progress: ComponentProgress[] = [];
    const report = await verifyBackup({
      store,
      ...options,
      onProgress: (p) => {
        progress.push(p);
        const named = /scratch database (lifeboat_verify_[0-9a-z]+)/.exec(p.message ?? '');
        if (named?.[1]) scratch.add(named[1]);
      },
    });
    return { report, scratch: [...scratch], progress };
  }

  describe('a sound backup', () => {
    let manifest: Manifest;
    beforeAll(async () => {
      manifest = await backup();
    }, 60_000);

    it('passes level 1, with every object size and sha256 as the manifest records', async () => {
      const { report, progress } = await verify({ backupId: manifest.id, level: 1 });
      expect(report).toMatchObject({ backupId: manifest.id, level: 1, ok: true, error: null });
      for (const c of manifest.components) {
        expect(component(report, c.name)).toMatchObject({
          ok: true,
          key: `${manifest.id}/${c.object}`,
          bytes: c.bytes,
          sha256: c.sha256,
          error: null,
        });
        expect(component(report, c.name).checked[0]).toMatch(/sha256 ok$/);
      }
      expect(progress.filter((p) => p.phase === 'done').map((p) => p.component)).toEqual([
        'app-db',
        'files',
      ]);
    });

    it('passes level 2: decompressed to the end, tables listed, tar entries counted', async () => {
      const { report } = await verify({ backupId: manifest.id, level: 2 });
      expect(report.ok).toBe(true);
      const db = component(report, 'app-db');
      expect(db.rawBytes).toBe(manifest.components[0]?.rawBytes);
      expect(db.structure).toEqual({ tables: 5 });
      expect(db.checked).toEqual([
        expect.stringMatching(/sha256 ok$/),
        'decompressed (zstd)',
        'pg_restore --list: 5 tables listed',
      ]);
      const files = component(report, 'files');
      expect(files.structure).toEqual({ files: 3, directories: 2, bytes: 6 + 200_000 + 6 });
      expect(files.checked).toContain('tar listing: 3 files, 2 directories');
      expect(files.checked).toContain('every entry is one a restore extracts');
    });

    it('passes level 3: restores into a throwaway database whose row counts match, then drops it', async () => {
      const { report, scratch } = await verify({
        backupId: manifest.id,
        level: 3,
        restoreTest: { postgresUrl: SCRATCH_SERVER },
      });
      expect(report.error).toBeNull();
      expect(report.ok).toBe(true);
      expect(report.scratch).toBe(SCRATCH_SERVER);
      const db = component(report, 'app-db');
      expect(db.restoreChecks).toHaveLength(5);
      expect(db.restoreChecks).toContainEqual({
        name: 'public.pgbench_accounts rows',
        expected: 100_000,
        actual: 100_000,
        ok: true,
      });
      expect(db.checked).toContain('restore test: 5 tables, row counts match');
      expect(component(report, 'files').restoreChecks?.every((c) => c.ok)).toBe(true);
      expect(scratch).toHaveLength(1);
      expect(await scratchDatabases()).not.toContain(scratch[0]);
    }, 60_000);
  });

  describe('a damaged backup', () => {
    it('fails level 1 naming the component with a flipped byte and both hashes', async () => {
      const manifest = await backup();
      const path = objectPath(manifest, 'app-db');
      const bytes = await readFile(path);
      const at = Math.floor(bytes.length / 2);
      bytes[at] = (bytes[at] ?? 0) ^ 0xff;
      await writeFile(path, bytes);
      const actual = await sha256Of(path);

      const { report } = await verify({ backupId: manifest.id, level: 1 });
      expect(report.ok).toBe(false);
      const db = component(report, 'app-db');
      expect(db.ok).toBe(false);
      expect(db.error?.code).toBe('object_checksum_mismatch');
      expect(db.error?.message).toContain(`component app-db (${path})`);
      expect(db.error?.message).toContain(actual);
      expect(db.error?.message).toContain(manifest.components[0]?.sha256);
      expect(component(report, 'files').ok).toBe(true);
      expect(report.error).toBe(db.error?.message);

      const structure = await verify({ backupId: manifest.id, level: 2 });
      expect(structure.report.ok).toBe(false);
      expect(component(structure.report, 'app-db').error?.message).toContain('app-db');
    });

    it('fails naming a truncated object', async () => {
      const manifest = await backup();
      const path = objectPath(manifest, 'files');
      await truncate(path, 100);
      for (const level of [1, 2] as const) {
        const { report } = await verify({ backupId: manifest.id, level });
        const files = component(report, 'files');
        expect(files.error?.code).toBe('object_truncated');
        expect(files.error?.message).toContain(`component files (${path}) is truncated`);
        expect(component(report, 'app-db').ok).toBe(true);
      }
    });

    it('fails naming a deleted object', async () => {
      const manifest = await backup();
      const path = objectPath(manifest, 'app-db');
      await unlink(path);
      for (const level of [1, 2] as const) {
        const { report } = await verify({ backupId: manifest.id, level });
        const db = component(report, 'app-db');
        expect(db.error?.code).toBe('object_not_found');
        expect(db.error?.message).toContain('component app-db');
        expect(db.error?.message).toContain(`${manifest.id}/${manifest.components[0]?.object}`);
      }
    });

    it('fails with a clear error when the manifest is gone', async () => {
      const manifest = await backup();
      await unlink(join(store.root, manifest.id, 'manifest.json'));
      const { report } = await verify({ backupId: manifest.id, level: 2 });
      expect(report.ok).toBe(false);
      expect(report.components).toEqual([]);
      expect(report.error).toContain(`backup ${manifest.id} has no manifest`);
    });

    it('fails level 3 naming each table whose row count differs, and still drops the scratch database', async () => {
      const manifest = await backup();
      const tampered = structuredClone(manifest);
      const source = tampered.components[0]?.source;
      if (source?.kind !== 'postgres') throw new Error('expected the postgres component first');
      for (const t of source.tables) if (t.table === 'pgbench_branches') t.rows += 2;
      await writeFile(
        join(store.root, manifest.id, 'manifest.json'),
        JSON.stringify(tampered, null, 2),
      );
      const { report, scratch } = await verify({
        backupId: manifest.id,
        level: 3,
        restoreTest: { postgresUrl: SCRATCH_SERVER },
      });
      const db = component(report, 'app-db');
      expect(db.error?.code).toBe('restore_test_mismatch');
      expect(db.error?.message).toContain('public.pgbench_branches rows: 3 expected, 1 restored');
      expect(db.error?.message).not.toContain('pgbench_accounts');
      expect(scratch).toHaveLength(1);
      expect(await scratchDatabases()).not.toContain(scratch[0]);
    }, 60_000);

    it('drops the scratch database when the verification is aborted mid-restore', async () => {
      const manifest = await backup();
      const controller = new AbortController();
      let seen: string | undefined;
      const running = verifyBackup({
        store,
        backupId: manifest.id,
        level: 3,
        restoreTest: { postgresUrl: SCRATCH_SERVER },
        signal: controller.signal,
        onProgress: (p) => {
          const named = /scratch database (lifeboat_verify_[0-9a-z]+)/.exec(p.message ?? '');
          if (named?.[1] && !seen) {
            seen = named[1];
            controller.abort(new Error('stop'));
          }
        },
      });
      await expect(running).rejects.toThrow();
      expect(seen).toMatch(/^lifeboat_verify_/);
      expect(await scratchDatabases()).not.toContain(seen);
    }, 60_000);
  });

  describe('an encrypted backup', () => {
    let manifest: Manifest;
    let identity: string;
    beforeAll(async () => {
      const key = generateAgeIdentity();
      identity = key.identity;
      manifest = await backup({ recipients: [key.recipient] });
    }, 60_000);

    it('passes level 2 with the right identity, saying it was decrypted', async () => {
      const { report } = await verify({
        backupId: manifest.id,
        level: 2,
        identities: [parseAgeIdentity(identity)],
      });
      expect(report.error).toBeNull();
      expect(component(report, 'app-db').checked).toContain('decrypted (age)');
    });

    it('fails naming the component when no identity matches', async () => {
      const other = parseAgeIdentity(generateAgeIdentity().identity);
      const { report } = await verify({ backupId: manifest.id, level: 2, identities: [other] });
      expect(report.ok).toBe(false);
      // The key is missing, not the backup bad: nothing is known about the backup.
      expect(report.outcome).toBe('error');
      const db = component(report, 'app-db');
      expect(db.error?.code).toBe('age_no_identity');
      expect(db.error?.message).toContain('component app-db');
      expect(db.error?.message).toContain('none of the age identities given opens it');
    });

    it('passes level 1 without any identity: checksums need no secret', async () => {
      const { report } = await verify({ backupId: manifest.id, level: 1 });
      expect(report.ok).toBe(true);
    });
  });

  describe('a redis component', () => {
    let redis: TemporaryTcpRedis;
    let manifest: Manifest;
    beforeAll(async () => {
      redis = await startTemporaryTcpRedis({
        args: ['--repl-diskless-sync-delay', '0'],
        password: null,
      });
      const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
      client.on('error', () => {});
      try {
        for (let i = 0; i < 25; i++) await client.set(`key:${i}`, `value ${i}`);
        await client.set('expiring', 'soon', 'EX', 3600);
        await client.select(2);
        await client.set('elsewhere', 'in db 2');
      } finally {
        client.disconnect();
      }
      const id = newBackupId('verify');
      manifest = await runBackup({
        id,
        profile: 'verify',
        note: null,
        requestedBy: 'console:alice',
        targets: [
          { name: 'cache', config: { kind: 'redis', url: redis.url, environment: 'scratch' } },
        ],
        compression: 'zstd',
        store,
      });
    }, 60_000);

    afterAll(async () => {
      await redis?.stop();
    });

    it('passes level 2: redis-check-rdb reads the whole snapshot and finds the keys', async () => {
      const { report } = await verify({ backupId: manifest.id, level: 2 });
      expect(report.error).toBeNull();
      const cache = component(report, 'cache');
      expect(cache.structure).toEqual({ keys: 27 });
      expect(cache.checked).toContain('redis-check-rdb: 27 keys in 2 databases');
    });

    it('passes level 3: restores into a temporary redis and compares the keys', async () => {
      const { report, progress } = await verify({
        backupId: manifest.id,
        level: 3,
        restoreTest: { postgresUrl: SCRATCH_SERVER },
      });
      expect(report.error).toBeNull();
      const cache = component(report, 'cache');
      expect(cache.restoreChecks?.length).toBeGreaterThan(0);
      expect(cache.restoreChecks?.every((c) => c.ok)).toBe(true);
      expect(cache.restoreChecks).toContainEqual(
        expect.objectContaining({ expected: 26, actual: 26 }),
      );
      expect(progress.some((p) => /temporary redis on port \d+/.test(p.message ?? ''))).toBe(true);
    });

    it('fails level 2 when the snapshot holds fewer keys than the manifest records', async () => {
      const tampered = structuredClone(manifest);
      const source = tampered.components[0]?.source;
      if (source?.kind !== 'redis') throw new Error('expected a redis component');
      source.keys = 30;
      const path = join(store.root, manifest.id, 'manifest.json');
      const original = await readFile(path);
      await writeFile(path, JSON.stringify(tampered, null, 2));
      try {
        const { report } = await verify({ backupId: manifest.id, level: 2 });
        const cache = component(report, 'cache');
        expect(cache.error?.code).toBe('rdb_keys_mismatch');
        expect(cache.error?.message).toContain('component cache');
        expect(cache.error?.message).toContain('the 30 of database 0 the manifest records');
      } finally {
        await writeFile(path, original);
      }
    });
  });

  describe('a verification that could not check', () => {
    let manifest: Manifest;
    beforeAll(async () => {
      manifest = await backup();
    }, 60_000);

    it('is an error, not a failure, when the scratch server cannot be reached', async () => {
      const { report } = await verify({
        backupId: manifest.id,
        level: 3,
        restoreTest: { postgresUrl: 'postgres://127.0.0.1:1/postgres' },
      });
      expect(report.ok).toBe(false);
      expect(report.outcome).toBe('error');
      expect(component(report, 'app-db').error?.code).toBe('scratch_unavailable');
    });

    it('is an error when an encrypted backup is asked at level 2 without an identity', async () => {
      const key = generateAgeIdentity();
      const encrypted = await backup({ recipients: [key.recipient] });
      const { report } = await verify({ backupId: encrypted.id, level: 2 });
      expect(report.outcome).toBe('error');
      expect(report.error).toContain('no age identity is configured');
    });

    it('is a failure still when another component was found bad', async () => {
      const other = await backup();
      await truncate(objectPath(other, 'files'), 10);
      const { report } = await verify({
        backupId: other.id,
        level: 3,
        restoreTest: { postgresUrl: 'postgres://127.0.0.1:1/postgres' },
      });
      expect(report.outcome).toBe('failed');
      expect(component(report, 'files').error?.code).toBe('object_truncated');
    });
  });

  describe('recording in the catalog', () => {
    function context(): JobContext & { readonly reports: object[] } {
      const reports: object[] = [];
      return {
        jobId: 'job',
        attempt: 1,
        signal: new AbortController().signal,
        logger: silentLogger(),
        reportProgress: async (data) => {
          reports.push(data);
        },
        reports,
      };
    }
    const processor = () =>
      createVerifyProcessor({
        catalog,
        store,
        identities: () => [],
        restoreTest: { postgresUrl: SCRATCH_SERVER },
      });

    it('records a passed verification with its per-component results', async () => {
      const manifest = await backup();
      await catalog.verifications.create({
        id: 'vf_test_pass',
        backupId: manifest.id,
        level: 2,
        requestedBy: 'console:alice',
      });
      expect((await catalog.verifications.get('vf_test_pass'))?.status).toBe('queued');
      const ctx = context();
      const result = await processor()(
        {
          kind: 'verify',
          verificationId: 'vf_test_pass',
          backupId: manifest.id,
          level: 2,
          requestedBy: 'console:alice',
        },
        ctx,
      );
      expect(result).toMatchObject({ verificationId: 'vf_test_pass', status: 'passed' });
      const record = await catalog.verifications.get('vf_test_pass');
      expect(record).toMatchObject({ status: 'passed', level: 2, error: null });
      expect(record?.finishedAt).toBeInstanceOf(Date);
      expect(record?.results?.components.map((c) => [c.name, c.ok])).toEqual([
        ['app-db', true],
        ['files', true],
      ]);
      expect(record?.results?.components[0]?.structure).toEqual({ tables: 5 });
      expect(await catalog.verifications.latestFor(manifest.id)).toMatchObject({
        id: 'vf_test_pass',
      });
      expect(ctx.reports.length).toBeGreaterThan(0);
      const [row] = await sql<{ status: string }>(
        `SELECT status FROM backup_verifications WHERE backup_id = $1`,
        catalogDb,
        [manifest.id],
      );
      expect(row?.status).toBe('passed');
    });

    it('fails a verification whose job the queue failed for good, leaving an ended one as it is', async () => {
      const manifest = await backup();
      const journal = createJobJournal({
        jobs: catalog.jobs,
        backups: catalog.backups,
        verifications: catalog.verifications,
      });
      const payload = (verificationId: string) => ({
        kind: 'verify' as const,
        verificationId,
        backupId: manifest.id,
        level: 2 as const,
        requestedBy: 'console:alice',
      });
      for (const id of ['vf_test_died', 'vf_test_ended']) {
        await catalog.verifications.create({
          id,
          backupId: manifest.id,
          level: 2,
          requestedBy: 'console:alice',
        });
      }
      await catalog.verifications.markPassed('vf_test_ended', {
        components: [],
        scratch: null,
        durationMs: 1,
      });
      const stalled = 'job stalled more than allowable limit';
      await journal.failed('vf_test_died', payload('vf_test_died'), stalled);
      await journal.failed('vf_test_ended', payload('vf_test_ended'), stalled);
      expect(await catalog.verifications.get('vf_test_died')).toMatchObject({
        status: 'error',
        error: `could not verify: the queue failed its job: ${stalled}`,
      });
      expect((await catalog.verifications.get('vf_test_ended'))?.status).toBe('passed');
      expect((await catalog.jobs.get('vf_test_died'))?.requestedBy).toBe('console:alice');
    });

    it('records a verification that could not check as error, saying why', async () => {
      const manifest = await backup();
      await catalog.verifications.create({
        id: 'vf_test_error',
        backupId: manifest.id,
        level: 3,
        requestedBy: 'console:alice',
      });
      const result = await createVerifyProcessor({
        catalog,
        store,
        identities: () => [],
        restoreTest: { postgresUrl: 'postgres://127.0.0.1:1/postgres' },
      })(
        {
          kind: 'verify',
          verificationId: 'vf_test_error',
          backupId: manifest.id,
          level: 3,
          requestedBy: 'console:alice',
        },
        context(),
      );
      expect(result).toMatchObject({ status: 'error' });
      const record = await catalog.verifications.get('vf_test_error');
      expect(record?.status).toBe('error');
      expect(record?.error).toMatch(/^could not verify: /);
      expect(record?.error).toContain('could not create the scratch database');
    });

    it('records a failed verification with the error naming the component', async () => {
      const manifest = await backup();
      await truncate(objectPath(manifest, 'app-db'), 10);
      await catalog.verifications.create({
        id: 'vf_test_fail',
        backupId: manifest.id,
        level: 1,
        requestedBy: 'console:alice',
      });
      await processor()(
        {
          kind: 'verify',
          verificationId: 'vf_test_fail',
          backupId: manifest.id,
          level: 1,
          requestedBy: 'console:alice',
        },
        context(),
      );
      const record = await catalog.verifications.get('vf_test_fail');
      expect(record?.status).toBe('failed');
      expect(record?.error).toContain('component app-db');
      expect(record?.error).toContain('truncated');
      expect(record?.results?.components.map((c) => c.ok)).toEqual([false, true]);
    });
  });
});
