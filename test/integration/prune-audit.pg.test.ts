import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Catalog, openCatalog } from '../../src/catalog/open-catalog.ts';
import { configSchema, type LifeboatConfig } from '../../src/config/schema.ts';
import { createPruneProcessor } from '../../src/jobs/processors/prune-processor.ts';
import type { JobContext } from '../../src/jobs/worker.ts';
import { silentLogger } from '../../src/logging/logger.ts';
import { LocalBackupStore } from '../../src/storage/local-backup-store.ts';
import { databaseUrl, dropDatabase, uniqueName } from '../support/databases.ts';
import { storeBackup } from '../support/stored-backups.ts';

/**
 * A prune deletes backups: a decision the audit log must keep (who asked, which backup went,
 * why), whether a person ran `/backup prune` or a backup's retention ran it after completing.
 * The catalog's `backups` rows alone can be rewritten by its owner; the keyed log cannot.
 */

const config: LifeboatConfig = configSchema.parse({
  targets: { files: { kind: 'directory', path: '/srv/files' } },
  profiles: { daily: { targets: ['files'], retention: { keepLast: 1, minKeep: 1 } } },
});

const context: JobContext = {
  jobId: 'prune-1',
  attempt: 1,
  signal: new AbortController().signal,
  logger: silentLogger(),
  reportProgress: async () => {},
};

describe('a prune job and the audit log', () => {
  const database = uniqueName('lb_pruneaudit');
  let dir: string;
  let catalog: Catalog;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-prune-audit-'));
    catalog = await openCatalog(databaseUrl(database));
    await catalog.migrate();
  });

  afterAll(async () => {
    await catalog?.close();
    await dropDatabase(database);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('records each backup it deletes, with who asked and in which job', async () => {
    const store = new LocalBackupStore({ root: join(dir, 'store') });
    const seed = (iso: string) =>
      storeBackup({ store, catalog, database, profile: 'daily', at: new Date(iso) });
    const old = await seed('2026-11-20T02:00:00Z');
    await seed('2026-11-21T02:00:00Z');

    const process = createPruneProcessor({
      config,
      retention: catalog.retention,
      stores: [store],
      claims: catalog.backupClaims,
      audit: catalog.audit,
    });
    await process({ kind: 'prune', profile: 'daily', requestedBy: 'scheduler:cron' }, context);

    const entries = [];
    for await (const entry of catalog.audit.entries()) entries.push(entry);
    expect(entries).toEqual([
      expect.objectContaining({
        identity: 'scheduler:cron',
        platform: 'worker',
        action: 'backup.pruned',
        outcome: 'deleted',
        args: { profile: 'daily', backupId: old.id },
        detail: { jobId: 'prune-1' },
      }),
    ]);
    expect((await catalog.audit.verify()).ok).toBe(true);
  });
});
