import { accessSync, closeSync, constants, mkdirSync, openSync, statSync } from 'node:fs';
import { access, mkdir, mkdtemp, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { LifeboatError } from '../core/errors.ts';
import { PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE } from '../core/private-modes.ts';

/**
 * Codes of the file-system errors that have a cause a person can act on. `fs.mkdir` with
 * `recursive` reports a read-only file system or a missing permission as ENOENT; those are
 * found again here by looking at the deepest directory that exists.
 */
const EXPLAINED = new Set(['EROFS', 'EACCES', 'EPERM', 'ENOSPC', 'EDQUOT', 'ENOTDIR', 'EEXIST']);

/** The calls by which the file system itself fails (a `spawn` that fails is not one). */
const FILE_SYSCALLS = new Set([
  'open',
  'read',
  'write',
  'close',
  'fsync',
  'mkdir',
  'rmdir',
  'rename',
  'unlink',
  'scandir',
  'stat',
  'lstat',
  'access',
  'copyfile',
  'ftruncate',
  'mkdtemp',
]);

/** True for an error of the file system (ENOSPC on write), as opposed to a stream's own. */
export function isFileSystemError(error: unknown): error is NodeJS.ErrnoException {
  const { code, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  return typeof code === 'string' && typeof syscall === 'string' && FILE_SYSCALLS.has(syscall);
}

/**
 * A file-system error as its real cause, naming what it was about: `the store
 * /srv/backups is read-only (EROFS)`, `no space left on the device holding the staging
 * directory /tmp/x (ENOSPC)`, `the log directory /x is not writable by nobody (EACCES)`.
 *
 * @param subject what the path is, for people: `the store /srv/backups`.
 * @param cause the code found by looking again (see {@link diagnoseDirectory}), if any.
 */
export function explainFileSystemError(
  error: unknown,
  subject: string,
  cause?: { readonly code: string; readonly path: string },
): LifeboatError {
  if (error instanceof LifeboatError) return error;
  const code = cause?.code ?? (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  const path = cause?.path ?? (error as NodeJS.ErrnoException | undefined)?.path;
  const at = path ? ` (at ${path})` : '';
  const options = { cause: error };
  switch (code) {
    case 'EROFS':
      return new LifeboatError(
        'file_system_read_only',
        `${subject} is read-only: its file system is mounted read-only${at} (EROFS)`,
        options,
      );
    case 'EACCES':
    case 'EPERM':
      return new LifeboatError(
        'file_system_permission_denied',
        `${subject} is not writable by the user ${osUser()}: permission denied${at} (${code})`,
        options,
      );
    case 'ENOSPC':
      return new LifeboatError(
        'file_system_full',
        `no space left on the device holding ${subject} (ENOSPC)`,
        options,
      );
    case 'EDQUOT':
      return new LifeboatError(
        'file_system_full',
        `the disk quota of the user ${osUser()} is used up on the device holding ${subject} (EDQUOT)`,
        options,
      );
    case 'ENOTDIR':
    case 'EEXIST':
      return new LifeboatError(
        'file_system_not_a_directory',
        `${subject} cannot be a directory: a file is in the way${at} (${code})`,
        options,
      );
    default: {
      const message = error instanceof Error ? error.message : String(error);
      return new LifeboatError('file_system_error', `${subject}: ${message}`, options);
    }
  }
}

/**
 * Creates `path` and its parents; a failure comes out as its real cause (see
 * {@link explainFileSystemError}), never as the ENOENT a recursive mkdir reports for a
 * read-only file system or a missing permission.
 */
export async function makeDirectory(path: string, subject: string, mode?: number): Promise<void> {
  try {
    await mkdir(path, mode === undefined ? { recursive: true } : { recursive: true, mode });
  } catch (error) {
    throw explainFileSystemError(error, subject, await diagnoseDirectory(path, error));
  }
}

/**
 * A new private directory `<parent>/<prefix>XXXXXX` (mode 0700, as `mkdtemp` makes it); a
 * failure comes out as its real cause, naming `subject`: `the staging directory /tmp`.
 */
export async function makeTemporaryDirectory(
  parent: string,
  prefix: string,
  subject: string,
): Promise<string> {
  try {
    return await mkdtemp(join(parent, prefix));
  } catch (error) {
    throw explainFileSystemError(error, subject, await diagnoseDirectory(parent, error));
  }
}

/**
 * Opens `path` for appending (creating it 0600: a log names people and targets) and closes it
 * again, so that a log file that cannot be written stops start-up with its real cause rather
 * than failing later in the background.
 */
export function checkWritable(path: string, subject: string): void {
  try {
    closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  } catch (error) {
    throw explainFileSystemError(error, subject, diagnoseDirectorySync(dirname(path), error));
  }
}

/**
 * {@link makeDirectory}, synchronously (start-up, before anything else runs); the directories it
 * creates are private (0700).
 */
export function makeDirectorySync(path: string, subject: string): void {
  try {
    mkdirSync(path, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  } catch (error) {
    throw explainFileSystemError(error, subject, diagnoseDirectorySync(path, error));
  }
}

/**
 * Why `path` cannot be created or written: the code `access(W_OK)` gives for the deepest
 * directory that exists on the way to it, or a file found in the way. Undefined when nothing
 * better than `error`'s own code is found.
 */
export async function diagnoseDirectory(
  path: string,
  error: unknown,
): Promise<{ code: string; path: string } | undefined> {
  if (EXPLAINED.has(codeOf(error)) && codeOf(error) !== 'EEXIST') return undefined;
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    const info = await stat(dir).catch(() => undefined);
    if (info) {
      if (!info.isDirectory()) return { code: 'ENOTDIR', path: dir };
      try {
        await access(dir, constants.W_OK);
        return undefined;
      } catch (denied) {
        return { code: codeOf(denied) || 'EACCES', path: dir };
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function diagnoseDirectorySync(
  path: string,
  error: unknown,
): { code: string; path: string } | undefined {
  if (EXPLAINED.has(codeOf(error)) && codeOf(error) !== 'EEXIST') return undefined;
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    let isDirectory: boolean | undefined;
    try {
      isDirectory = statSync(dir).isDirectory();
    } catch {
      isDirectory = undefined;
    }
    if (isDirectory === false) return { code: 'ENOTDIR', path: dir };
    if (isDirectory) {
      try {
        accessSync(dir, constants.W_OK);
        return undefined;
      } catch (denied) {
        return { code: codeOf(denied) || 'EACCES', path: dir };
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? '';
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}
