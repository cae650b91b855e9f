import { LifeboatError } from '../core/errors.ts';

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
