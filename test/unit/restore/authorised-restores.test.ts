import { describe, expect, it } from 'vitest';
import { restoreEndedMessage, safetyBackupLine } from '../../../src/bot/views/restore-run.ts';
import { planFor } from '../../../src/jobs/restore-jobs.ts';
import type { RestoreRecord } from '../../../src/restore/restore-record.ts';
import { checkRestore } from '../../../src/restore/run-restore.ts';
import { safetyBackupTargets } from '../../../src/restore/safety-backup.ts';
import { InMemoryRestores } from '../../doubles/in-memory-restores.ts';
import { InMemoryBackupCatalog } from '../../doubles/in-memory-services.ts';
import { completedBackup } from '../../doubles/sample-backups.ts';
import { messageText } from '../../doubles/test-chat.ts';
import { testConfig } from '../../doubles/test-config.ts';

const config = testConfig();
const now = new Date('2026-11-22T12:00:00Z');
const backup = completedBackup(config, { profile: 'full', createdAt: now });
const approval = {
  kind: 'approval',
  request: 'apr_20261122T120000Z_abc123',
  approvedBy: ['console:bob'],
} as const;

function restores() {
  const catalog = new InMemoryBackupCatalog();
  catalog.add(backup);
  return new InMemoryRestores(config, catalog, () => now);
}

describe('safety backup targets', () => {
  it('are the destinations in production, by the plan or by the config as it is now', () => {
    const { plan } = planFor(config, backup, {
      components: ['app-db', 'uploads'],
      into: { uploads: 'uploads' },
    });
    expect(safetyBackupTargets(plan, config).map((t) => t.name)).toEqual(['app-db', 'uploads']);

    const { plan: toStaging } = planFor(config, backup, {
      components: ['app-db'],
      into: { 'app-db': 'staging-db' },
    });
    expect(safetyBackupTargets(toStaging, config)).toEqual([]);
    const promoted = testConfig({
      targets: {
        ...config.targets,
        'staging-db': { kind: 'postgres', url: 'postgres://db/staging', environment: 'production' },
      },
    });
    expect(safetyBackupTargets(toStaging, promoted).map((t) => t.name)).toEqual(['staging-db']);
  });
});

describe('an approval judged on one environment', () => {
  it('does not carry a restore into a destination whose environment changed since it was planned', () => {
    const manifest = backup.manifest;
    if (!manifest) throw new Error('a manifest expected');
    const { plan } = planFor(config, backup, {
      components: ['app-db'],
      into: { 'app-db': 'staging-db' },
    });
    // Approved for staging (say by oncall); by the time it runs staging-db is production.
    const promoted = testConfig({
      targets: {
        ...config.targets,
        'staging-db': { kind: 'postgres', url: 'postgres://db/staging', environment: 'production' },
      },
    });
    expect(() => checkRestore({ plan, manifest, config: promoted, authorized: true })).toThrow(
      /staging-db was staging when the restore was asked for and approved, and is now production/,
    );
    expect(() => checkRestore({ plan, manifest, config, authorized: true })).not.toThrow();
  });
});

