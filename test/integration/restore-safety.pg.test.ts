import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuditEntry, AuditEvent, AuditLog } from '../../src/audit/audit-log.ts';
import type { Manifest } from '../../src/backup/manifest.ts';
import type { ComponentProgress } from '../../src/backup/progress.ts';
import { runBackup } from '../../src/backup/run-backup.ts';
import { type Catalog, openCatalog } from '../../src/catalog/open-catalog.ts';
import { configSchema, type LifeboatConfig } from '../../src/config/schema.ts';
import { newApprovalId, newRestoreId } from '../../src/core/ids.ts';
import { createRestoreProcessor } from '../../src/jobs/processors/restore-processor.ts';
import { type JobContext, ShutdownAbort } from '../../src/jobs/worker.ts';
import { silentLogger } from '../../src/logging/logger.ts';
import { planRestore, type RestoreSelection } from '../../src/restore/plan-restore.ts';
import { INTERRUPTED_RESTORE_PREFIX } from '../../src/restore/recover-destination.ts';
import type { RestoreAuthorization } from '../../src/restore/restore-record.ts';
import { restorerFor } from '../../src/restore/restorers/index.ts';
import { runRestore } from '../../src/restore/run-restore.ts';
import { LocalBackupStore } from '../../src/storage/local-backup-store.ts';
import {
  createDatabase,
  databaseExists,
  databaseUrl,
  dropDatabase,
  sql,
  tableChecksums,
  uniqueName,
} from '../support/databases.ts';

const WAIT = { timeout: 20_000, interval: 25 } as const;

const APPROVED: RestoreAuthorization = {
  kind: 'approval',
  request: 'apr_20261122T120000Z_test01',
  approvedBy: ['console:bob'],
};

/** An audit log that keeps what it is given; `failing` makes every append throw. */
class RecordingAudit implements AuditLog {
  readonly events: AuditEvent[] = [];
  failing = false;

  async append(event: AuditEvent): Promise<AuditEntry> {
    if (this.failing) throw new Error('the audit log is down');
    this.events.push(event);
    const seq = this.events.length;
    return {
      ...event,
      seq,
      at: new Date(),
      prevHash: '0'.repeat(64),
      hash: String(seq),
      scheme: 'sha256',
      keyId: null,
    };
  }

  of(restoreId: string): AuditEvent[] {
    return this.events.filter((e) => e.args?.restoreId === restoreId);
  }
}

/** A job context with the progress it reported, as the worker would give the processor. */
function jobContext(attempt = 1, signal: AbortSignal = new AbortController().signal) {
  const progress: ComponentProgress[] = [];
  const context: JobContext = {
    jobId: 'job',
    attempt,
    signal,
    logger: silentLogger(),
    async reportProgress(data) {
      progress.push(...((data as { components: ComponentProgress[] }).components ?? []));
    },
  };
  return { context, progress };
}

