import { LifeboatError } from '../core/errors.ts';
import type { BackupStore } from '../storage/backup-store.ts';
import { backupObjectKey } from '../storage/object-key.ts';
import { readBoundedText } from '../storage/read-bounded.ts';
import { MANIFEST_OBJECT, type Manifest, manifestSchema } from './manifest.ts';

/**
 * A manifest is a few kilobytes; anything this big is not one. The writer refuses to write a
 * larger one, so every manifest written can be read back.
 */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/**
 * Reads and validates `<id>/manifest.json`. A backup without one is incomplete or does not
 * exist: `manifest_not_found`. One that does not parse or validate: `manifest_invalid`.
 */
export async function readManifest(store: BackupStore, id: string): Promise<Manifest> {
  const key = backupObjectKey(id, MANIFEST_OBJECT);
  let text: string;
  try {
    text = await readBoundedText(
      store,
      key,
      MAX_MANIFEST_BYTES,
      () => new LifeboatError('manifest_invalid', `${key} is larger than any manifest can be`),
    );
  } catch (error) {
    if (error instanceof LifeboatError && error.code === 'object_not_found') {
      throw new LifeboatError(
        'manifest_not_found',
        `backup ${id} has no manifest at ${store.describe(key)}: it is incomplete or does not exist`,
        { cause: error },
      );
    }
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw invalid(id, `it is not JSON (${(error as Error).message})`, error);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw invalid(id, issues.slice(0, 5).join('; '), parsed.error);
  }
  if (parsed.data.id !== id) {
    throw invalid(id, `it describes backup ${parsed.data.id}`);
  }
  return parsed.data;
}

function invalid(id: string, why: string, cause?: unknown): LifeboatError {
  return new LifeboatError('manifest_invalid', `the manifest of backup ${id} is invalid: ${why}`, {
    cause,
  });
}
