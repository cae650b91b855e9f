import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { backupWarnings } from '../backup/component-warnings.ts';
import type { Manifest } from '../backup/manifest.ts';
import { type BackupTarget, runBackup } from '../backup/run-backup.ts';
import { databaseExists } from '../catalog/ensure-database.ts';
import type { LifeboatConfig } from '../config/schema.ts';
import { messageOf } from '../core/errors.ts';
import { formatBytes } from '../core/format.ts';
import { newBackupId } from '../core/ids.ts';
import type { BackupStore } from '../storage/backup-store.ts';
import type { RestorePlan } from './plan-restore.ts';

/** The profile name safety backups are recorded under (`bk_…_safety_…`). */
export const SAFETY_PROFILE = 'safety';

/** A destination with nothing to save, and why. */
export interface SkippedSafetyTarget {
  readonly target: string;
  readonly reason: string;
}

/** How the safety backup before a restore went; kept in the restore's results. */
export interface SafetyBackupReport {
  /**
   * `completed`: the backup is in the catalog and the store. `skipped`: no destination existed
   * yet, so there was nothing to save. `failed`: nothing was saved, and the restore must not run.
   */
  readonly status: 'completed' | 'skipped' | 'failed';
  /** The safety backup's id; null when it was skipped. */
  readonly backupId: string | null;
  /** The destinations it saved. */
  readonly targets: readonly string[];
  readonly skipped: readonly SkippedSafetyTarget[];
  /** Stored bytes. */
  readonly bytes: number;
  readonly durationMs: number;
  readonly error: string | null;
  /**
   * What the safety backup could not save (files that vanished, sockets: see
   * `componentWarningSchema`), as `component: message`; absent or empty when it saved all.
   */
  readonly incomplete?: readonly string[];
}

/**
 * The calls the safety backup makes on the catalog's backups, so that it is listed, shown and
 * restorable like any other backup (`BackupRepository` has them).
 */
export interface SafetyBackupRecords {
  createQueued(backup: {
    readonly id: string;
    readonly profile: string;
    readonly note: string | null;
    readonly requestedBy: string;
    readonly targets: readonly string[];
  }): Promise<unknown>;
  markRunning(id: string, options: { readonly attempt: number }): Promise<unknown>;
  markCompleted(id: string, manifest: Manifest, location: string): Promise<unknown>;
  markFailed(id: string, error: string): Promise<unknown>;
}

export interface SafetyBackupOptions {
  readonly restoreId: string;
  readonly plan: RestorePlan;
  /** The config as it is now: the destinations are backed up as they are configured today. */
  readonly config: Pick<LifeboatConfig, 'targets' | 'compression' | 'encryption'>;
  /** The primary store. */
  readonly store: BackupStore;
  readonly backups: SafetyBackupRecords;
  /** The restore's requester: the safety backup is theirs. */
  readonly requestedBy: string;
  readonly lifeboatVersion?: string;
  readonly signal?: AbortSignal;
  /** A message per destination as the backup goes (`safety backup: 12 MB saved`). */
  readonly onProgress?: (destination: string, message: string) => void;
  /** @defaultValue `() => new Date()` */
  readonly now?: () => Date;
  /**
   * Whether a target exists now, so that there is something to save.
   * @defaultValue {@link destinationExists}
   */
  readonly exists?: (target: BackupTarget) => Promise<boolean>;
}

/**
 * The destinations of a plan that get a safety backup: those in `production`, as the plan
 * recorded them or as the config has them now (whichever says production), so that a target
 * moved into production after `/restore` is still saved first.
 */
export function safetyBackupTargets(
  plan: RestorePlan,
  config: Pick<LifeboatConfig, 'targets'>,
): BackupTarget[] {
  const out: BackupTarget[] = [];
  for (const planned of plan.components) {
    const target = config.targets[planned.destination];
    if (!target) continue;
    if (planned.environment === 'production' || target.environment === 'production') {
      out.push({ name: planned.destination, config: target });
    }
  }
  return out;
}

/**
 * Backs up the production destinations of a restore as they are now, into the primary store
 * under profile `safety`, recorded in the catalog (queued → running → completed) so that
 * `/restore bk_…` can put them back. Call it with the destinations' target locks held and
 * before anything is written to them.
 *
 * A destination that does not exist yet (a database or directory the restore will create) has
 * nothing to save: it is skipped and named in the report. Returns null when no destination is
 * in production.
 *
 * Never throws for a failed backup: the report says `failed`, the backup is failed in the
 * catalog and the store holds nothing of it. Throws only when `signal` aborts, after recording
 * the backup as failed.
 */
