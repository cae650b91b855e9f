import { MANIFEST_OBJECT } from '../backup/manifest.ts';
import { readManifest } from '../backup/read-manifest.ts';
import { LifeboatError } from '../core/errors.ts';
import { formatBytes } from '../core/format.ts';
import { backupIdTime, isBackupId } from '../core/ids.ts';
import { locationElsewhere } from '../storage/backup-location.ts';
import type { BackupStore } from '../storage/backup-store.ts';
import { backupPrefix } from '../storage/object-key.ts';
import type { InventoryRepository, RecordOutcome } from './inventory-repository.ts';

/** A prefix this young may be a backup still being written: never cleaned. @defaultValue 1 h */
export const DEFAULT_SAFETY_AGE_MS = 60 * 60 * 1000;

/** The reason recorded on a completed backup whose manifest is gone from storage. */
export const MISSING_REASON = 'missing from storage (found by lifeboat catalog rebuild)';

export interface RebuildOptions {
  /** The primary store: the truth the catalog is rebuilt from. */
  readonly store: BackupStore;
  readonly inventory: InventoryRepository;
  /** Delete incomplete prefixes that are safe to delete (see {@link IncompletePrefix}). */
  readonly cleanIncomplete: boolean;
  /** @defaultValue {@link DEFAULT_SAFETY_AGE_MS} */
  readonly safetyAgeMs?: number;
  /** @defaultValue `() => new Date()` */
  readonly now?: () => Date;
}

/** A complete backup found in storage and what recording it did to the catalog. */
export interface RecordedBackup {
  readonly id: string;
  readonly profile: string;
  readonly outcome: RecordOutcome;
}

/** What happened to an incomplete prefix. */
export type IncompleteAction =
  /** Deleted (with --clean-incomplete). */
  | 'deleted'
  /** Left because --clean-incomplete was not given. */
  | 'reported'
  /** Left because the catalog has its backup queued or running: it is being written. */
  | 'kept-active'
  /** Left because it is younger than the safety age (or its age is unknown). */
  | 'kept-young';

/** A backup prefix in storage without a manifest: a backup that never finished, or a leftover. */
export interface IncompletePrefix {
  readonly id: string;
  readonly objects: readonly string[];
  readonly bytes: number;
  readonly action: IncompleteAction;
  /** Why it was kept, or the error when deleting it failed. */
  readonly detail?: string;
}

export interface RebuildReport {
  /** Where the store is, for people. */
  readonly store: string;
  readonly recorded: readonly RecordedBackup[];
  /** Completed in the catalog but without a manifest in storage: now `pruned` with a reason. */
  readonly missing: readonly string[];
  /**
   * Completed in the catalog but recorded in another store (another config's local path or
   * bucket sharing this catalog): not this store's to judge, so left as they are.
   */
  readonly elsewhere: readonly { readonly id: string; readonly location: string }[];
  readonly incomplete: readonly IncompletePrefix[];
  /** Prefixes whose manifest does not read or validate; left as they are for a person to see. */
  readonly invalid: readonly { readonly id: string; readonly error: string }[];
}

/**
 * Rebuilds the catalog from storage, which is the truth: every backup prefix of the primary
 * store with a valid manifest is recorded as a completed backup with its components; completed
 * backups whose manifest is gone are marked `pruned` ("missing from storage"); prefixes without
 * a manifest are incomplete and reported with their objects and size, and with
 * `cleanIncomplete` deleted — except those whose backup the catalog has queued or running, and
 * those younger than the safety age, which may still be written by a worker the catalog does
 * not know about. A manifest that does not read or validate is reported and left alone.
 * Running it twice changes nothing the second time. Run it while no prune runs: a backup pruned
 * between the listing and the reading of its manifest could be recorded completed again.
 */