describe('the in-memory restores', () => {
  it('refuse a plan that needs approval when no authorization is given', async () => {
    const doubles = restores();
    const { plan } = planFor(config, backup, { components: ['app-db'] });
    await expect(doubles.enqueue(plan, 'console:alice')).rejects.toMatchObject({
      code: 'restore_needs_approval',
    });
    expect(doubles.enqueued).toEqual([]);
  });

  it('queue an authorised plan once under its id, however often it is enqueued', async () => {
    const doubles = restores();
    const { plan } = planFor(config, backup, { components: ['app-db'] });
    const id = 'rs_20261122T120000Z_exec01';

    const first = await doubles.enqueue(plan, 'console:alice', { id, authorization: approval });
    const second = await doubles.enqueue(plan, 'console:alice', { id, authorization: approval });

    expect(first).toEqual({ restoreId: id });
    expect(second).toEqual({ restoreId: id });
    expect(doubles.enqueued).toHaveLength(1);
    expect(doubles.records.get(id)).toMatchObject({ authorization: approval, status: 'queued' });
  });

  it('take a safety backup of production destinations before restoring', async () => {
    const doubles = restores();
    const { plan } = planFor(config, backup, { components: ['app-db'] });
    const { restoreId } = await doubles.enqueue(plan, 'console:alice', { authorization: approval });

    const outcome = await doubles.follow(restoreId, () => {});

    expect(outcome.status).toBe('completed');
    expect(outcome.restore.safetyBackupId).toMatch(/^bk_\d{8}T\d{6}Z_safety_[0-9a-z]{4}$/);
    expect(outcome.restore.results?.safetyBackup).toMatchObject({
      status: 'completed',
      targets: ['app-db'],
    });
  });

  it('restore nothing when the scripted safety backup fails', async () => {
    const doubles = restores();
    doubles.script({ kind: 'safety-backup-fails', error: 'pg_dump exited with code 1' });
    const { plan } = planFor(config, backup, { components: ['app-db'] });
    const { restoreId } = await doubles.enqueue(plan, 'console:alice', { authorization: approval });

    const outcome = await doubles.follow(restoreId, () => {});

    expect(outcome).toMatchObject({
      status: 'failed',
      error: 'safety backup failed: pg_dump exited with code 1; nothing was changed',
    });
    expect(outcome.restore.results?.components).toEqual([]);
    expect(outcome.restore.safetyBackupId).toBeNull();
  });
});

describe('the ended restore message', () => {
  const { plan } = planFor(config, backup, { components: ['app-db'] });
  const base: RestoreRecord = {
    id: 'rs_20261122T120000Z_view01',
    backupId: backup.id,
    profile: 'full',
    requestedBy: 'console:alice',
    status: 'completed',
    plan,
    authorization: approval,
    safetyBackupId: 'bk_20261122T120001Z_safety_x7k2',
    results: {
      components: [],
      ok: true,
      error: null,
      durationMs: 12_000,
      safetyBackup: {
        status: 'completed',
        backupId: 'bk_20261122T120001Z_safety_x7k2',
        targets: ['app-db'],
        skipped: [],
        bytes: 12 * 1024 * 1024,
        durationMs: 3_000,
        error: null,
      },
    },
    error: null,
    createdAt: now,
    startedAt: now,
    finishedAt: now,
  };
  const run = { id: base.id, plan, requestedBy: 'console:alice', now };

  it('names the safety backup and how to put it back', () => {
    const text = messageText(restoreEndedMessage(run, base));
    expect(text).toContain('Safety backup: `bk_20261122T120001Z_safety_x7k2` (app-db as they were');
    expect(text).toContain('`/restore bk_20261122T120001Z_safety_x7k2` puts them back');
    expect(restoreEndedMessage(run, base).text).toContain(
      'safety backup bk_20261122T120001Z_safety_x7k2',
    );
  });

  it('says why no safety backup was taken when the destination did not exist', () => {
    const skipped: RestoreRecord = {
      ...base,
      safetyBackupId: null,
      results: {
        ...(base.results as NonNullable<RestoreRecord['results']>),
        safetyBackup: {
          status: 'skipped',
          backupId: null,
          targets: [],
          skipped: [
            {
              target: 'app-db',
              reason: 'the database of app-db does not exist yet, so there is nothing to save',
            },
          ],
          bytes: 0,
          durationMs: 5,
          error: null,
        },
      },
    };
    expect(safetyBackupLine(skipped)).toBe(
      'Safety backup: none taken: the database of app-db does not exist yet, so there is nothing to save',
    );
  });

  it('has no safety backup line for a restore without production destinations', () => {
    const plain: RestoreRecord = {
      ...base,
      safetyBackupId: null,
      results: { components: [], ok: true, error: null, durationMs: 1 },
    };
    expect(safetyBackupLine(plain)).toBeNull();
    expect(messageText(restoreEndedMessage(run, plain))).not.toContain('Safety backup');
  });
});
