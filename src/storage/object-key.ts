import { LifeboatError } from '../core/errors.ts';
import { isBackupId } from '../core/ids.ts';

/** A store's own in-flight file: `.<name>.partial-<random>`; never a key of a stored object. */
export const PARTIAL_OBJECT_PATTERN = /^\..+\.partial-[0-9a-z]+$/;

/**
 * Why `key` cannot name an object, or undefined when it can. A key is a relative path of `/`
 * separated segments: no empty, `.` or `..` segments, no leading `/`, no backslashes or NUL bytes,
 * and no segment shaped like a store's temporary file.
 */
export function objectKeyProblem(key: string): string | undefined {
  if (key.length === 0) return 'a key cannot be empty';
  if (key.length > 1024) return 'a key is at most 1024 characters';
  if (key.startsWith('/')) return 'a key is relative: it cannot start with "/"';
  if (key.includes('\\')) return 'a key cannot contain "\\"';
  if (key.includes('\0')) return 'a key cannot contain a NUL byte';
  for (const segment of key.split('/')) {
    if (segment === '') return 'a key cannot contain empty segments ("//" or a trailing "/")';
    if (segment === '.' || segment === '..') return 'a key cannot contain "." or ".." segments';
    if (PARTIAL_OBJECT_PATTERN.test(segment)) return 'a key cannot look like a temporary file';
  }
  return undefined;
}

/** Throws `invalid_object_key` unless `key` can name an object; returns it otherwise. */
export function assertObjectKey(key: string): string {
  const problem = objectKeyProblem(key);
  if (problem) {
    throw new LifeboatError('invalid_object_key', `invalid object key "${key}": ${problem}`);
  }
  return key;
}

/**
 * Throws `invalid_object_key` unless `prefix` is usable for listing: empty, or a key, or a key
 * followed by `/`, or a partial last segment (`bk_2026` matches `bk_20261122T…/`).
 */
export function assertKeyPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const problem = objectKeyProblem(trimmed);
  if (problem) {
    throw new LifeboatError('invalid_object_key', `invalid key prefix "${prefix}": ${problem}`);
  }
  return prefix;
}

/**
 * Why `name` cannot be one segment of a key — an object's name within its backup
 * (`app-db.dump.zst`), a component's name — or undefined when it can: a key without `/`.
 */
export function objectNameProblem(name: string): string | undefined {
  if (name.includes('/')) return 'a name is one segment: it cannot contain "/"';
  return objectKeyProblem(name)?.replace(/^a key/, 'a name');
}

/**
 * The key of object `name` of backup `backupId` (`bk_…/app-db.dump.zst`), built from names that
 * may come from storage or the catalog: throws `invalid_object_key` unless the id is a backup id
 * and the name one safe segment, so no stored name can reach outside its backup.
 */
export function backupObjectKey(backupId: string, name: string): string {
  const problem = objectNameProblem(name);
  if (problem) {
    throw new LifeboatError(
      'invalid_object_key',
      `invalid object name "${name}" in backup ${backupId}: ${problem}`,
    );
  }
  return `${backupPrefix(backupId)}${name}`;
}

/** `bk_…/`: the prefix of every object of a backup; throws `invalid_object_key` for a non-id. */
export function backupPrefix(backupId: string): string {
  if (!isBackupId(backupId)) {
    throw new LifeboatError(
      'invalid_object_key',
      `"${backupId}" is not a backup id (bk_<UTC time>_<profile>_<4 characters>), so it names no backup's objects`,
    );
  }
  return `${backupId}/`;
}