export async function rebuildCatalog(options: RebuildOptions): Promise<RebuildReport> {
  const { store, inventory } = options;
  const now = (options.now ?? (() => new Date()))();
  const safetyAgeMs = options.safetyAgeMs ?? DEFAULT_SAFETY_AGE_MS;

  const prefixes = new Map<string, { keys: string[]; bytes: number }>();
  for await (const object of store.list('bk_')) {
    const id = object.key.slice(0, object.key.indexOf('/'));
    if (!isBackupId(id)) continue;
    const entry = prefixes.get(id) ?? { keys: [], bytes: 0 };
    entry.keys.push(object.key);
    entry.bytes += object.bytes;
    prefixes.set(id, entry);
  }

  const catalogued = new Map((await inventory.all()).map((entry) => [entry.id, entry]));
  const recorded: RecordedBackup[] = [];
  const invalid: { id: string; error: string }[] = [];
  const incomplete: IncompletePrefix[] = [];
  const complete = new Set<string>();

  for (const [id, { keys, bytes }] of [...prefixes].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const status = catalogued.get(id)?.status;
    const asIncomplete = async () => {
      incomplete.push(
        await handleIncomplete(options, { id, keys, bytes, status, now, safetyAgeMs }),
      );
    };
    if (!keys.includes(`${id}/${MANIFEST_OBJECT}`)) {
      await asIncomplete();
      continue;
    }
    try {
      const manifest = await readManifest(store, id);
      const outcome = await inventory.recordStored(manifest, store.describe(id));
      recorded.push({ id, profile: manifest.profile, outcome });
      complete.add(id);
    } catch (error) {
      const code = error instanceof LifeboatError ? error.code : undefined;
      // Deleted since it was listed (a prune at work): incomplete now.
      if (code === 'manifest_not_found') await asIncomplete();
      else if (code === 'manifest_invalid') invalid.push({ id, error: (error as Error).message });
      else throw error;
    }
  }

  const missing: string[] = [];
  const elsewhere: { id: string; location: string }[] = [];
  const unreadable = new Set(invalid.map((i) => i.id));
  for (const entry of catalogued.values()) {
    if (entry.status !== 'completed' || complete.has(entry.id) || unreadable.has(entry.id)) {
      continue;
    }
    const location = locationElsewhere(entry, [store]);
    if (location !== undefined) {
      elsewhere.push({ id: entry.id, location });
      continue;
    }
    if (await inventory.markMissing(entry.id, MISSING_REASON)) missing.push(entry.id);
  }

  return { store: store.describe(''), recorded, missing, elsewhere, incomplete, invalid };
}

async function handleIncomplete(
  options: RebuildOptions,
  prefix: {
    id: string;
    keys: string[];
    bytes: number;
    status: string | undefined;
    now: Date;
    safetyAgeMs: number;
  },
): Promise<IncompletePrefix> {
  const { id, keys, bytes } = prefix;
  const base = { id, objects: keys, bytes };
  if (prefix.status === 'queued' || prefix.status === 'running') {
    return { ...base, action: 'kept-active', detail: `the catalog has it ${prefix.status}` };
  }
  const createdAt = backupIdTime(id);
  if (!createdAt || prefix.now.getTime() - createdAt.getTime() < prefix.safetyAgeMs) {
    return {
      ...base,
      action: 'kept-young',
      detail: `younger than ${formatAge(prefix.safetyAgeMs)}: it may still be being written`,
    };
  }
  if (!options.cleanIncomplete) return { ...base, action: 'reported' };
  try {
    await options.store.deleteAll(backupPrefix(id));
    return { ...base, action: 'deleted' };
  } catch (error) {
    return {
      ...base,
      action: 'reported',
      detail: `could not delete it: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

function formatAge(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}

/** The report as lines for a terminal. */
export function describeRebuild(report: RebuildReport, cleanIncomplete: boolean): string[] {
  const count = (outcome: RecordOutcome) =>
    report.recorded.filter((r) => r.outcome === outcome).length;
  const lines = [
    `Catalog rebuilt from ${report.store}`,
    `  ${report.recorded.length} complete backup(s) in storage: ${count('inserted')} added, ${count('updated')} updated, ${count('unchanged')} already right`,
  ];
  for (const r of report.recorded.filter((each) => each.outcome !== 'unchanged')) {
    lines.push(`    ${r.outcome === 'inserted' ? 'added  ' : 'updated'} ${r.id} (${r.profile})`);
  }
  if (report.missing.length) {
    lines.push(
      `  ${report.missing.length} backup(s) missing from storage, now marked pruned in the catalog:`,
      ...report.missing.map((id) => `    ${id}`),
    );
  }
  if (report.elsewhere.length) {
    lines.push(
      `  ${report.elsewhere.length} backup(s) recorded in another store, left as they are (is another config using this catalog?):`,
      ...report.elsewhere.map((e) => `    ${e.id}: ${e.location}`),
    );
  }
  if (report.invalid.length) {
    lines.push(
      `  ${report.invalid.length} backup(s) with an invalid manifest, left as they are:`,
      ...report.invalid.map((i) => `    ${i.id}: ${i.error}`),
    );
  }
  if (report.incomplete.length) {
    lines.push(`  ${report.incomplete.length} incomplete backup(s) (no manifest):`);
    for (const prefix of report.incomplete) {
      const what = `${prefix.objects.length} object(s), ${formatBytes(prefix.bytes)}`;
      lines.push(`    ${prefix.id}: ${what} — ${incompleteOutcome(prefix)}`);
      for (const key of prefix.objects) lines.push(`      ${key}`);
    }
    if (!cleanIncomplete && report.incomplete.some((p) => p.action === 'reported')) {
      lines.push(
        '  Run with --clean-incomplete to delete the incomplete ones that are safe to delete.',
      );
    }
  } else {
    lines.push('  No incomplete backups.');
  }
  return lines;
}

function incompleteOutcome(prefix: IncompletePrefix): string {
  switch (prefix.action) {
    case 'deleted':
      return 'deleted';
    case 'reported':
      return `kept: ${prefix.detail ?? '--clean-incomplete deletes it'}`;
    case 'kept-active':
    case 'kept-young':
      return `kept, never cleaned: ${prefix.detail}`;
  }
}
