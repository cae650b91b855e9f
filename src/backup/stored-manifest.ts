import { LifeboatError, messageOf, UserFacingError } from '../core/errors.ts';
import { locationElsewhere } from '../storage/backup-location.ts';
import type { BackupStore } from '../storage/backup-store.ts';
import type { Manifest } from './manifest.ts';
import { manifestDisagreements } from './manifest-agreement.ts';
import { readManifest } from './read-manifest.ts';

/** What the catalog holds of a backup that a reader checks the store against. */
export interface CataloguedBackup {
  readonly id: string;
  /** The catalog's copy of the manifest; null when it has none that validates. */
  readonly manifest: Manifest | null;
  /** Where the catalog records the backup (its primary store's location). */
  readonly location: string | null;
}

/**
 * Why a backup cannot be read as the catalog describes it: its manifest is missing from the
 * store (`manifest_not_found`), does not validate (`manifest_invalid`), disagrees with the
 * catalog (`manifest_disagrees`), the catalog's copy is unusable (`catalog_manifest_invalid`),
 * or the backup lives in another config's store (`backup_elsewhere`). Shown to people as is.
 */
export class StoredManifestError extends UserFacingError {}

/**
 * The manifest of a backup as the store holds it — storage is the truth — once it is known to
 * be what the catalog describes: read and validated, and equal to the catalog's copy in its id
 * and, for every component, object, sizes, sha256, compression, encryption and source metadata.
 * Everything that reads a backup's objects (restore and its plan, verify, replication) reads its
 * manifest here, before it touches anything.
 *
 * @param stores the config's stores, the one read first: a backup recorded elsewhere is refused
 * @throws StoredManifestError saying what is wrong and pointing at `/backup verify` and
 * `lifeboat catalog rebuild`; any other error of the store (unreachable) as it is.
 */
export async function readCataloguedManifest(
  stores: readonly [BackupStore, ...BackupStore[]],
  backup: CataloguedBackup,
): Promise<Manifest> {
  const [store] = stores;
  const { id } = backup;
  const elsewhere = locationElsewhere(backup, stores);
  if (elsewhere !== undefined) {
    throw new StoredManifestError(
      'backup_elsewhere',
      `backup ${id} is recorded in ${elsewhere}, not in this config's store (${store.describe(id)}): another config sharing this catalog holds it; use that config for it. Nothing was changed`,
    );
  }
  const advice = `Nothing was changed. \`/backup verify ${id} --level 1\` checks what the store holds; \`lifeboat catalog rebuild\` brings the catalog in line with storage`;
  let stored: Manifest;
  try {
    stored = await readManifest(store, id);
  } catch (error) {
    if (error instanceof LifeboatError && isManifestProblem(error.code)) {
      throw new StoredManifestError(error.code, `${messageOf(error)}. ${advice}`, {
        cause: error,
      });
    }
    throw error;
  }
  if (!backup.manifest) {
    throw new StoredManifestError(
      'catalog_manifest_invalid',
      `the catalog has no valid copy of the manifest of backup ${id} to check ${store.describe(`${id}/manifest.json`)} against. ${advice}`,
    );
  }
  const differences = manifestDisagreements(stored, backup.manifest);
  if (differences.length > 0) {
    throw new StoredManifestError(
      'manifest_disagrees',
      `the manifest of backup ${id} in the store (${store.describe(`${id}/manifest.json`)}) disagrees with the catalog: ${differences.slice(0, 5).join('; ')}${differences.length > 5 ? `; and ${differences.length - 5} more` : ''}. ${advice}`,
    );
  }
  return stored;
}

function isManifestProblem(code: string): boolean {
  return code === 'manifest_not_found' || code === 'manifest_invalid';
}
