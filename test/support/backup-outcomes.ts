import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BackupError } from '../../src/core/errors.ts';
import type { BackupStore } from '../../src/storage/backup-store.ts';

/** What a backup run left behind, and how it failed. */

/** The keys the store lists under `prefix`. */
export async function keysOf(store: BackupStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list(prefix)) keys.push(object.key);
  return keys;
}

/** Every non-directory entry under `dir`, as absolute paths; rejects when `dir` is missing. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name));
}

/** The `BackupError` that `promise` rejects with; fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<BackupError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof BackupError) return error;
    throw error;
  }
  throw new Error('expected the backup to fail');
}
