import type { BackupCatalogView, BackupRecord } from '../app/services.ts';
import type { BackupRepository } from '../catalog/backup-repository.ts';
import { locationElsewhere } from '../storage/backup-location.ts';
import type { BackupStore } from '../storage/backup-store.ts';

/** How far back `latest` looks past backups of another config before it gives up. */
const LOOK_BACK = 200;

/**
 * The newest completed backup of `profile` that lives in this config's stores: `latest` never
 * names a backup of another config sharing the catalog (whose objects this one cannot read).
 */
export async function latestInStores(
  backups: Pick<BackupRepository, 'latestCompleted'> & Pick<BackupCatalogView, 'list'>,
  profile: string,
  stores: readonly BackupStore[],
): Promise<BackupRecord | undefined> {
  const latest = await backups.latestCompleted(profile);
  if (!latest || locationElsewhere(latest, stores) === undefined) return latest;
  const recent = await backups.list({ profile, limit: LOOK_BACK });
  return recent.find((b) => b.status === 'completed' && locationElsewhere(b, stores) === undefined);
}
