import type { BackupStore } from './backup-store.ts';

/** Deletes every object stored under `<backupId>/`; returns how many there were. */
export async function deleteBackupObjects(store: BackupStore, backupId: string): Promise<number> {
  const keys: string[] = [];
  for await (const object of store.list(`${backupId}/`)) keys.push(object.key);
  for (const key of keys) await store.delete(key);
  return keys.length;
}
