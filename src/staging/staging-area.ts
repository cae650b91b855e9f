import { chmod, lstat, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LifeboatError } from '../core/errors.ts';
import { PRIVATE_DIRECTORY_MODE } from '../core/private-modes.ts';
import { makeDirectory, makeTemporaryDirectory } from '../storage/file-system-errors.ts';
import { currentOwner, OWNER_PATTERN, ownerIsAlive } from './process-owner.ts';

/** What a staging directory holds, in its name: `restore`, `verify`, `redis`, `snapshot`. */
export type StagingKind = 'restore' | 'verify' | 'redis' | 'snapshot';

/** A staging directory's name: `<pid>.<start>.<kind>-<6 random characters>` (see `mkdtemp`). */
const ENTRY_PATTERN = /^(\d+\.(?:\d+|x))\.([a-z]+)-[A-Za-z0-9]{6}$/;

/**
 * The one staging root of this user: `$TMPDIR/lifeboat-staging-<uid>` (`lifeboat-staging` where
 * there are no uids). Read when called, so a changed `TMPDIR` applies.
 */
export function defaultStagingRoot(): string {
  const uid = process.getuid?.();
  return join(tmpdir(), uid === undefined ? 'lifeboat-staging' : `lifeboat-staging-${uid}`);
}

/**
 * Makes a new private directory for one job's staged data (decrypted dumps, snapshots) under
 * `root`, named after this process so that {@link sweepStaging} can tell when its owner is gone.
 * The root is made, or checked, private (0700, a directory of this user, not a link) first:
 * staged data is the backup in the clear.
 *
 * @throws LifeboatError `staging_unsafe` when the root belongs to someone else or is not a
 * plain directory.
 */
export async function createStagingDirectory(
  kind: StagingKind,
  root: string = defaultStagingRoot(),
): Promise<string> {
  await ensurePrivateRoot(root);
  return makeTemporaryDirectory(
    root,
    `${currentOwner()}.${kind}-`,
    `the staging directory ${root}`,
  );
}

/**
 * Where restores keep the journals that put a destination back (the keys a redis restore is
 * writing): `$TMPDIR/lifeboat-journals-<uid>`, beside the staging root and never swept with
 * it — a sweep replays a journal of a dead process before it removes it.
 */
export function defaultJournalRoot(): string {
  const uid = process.getuid?.();
  return join(tmpdir(), uid === undefined ? 'lifeboat-journals' : `lifeboat-journals-${uid}`);
}

/**
 * Makes `root`, or checks it, private (0700, a directory of this user, not a link).
 *
 * @throws LifeboatError `staging_unsafe` when it belongs to someone else or is not a plain
 * directory.
 */
export async function ensurePrivateDirectory(root: string): Promise<void> {
  await ensurePrivateRoot(root);
}

/** A staging directory {@link sweepStaging} removed. */
export interface SweptStaging {
  readonly path: string;
  readonly kind: string;
  readonly owner: string;
}

/**
 * Removes the staging directories under `root` whose owning process is gone (killed, crashed):
 * nothing else ever would, and for an encrypted backup they hold it decrypted. Directories of
 * live processes, and entries that are not staging directories, are left alone. A missing
 * root has nothing to sweep.
 */
export async function sweepStaging(root: string = defaultStagingRoot()): Promise<SweptStaging[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const swept: SweptStaging[] = [];
  for (const name of names.sort()) {
    const match = ENTRY_PATTERN.exec(name);
    const owner = match?.[1];
    if (!match || owner === undefined || !OWNER_PATTERN.test(owner) || ownerIsAlive(owner)) {
      continue;
    }
    const path = join(root, name);
    await rm(path, { recursive: true, force: true });
    swept.push({ path, kind: match[2] ?? '', owner });
  }
  return swept;
}

async function ensurePrivateRoot(root: string): Promise<void> {
  await makeDirectory(root, `the staging directory ${root}`, PRIVATE_DIRECTORY_MODE);
  const info = await lstat(root);
  const uid = process.getuid?.();
  if (!info.isDirectory() || info.isSymbolicLink()) {
    throw unsafe(root, 'it is not a plain directory');
  }
  if (uid !== undefined && info.uid !== uid) {
    throw unsafe(root, `it belongs to uid ${info.uid}, not to this user (uid ${uid})`);
  }
  if ((info.mode & 0o077) !== 0) await chmod(root, PRIVATE_DIRECTORY_MODE);
}

function unsafe(root: string, why: string): LifeboatError {
  return new LifeboatError(
    'staging_unsafe',
    `the staging directory ${root} cannot be used: ${why}. Staged data is the backup in the clear, so it must be private: remove ${root}, or set TMPDIR to a directory of this user`,
  );
}
