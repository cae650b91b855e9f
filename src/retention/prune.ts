import { MANIFEST_OBJECT } from '../backup/manifest.ts';
import type { BackupClaims } from '../catalog/backup-claims.ts';
import type { RetentionRepository } from '../catalog/retention-repository.ts';
import type { LifeboatConfig, RetentionConfig } from '../config/schema.ts';
import { messageOf } from '../core/errors.ts';
import { locationElsewhere } from '../storage/backup-location.ts';
import type { BackupStore } from '../storage/backup-store.ts';
import { backupObjectKey, backupPrefix } from '../storage/object-key.ts';
import { isVerified, type RetentionDecision, selectBackups } from './select-backups.ts';

/** One backup in a prune report (JSON-safe: it is also a job's result). */
export interface PruneBackupLine {
  readonly id: string;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly bytes: number;
  /** Its most recent verification passed (see `isVerified`). */
  readonly verified: boolean;
  readonly reasons: readonly string[];
}

/** A backup of the profile that lives in another config's store: never this prune's to judge. */
export interface PruneElsewhere {
  readonly id: string;
  /** Where the catalog records it. */
  readonly location: string;
}

/** A backup the prune meant to delete but left for its next run, because something reads it. */
export interface PruneInUse {
  readonly id: string;
  /** Who reads it: `restore rs_…`, `verify vf_…`. */
  readonly heldBy: readonly string[];
}

/** A backup the prune meant to delete but could not delete completely. */
export interface PruneFailure {
  readonly id: string;
  readonly error: string;
}

/** What a prune did (or, dry, would do) to one profile. */
export interface ProfilePruneReport {
  readonly profile: string;
  /** The profile's policy; null when it has none and so keeps everything. */
  readonly policy: RetentionConfig | null;
  /** Newest first. */
  readonly kept: readonly PruneBackupLine[];
  /** Newest first: deleted, or to be deleted by a dry run. */
  readonly deleted: readonly PruneBackupLine[];
  readonly keptBytes: number;
  readonly freedBytes: number;
  readonly notes: readonly string[];
  /** Backups whose deletion failed (not in `deleted`, whose bytes are not counted as freed). */
  readonly failures: readonly PruneFailure[];
  /**
   * Completed backups of the profile the catalog records in none of this config's stores
   * (another config sharing the catalog database): left out of the plan and left alone.
   */
  readonly elsewhere: readonly PruneElsewhere[];
  /**
   * Backups no rule keeps that a restore, verification or copy was reading: not deleted (not in
   * `deleted`, not counted as freed), left for the next prune.
   */
  readonly inUse: readonly PruneInUse[];
}

export interface PruneReport {
  readonly dryRun: boolean;
  readonly requestedBy: string;
  readonly profiles: readonly ProfilePruneReport[];
}

export interface PruneRequest {
  /** Only this profile; @defaultValue every profile in the config */
  readonly profile?: string | null;
  readonly requestedBy: string;
  /** Plan only: read the catalog, delete nothing, mark nothing. */
  readonly dryRun: boolean;
}

export interface PruneDeps {
  readonly config: LifeboatConfig;
  readonly retention: RetentionRepository;
  /**
   * Every store a backup's objects may be in: the primary first, then the replicas. A pruned
   * backup is deleted from all of them; a backup the catalog records in none of them belongs
   * to another config and is left alone. A dry run reads no store but needs them too.
   */
  readonly stores: readonly BackupStore[];
  /** Readers' claims: a backup is deleted only under an exclusive claim, taken without waiting. */
  readonly claims: Pick<BackupClaims, 'tryExclusive'>;
  /** Told about each backup deleted or failed, for the logs. */
  readonly onDeleted?: (profile: string, id: string, error?: string) => void;
  /** Stops before the next backup when aborted (a worker shutting down); rethrows its reason. */
  readonly signal?: AbortSignal;
}

/**
 * Applies the profiles' retention policies: reads each profile's completed backups from the
 * catalog, decides with {@link selectBackups} over those that live in this config's stores
 * (others belong to another config sharing the catalog, and are only listed), and unless
 * `dryRun` deletes the backups no rule keeps. A profile without a policy keeps everything and is
 * reported as such.
 *
 * A backup is deleted only under an exclusive claim (see `BackupClaims`), taken without waiting:
 * one that a restore, verification or copy is reading is left for the next prune and listed in
 * `inUse`. Each backup goes in three steps, so that no half-deleted backup ever looks restorable:
 * 1. its `manifest.json` is deleted from every store (a backup without one is incomplete);
 * 2. the catalog marks it `pruned` with the reasons;
 * 3. the rest of its objects are deleted from every store.
 * A failure in step 1 leaves the backup completed and whole in the catalog (try again later); a
 * failure in step 3 leaves objects that `lifeboat catalog rebuild --clean-incomplete` reports and
 * removes. Either is reported under `failures`, and the prune goes on with the next backup.
 */
