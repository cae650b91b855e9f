import type { BackupStore } from './backup-store.ts';

/**
 * Where a backup lives when the catalog records it somewhere none of `stores` describes: another
 * config's local path or bucket sharing this catalog database. Undefined when it lives in one of
 * them, or when the catalog records no location (an old row), which counts as this config's.
 * Such a backup is not this config's to judge: catalog rebuild, prune, restore and verify
 * leave it alone and say where it is.
 */
export function locationElsewhere(
  backup: { readonly id: string; readonly location: string | null },
  stores: readonly BackupStore[],
): string | undefined {
  const { location } = backup;
  if (location === null) return undefined;
  return stores.some((store) => store.describe(backup.id) === location) ? undefined : location;
}