export async function takeSafetyBackup(
  options: SafetyBackupOptions,
): Promise<SafetyBackupReport | null> {
  const candidates = safetyBackupTargets(options.plan, options.config);
  if (candidates.length === 0) return null;
  const clock = performance.now();
  const now = options.now ?? (() => new Date());
  const exists = options.exists ?? destinationExists;
  const report = (target: string, message: string) => {
    try {
      options.onProgress?.(target, message);
    } catch {
      // A listener's failure is its own problem, never the backup's.
    }
  };

  const targets: BackupTarget[] = [];
  const skipped: SkippedSafetyTarget[] = [];
  for (const target of candidates) {
    options.signal?.throwIfAborted();
    report(target.name, 'safety backup: checking what is there now');
    if (await exists(target)) {
      targets.push(target);
    } else {
      const reason = `${describeTarget(target)} does not exist yet, so there is nothing to save`;
      skipped.push({ target: target.name, reason });
      report(target.name, `safety backup skipped: ${reason}`);
    }
  }
  const ended = (
    status: SafetyBackupReport['status'],
    backupId: string | null,
    bytes: number,
    error: string | null,
    incomplete: readonly string[] = [],
  ): SafetyBackupReport => ({
    status,
    backupId,
    targets: status === 'completed' ? targets.map((t) => t.name) : [],
    skipped,
    bytes,
    durationMs: Math.round(performance.now() - clock),
    error,
    incomplete,
  });
  if (targets.length === 0) return ended('skipped', null, 0, null);

  const id = newBackupId(SAFETY_PROFILE, now());
  let recorded = false;
  try {
    await options.backups.createQueued({
      id,
      profile: SAFETY_PROFILE,
      note: `safety backup before ${options.restoreId}`,
      requestedBy: options.requestedBy,
      targets: targets.map((t) => t.name),
    });
    recorded = true;
    await options.backups.markRunning(id, { attempt: 1 });
    const manifest = await runBackup({
      id,
      profile: SAFETY_PROFILE,
      note: `safety backup before ${options.restoreId}`,
      requestedBy: options.requestedBy,
      targets,
      compression: options.config.compression,
      ...(options.config.encryption ? { encryption: options.config.encryption } : {}),
      store: options.store,
      now,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.lifeboatVersion ? { lifeboatVersion: options.lifeboatVersion } : {}),
      onProgress: (p) => {
        if (p.phase === 'running') {
          report(p.component, `safety backup: ${formatBytes(p.rawBytes)} saved`);
        }
      },
    });
    await options.backups.markCompleted(id, manifest, options.store.describe(id));
    const bytes = manifest.components.reduce((sum, c) => sum + c.bytes, 0);
    for (const component of manifest.components) {
      report(
        component.name,
        `safety backup ${id}: ${formatBytes(component.rawBytes)} saved; staging the restore next`,
      );
    }
    const missing = backupWarnings(manifest)
      .filter((w) => w.kind === 'incomplete')
      .map((w) => `${w.component}: ${w.message}`);
    return ended('completed', id, bytes, null, missing);
  } catch (error) {
    const message = messageOf(error);
    if (recorded) {
      await options.backups.markFailed(id, message).catch(() => undefined);
    }
    if (options.signal?.aborted) throw error;
    for (const target of targets) report(target.name, `safety backup failed: ${message}`);
    return ended('failed', recorded ? id : null, 0, message);
  }
}

/**
 * Whether a target holds anything to save: a PostgreSQL database that exists (connecting to a
 * missing one fails with SQLSTATE 3D000), a directory that exists. Redis always has a database.
 * Anything else that goes wrong while looking counts as existing, so the backup itself reports it.
 */
export async function destinationExists(target: BackupTarget): Promise<boolean> {
  const { config } = target;
  if (config.kind === 'directory') {
    try {
      await stat(resolve(config.path));
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code !== 'ENOENT';
    }
  }
  if (config.kind === 'postgres') {
    return databaseExists(config.url).catch(() => true);
  }
  return true;
}

function describeTarget(target: BackupTarget): string {
  switch (target.config.kind) {
    case 'postgres':
      return `the database of ${target.name}`;
    case 'directory':
      return `the directory ${target.config.path} of ${target.name}`;
    default:
      return target.name;
  }
}