describe('authorised restores in the worker: safety backup and exactly once (real PostgreSQL)', () => {
  const catalogDb = uniqueName('lb_rsafe_cat');
  const sourceDb = uniqueName('lb_rsafe_src');
  const prodDb = uniqueName('lb_rsafe_prod');
  const brokenDb = uniqueName('lb_rsafe_broken');
  const missingDb = uniqueName('lb_rsafe_missing');
  const scratchDb = uniqueName('lb_rsafe_scratch');
  const databases = [catalogDb, sourceDb, prodDb, brokenDb, missingDb, scratchDb];
  let dir: string;
  let store: LocalBackupStore;
  let catalog: Catalog;
  let config: LifeboatConfig;
  let manifest: Manifest;
  let sourceSums: Record<string, string>;
  const audit = new RecordingAudit();

  const processor = () =>
    createRestoreProcessor({
      config,
      catalog,
      store,
      identities: () => [],
      stagingDirectory: join(dir, 'staging'),
      audit,
    });

  /**
   * Records a queued restore of the backup, as `enqueue` does; with an authorization, the
   * approval request it names is recorded and approved first (by bob), running as this restore,
   * as the approval flow does.
   */
  const queued = async (
    selection: RestoreSelection,
    authorization: RestoreAuthorization | null = APPROVED,
  ) => {
    const plan = planRestore({
      manifest,
      config,
      selection,
      describe: (c, d) => restorerFor(c.kind).describe(c, d),
    });
    const id = newRestoreId();
    let authorized = authorization;
    if (authorization !== null) {
      const at = new Date();
      const request = await catalog.approvals.create({
        id: newApprovalId(at),
        kind: 'approval',
        action: 'restore',
        command: '/restore',
        payload: { type: 'restore', plan },
        environments: [...new Set(plan.components.map((c) => c.environment))],
        requestedBy: 'console:alice',
        platform: 'console',
        channel: { channel: 'ops' },
        requirement: {
          clauses: [
            { environments: ['production'], approvals: 1, approverRoles: [], policy: 'default' },
          ],
          expiresInMs: 1_800_000,
        },
        createdAt: at,
        expiresAt: new Date(at.getTime() + 1_800_000),
      });
      const vote = await catalog.approvals.vote(
        request.id,
        { identity: 'console:bob', decision: 'approve' },
        { now: at, roles: undefined, newExecutionId: () => id },
      );
      expect(vote.outcome).toBe('approved');
      authorized = { ...authorization, request: request.id };
    }
    await catalog.restores.create({
      id,
      plan,
      requestedBy: 'console:alice',
      authorization: authorized,
    });
    return id;
  };

  /** The rows of a production database as they are before a restore writes over them. */
  const seedProduction = async (database: string) => {
    await sql(
      `DROP TABLE IF EXISTS orders;
       CREATE TABLE orders (id int PRIMARY KEY, note text);
       INSERT INTO orders SELECT i, 'live order ' || i FROM generate_series(1, 37) i;`,
      database,
    );
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-restore-safety-'));
    await mkdir(join(dir, 'staging'));
    store = new LocalBackupStore({ root: join(dir, 'store') });
    catalog = await openCatalog(databaseUrl(catalogDb));
    await catalog.migrate();

    await createDatabase(sourceDb);
    await sql(
      `CREATE TABLE orders (id int PRIMARY KEY, note text);
       INSERT INTO orders SELECT i, 'backed-up order ' || i FROM generate_series(1, 120) i;
       CREATE TABLE customers (id int PRIMARY KEY);
       INSERT INTO customers SELECT generate_series(1, 15);`,
      sourceDb,
    );
    sourceSums = await tableChecksums(sourceDb);
    await createDatabase(prodDb);
    await createDatabase(brokenDb);
    await seedProduction(brokenDb);

    config = configSchema.parse({
      targets: {
        'app-db': { kind: 'postgres', url: databaseUrl(sourceDb), environment: 'staging' },
        'prod-db': { kind: 'postgres', url: databaseUrl(prodDb), environment: 'production' },
        // pg_dump refuses the option, so a safety backup of this target always fails.
        'broken-prod': {
          kind: 'postgres',
          url: databaseUrl(brokenDb),
          environment: 'production',
          pgDumpArgs: ['--no-such-pg-dump-option'],
        },
        'missing-prod': {
          kind: 'postgres',
          url: databaseUrl(missingDb),
          environment: 'production',
        },
        'scratch-db': { kind: 'postgres', url: databaseUrl(scratchDb), environment: 'scratch' },
      },
      profiles: { db: { targets: ['app-db'] } },
    });

    const backupId = 'bk_20261122T020000Z_db_rsaf';
    await catalog.backups.createQueued({
      id: backupId,
      profile: 'db',
      note: null,
      requestedBy: 'console:alice',
      targets: ['app-db'],
    });
    await catalog.backups.markRunning(backupId, { attempt: 1 });
    manifest = await runBackup({
      id: backupId,
      profile: 'db',
      note: null,
      requestedBy: 'console:alice',
      targets: [{ name: 'app-db', config: config.targets['app-db'] ?? (undefined as never) }],
      compression: 'zstd',
      store,
    });
    await catalog.backups.markCompleted(backupId, manifest, store.describe(backupId));
  }, 60_000);

  afterAll(async () => {
    await catalog?.close();
    for (const database of databases) await dropDatabase(database);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('backs up the production database as it was, then restores and validates it', async () => {
    await seedProduction(prodDb);
    const before = await tableChecksums(prodDb);
    const id = await queued({ into: { 'app-db': 'prod-db' } });
    const { context, progress } = jobContext();

    const result = await processor()(
      { kind: 'restore', restoreId: id, requestedBy: 'console:alice' },
      context,
    );

    expect(result).toMatchObject({ restoreId: id, status: 'completed' });
    const record = await catalog.restores.get(id);
    expect(record).toMatchObject({
      status: 'completed',
      authorization: { kind: 'approval', approvedBy: ['console:bob'] },
      attempts: 1,
    });
    const safetyId = record?.safetyBackupId as string;
    expect(safetyId).toMatch(/^bk_\d{8}T\d{6}Z_safety_[0-9a-z]{4}$/);
    expect(record?.results?.safetyBackup).toMatchObject({
      status: 'completed',
      backupId: safetyId,
      targets: ['prod-db'],
      skipped: [],
    });
    expect(record?.results?.components).toHaveLength(1);
    expect(record?.results?.components[0]).toMatchObject({ destination: 'prod-db', ok: true });
    expect(record?.results?.components[0]?.checks.map((c) => c.name).sort()).toEqual([
      'public.customers rows',
      'public.orders rows',
    ]);
    expect(await tableChecksums(prodDb)).toEqual(sourceSums);

    // The safety backup is an ordinary completed backup in the catalog ...
    const safety = await catalog.backups.get(safetyId);
    expect(safety).toMatchObject({
      status: 'completed',
      profile: 'safety',
      requestedBy: 'console:alice',
      note: `safety backup before ${id}`,
    });
    expect(safety?.manifest?.components.map((c) => c.name)).toEqual(['prod-db']);
    expect(
      (await catalog.backups.list({ profile: 'safety', limit: 10 })).map((b) => b.id),
    ).toContain(safetyId);
    // ... and holds the rows production had before the restore wrote over them.
    const putBack = planRestore({
      manifest: safety?.manifest as Manifest,
      config,
      selection: { into: { 'prod-db': 'scratch-db' } },
    });
    const restoredBack = await runRestore({
      restoreId: 'rs_put_back',
      plan: putBack,
      manifest: safety?.manifest as Manifest,
      config,
      store,
      identities: [],
      stagingDirectory: join(dir, 'staging'),
    });
    expect(restoredBack.ok).toBe(true);
    expect(await tableChecksums(scratchDb)).toEqual(before);

    expect(audit.of(id).map((e) => [e.action, e.outcome])).toEqual([
      ['restore.started', 'started'],
      ['safety-backup.completed', 'completed'],
      ['restore.completed', 'completed'],
    ]);
    for (const event of audit.of(id)) {
      expect(event).toMatchObject({
        identity: 'console:alice',
        platform: 'worker',
        requestId: record?.authorization?.request,
      });
    }
    expect(progress.map((p) => p.message)).toContainEqual(
      expect.stringMatching(/^safety backup bk_.*_safety_.*saved/),
    );
  });

  it('refuses a restore claiming an approval the catalog does not hold, changing nothing', async () => {
    await seedProduction(prodDb);
    const before = await tableChecksums(prodDb);
    const plan = planRestore({ manifest, config, selection: { into: { 'app-db': 'prod-db' } } });
    const id = newRestoreId();
    // Queued with an authorization nobody granted: no such approval request exists.
    await catalog.restores.create({
      id,
      plan,
      requestedBy: 'console:mallory',
      authorization: APPROVED,
    });

    const error = await processor()(
      { kind: 'restore', restoreId: id, requestedBy: 'console:mallory' },
      jobContext().context,
    ).catch((e: unknown) => e as Error);

    expect((error as Error).message).toContain(
      `approval request ${APPROVED.request}, which authorises it, is not in the catalog`,
    );
    const record = await catalog.restores.get(id);
    expect(record).toMatchObject({ status: 'failed', safetyBackupId: null });
    expect(await tableChecksums(prodDb)).toEqual(before);
    expect(audit.of(id).map((e) => [e.action, e.outcome])).toEqual([
      ['restore.refused', 'refused'],
    ]);
  });

  it('refuses an unauthorised production restore without a safety backup, changing nothing', async () => {
    await seedProduction(prodDb);
    const before = await tableChecksums(prodDb);
    const safetyBefore = (await catalog.backups.list({ profile: 'safety', limit: 100 })).length;
    const id = await queued({ into: { 'app-db': 'prod-db' } }, null);

    const error = await processor()(
      { kind: 'restore', restoreId: id, requestedBy: 'console:alice' },
      jobContext().context,
    ).catch((e: unknown) => e as Error);

    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('prod-db (production)');
    const record = await catalog.restores.get(id);
    expect(record).toMatchObject({ status: 'failed', safetyBackupId: null });
    expect(record?.error).toContain("needs a second person's approval");
    expect(await tableChecksums(prodDb)).toEqual(before);
    expect(await catalog.backups.list({ profile: 'safety', limit: 100 })).toHaveLength(
      safetyBefore,
    );
    expect(audit.of(id).map((e) => e.action)).toEqual(['restore.started', 'restore.failed']);
  });

  it('refuses a restore the restorer would refuse before taking a safety backup (the catalog database)', async () => {
    await seedProduction(prodDb);
    const before = await tableChecksums(prodDb);
    const safetyBefore = (await catalog.backups.list({ profile: 'safety', limit: 100 })).length;
    const id = await queued({ into: { 'app-db': 'prod-db' } });
    const guarded = createRestoreProcessor({
      config,
      catalog,
      // As if prod-db were where Lifeboat keeps its catalog.
      catalogUrl: databaseUrl(prodDb),
      store,
      identities: () => [],
      stagingDirectory: join(dir, 'staging'),
      audit,
    });

    const error = await guarded(
      { kind: 'restore', restoreId: id, requestedBy: 'console:alice' },
      jobContext().context,
    ).catch((e: unknown) => e as Error);

    expect((error as Error).message).toContain("is Lifeboat's catalog database");
    expect((error as Error).message).toContain('Nothing was changed');
    const record = await catalog.restores.get(id);
    expect(record).toMatchObject({ status: 'failed', safetyBackupId: null });
    expect(await tableChecksums(prodDb)).toEqual(before);
    expect(await catalog.backups.list({ profile: 'safety', limit: 100 })).toHaveLength(
      safetyBefore,
    );
  });

  it('restores once when the job runs twice, one after the other', async () => {
    await seedProduction(prodDb);
    const id = await queued({ into: { 'app-db': 'prod-db' } });
    const payload = { kind: 'restore', restoreId: id, requestedBy: 'console:alice' } as const;

    const first = await processor()(payload, jobContext(1).context);
    const second = await processor()(payload, jobContext(2).context);

    expect(first).toMatchObject({ restoreId: id, status: 'completed' });
    expect(second).toEqual(first);
    expect(audit.of(id).filter((e) => e.action === 'restore.started')).toHaveLength(1);
    expect((await catalog.restores.get(id))?.attempts).toBe(1);
    const safety = await catalog.backups.list({ profile: 'safety', limit: 100 });
    expect(safety.filter((b) => b.note === `safety backup before ${id}`)).toHaveLength(1);
  });

  it('restores once when two jobs for one restore run at the same time: the second waits and reports the first', async () => {
    await seedProduction(prodDb);
    const id = await queued({ into: { 'app-db': 'prod-db' } });
    const payload = { kind: 'restore', restoreId: id, requestedBy: 'console:alice' } as const;

    const results = await Promise.all([
      processor()(payload, jobContext(1).context),
      processor()(payload, jobContext(1).context),
    ]);

    expect(results.map((r) => (r as { status: string }).status)).toEqual([
      'completed',
      'completed',
    ]);
    const record = await catalog.restores.get(id);
    expect(record).toMatchObject({ status: 'completed', attempts: 1 });
    expect(audit.of(id).filter((e) => e.action === 'restore.started')).toHaveLength(1);
    const safety = await catalog.backups.list({ profile: 'safety', limit: 100 });
    expect(safety.filter((b) => b.note === `safety backup before ${id}`)).toHaveLength(1);
    expect(await tableChecksums(prodDb)).toEqual(sourceSums);
  });

  it('fails a restore a new attempt finds running, without running it again', async () => {
    await seedProduction(prodDb);
    const before = await tableChecksums(prodDb);
    const id = await queued({ into: { 'app-db': 'prod-db' } });
    // As a worker that died mid-restore leaves it: claimed, running, no attempt alive.
    const claim = await catalog.restores.claim(id, { attempt: 1 });
    expect(claim.claimed).toBe(true);

    const error = await processor()(
      { kind: 'restore', restoreId: id, requestedBy: 'console:alice' },
      jobContext(2).context,
    ).catch((e: unknown) => e as Error);

    expect((error as Error).message).toContain(INTERRUPTED_RESTORE_PREFIX);
    expect((error as Error).message).toContain('prod-db: not started, unchanged');
    const record = await catalog.restores.get(id);
    expect(record).toMatchObject({
      status: 'failed',
      error: (error as Error).message,
      safetyBackupId: null,
    });
    expect(await tableChecksums(prodDb)).toEqual(before);
    expect(audit.of(id).map((e) => e.action)).toEqual(['restore.failed']);
  });

  it('claims a restore for exactly one of many attempts at once', async () => {
    const id = await queued({ into: { 'app-db': 'scratch-db' } });
    const claims = await Promise.all(
      Array.from({ length: 8 }, (_, i) => catalog.restores.claim(id, { attempt: i + 1 })),
    );
    expect(claims.filter((c) => c.claimed)).toHaveLength(1);
    expect(claims.every((c) => c.restore.status === 'running')).toBe(true);
    await catalog.restores.markFailed(id, 'test over');
  });

  it('restores nothing when the safety backup fails, and says so', async () => {
    const before = await tableChecksums(brokenDb);
    const id = await queued({ into: { 'app-db': 'broken-prod' } });

    const error = await processor()(
      { kind: 'restore', restoreId: id, requestedBy: 'console:alice' },
      jobContext().context,
    ).catch((e: unknown) => e as Error);

    expect((error as Error).message).toMatch(/^safety backup failed: .+; nothing was changed$/s);
    const record = await catalog.restores.get(id);
    expect(record?.status).toBe('failed');
    expect(record?.error).toMatch(/^safety backup failed: .*no-such-pg-dump-option/);
    expect(record?.safetyBackupId).toBeNull();
    const report = record?.results?.safetyBackup;
    expect(report).toMatchObject({ status: 'failed', targets: [] });
    expect(record?.results?.components).toEqual([]);
    expect(await tableChecksums(brokenDb)).toEqual(before);

    const failed = await catalog.backups.get(report?.backupId as string);
    expect(failed).toMatchObject({ status: 'failed', profile: 'safety' });
    const left: string[] = [];
    for await (const object of store.list(`${report?.backupId}/`)) left.push(object.key);
    expect(left).toEqual([]);
    expect(audit.of(id).map((e) => e.action)).toEqual([
      'restore.started',
      'safety-backup.failed',
      'restore.failed',
    ]);
  });

  it('restores into a production database that does not exist yet without a safety backup, noting it', async () => {
    expect(await databaseExists(missingDb)).toBe(false);
    const id = await queued({ into: { 'app-db': 'missing-prod' } });

    const result = await processor()(
      { kind: 'restore', restoreId: id, requestedBy: 'console:alice' },
      jobContext().context,
    );

    expect(result).toMatchObject({ status: 'completed' });
    const record = await catalog.restores.get(id);
    expect(record?.safetyBackupId).toBeNull();
    expect(record?.results?.safetyBackup).toMatchObject({
      status: 'skipped',
      backupId: null,
      skipped: [
        {
          target: 'missing-prod',
          reason: expect.stringContaining('does not exist yet, so there is nothing to save'),
        },
      ],
    });
    expect(await tableChecksums(missingDb)).toEqual(sourceSums);
    expect(audit.of(id).map((e) => e.action)).toEqual([
      'restore.started',
      'safety-backup.skipped',
      'restore.completed',
    ]);
  });

  it('hands a restore back to the queue when the worker shuts down before writing anything', async () => {
    await seedProduction(prodDb);
    const before = await tableChecksums(prodDb);
    const id = await queued({ into: { 'app-db': 'prod-db' } });
    const holder = await catalog.targetLocks.acquire(['prod-db'], 'backup bk_test_holder');
    const controller = new AbortController();
    const { context, progress } = jobContext(1, controller.signal);
    const payload = { kind: 'restore', restoreId: id, requestedBy: 'console:alice' } as const;
    try {
      const running = processor()(payload, context).catch((e: unknown) => e);
      await vi.waitFor(() => {
        expect(progress.map((p) => p.message)).toContain(
          'waiting for backup bk_test_holder to finish with prod-db',
        );
      }, WAIT);
      controller.abort(new ShutdownAbort());
      expect(await running).toBeInstanceOf(Error);
    } finally {
      await holder.release();
    }
    expect((await catalog.restores.get(id))?.status).toBe('queued');
    expect(await tableChecksums(prodDb)).toEqual(before);

    const result = await processor()(payload, jobContext(2).context);
    expect(result).toMatchObject({ status: 'completed' });
    expect((await catalog.restores.get(id))?.attempts).toBe(2);
    expect(await tableChecksums(prodDb)).toEqual(sourceSums);
  });

  it('restores all the same when the audit log cannot be written', async () => {
    await seedProduction(prodDb);
    const id = await queued({ into: { 'app-db': 'prod-db' } });
    audit.failing = true;
    try {
      const result = await processor()(
        { kind: 'restore', restoreId: id, requestedBy: 'console:alice' },
        jobContext().context,
      );
      expect(result).toMatchObject({ status: 'completed' });
    } finally {
      audit.failing = false;
    }
    expect((await catalog.restores.get(id))?.safetyBackupId).toMatch(/_safety_/);
    expect(await tableChecksums(prodDb)).toEqual(sourceSums);
  });
});