export async function prune(deps: PruneDeps, request: PruneRequest): Promise<PruneReport> {
  const names = request.profile ? [request.profile] : Object.keys(deps.config.profiles);
  const profiles: ProfilePruneReport[] = [];
  for (const profile of names) {
    const policy = deps.config.profiles[profile]?.retention;
    const ours = [];
    const elsewhere: PruneElsewhere[] = [];
    for (const candidate of await deps.retention.candidates(profile)) {
      const location = locationElsewhere(candidate, deps.stores);
      if (location === undefined) ours.push(candidate);
      else elsewhere.push({ id: candidate.id, location });
    }
    const plan = selectBackups(policy, ours);
    const failures: PruneFailure[] = [];
    const deleted: RetentionDecision[] = [];
    const inUse: PruneInUse[] = [];
    if (!request.dryRun) {
      for (const decision of plan.deleted) {
        deps.signal?.throwIfAborted();
        const { id } = decision.backup;
        const claim = await deps.claims.tryExclusive(id, `prune by ${request.requestedBy}`);
        if ('heldBy' in claim) {
          inUse.push({ id, heldBy: claim.heldBy });
          deps.onDeleted?.(profile, id, `in use by ${claim.heldBy.join(', ')}`);
          continue;
        }
        let error: string | undefined;
        try {
          error = await pruneBackup(deps, decision, request.requestedBy);
        } finally {
          await claim.lock.release();
        }
        if (error) failures.push({ id, error });
        else deleted.push(decision);
        deps.onDeleted?.(profile, id, error);
      }
    }
    const gone = request.dryRun ? plan.deleted : deleted;
    profiles.push({
      profile,
      policy: policy ?? null,
      kept: plan.kept.map(lineOf),
      deleted: gone.map(lineOf),
      keptBytes: plan.keptBytes,
      freedBytes: gone.reduce((sum, d) => sum + d.backup.bytes, 0),
      notes: plan.notes,
      failures,
      elsewhere,
      inUse,
    });
  }
  return { dryRun: request.dryRun, requestedBy: request.requestedBy, profiles };
}

/** Deletes one backup everywhere; returns what went wrong, or undefined. */
async function pruneBackup(
  deps: PruneDeps,
  decision: RetentionDecision,
  requestedBy: string,
): Promise<string | undefined> {
  const id = decision.backup.id;
  let manifestKey: string;
  let prefix: string;
  try {
    manifestKey = backupObjectKey(id, MANIFEST_OBJECT);
    prefix = backupPrefix(id);
  } catch (error) {
    return `${messageOf(error)}; the backup is left as it was`;
  }
  for (const store of deps.stores) {
    try {
      await store.delete(manifestKey);
    } catch (error) {
      return `could not delete ${store.describe(manifestKey)}: ${messageOf(error)}; the backup is left as it was`;
    }
  }
  try {
    await deps.retention.markPruned(
      id,
      `${decision.reasons.join('; ')} (pruned by ${requestedBy})`,
    );
  } catch (error) {
    return `its manifest is deleted, but the catalog could not mark it pruned (${messageOf(error)}); \`lifeboat catalog rebuild\` records it as missing from storage`;
  }
  const left: string[] = [];
  for (const store of deps.stores) {
    try {
      await store.deleteAll(prefix);
    } catch (error) {
      left.push(`${store.describe(prefix)}: ${messageOf(error)}`);
    }
  }
  if (left.length === 0) return undefined;
  return `pruned in the catalog, but objects are left at ${left.join('; ')}; \`lifeboat catalog rebuild --clean-incomplete\` removes them`;
}

function lineOf(decision: RetentionDecision): PruneBackupLine {
  return {
    id: decision.backup.id,
    createdAt: decision.backup.createdAt.toISOString(),
    bytes: decision.backup.bytes,
    verified: isVerified(decision.backup),
    reasons: decision.reasons,
  };
}
