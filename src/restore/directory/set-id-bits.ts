import { chmod, lstat } from 'node:fs/promises';
import { displayFileName, pathBytes } from '../../core/file-names.ts';
import { plural } from '../../core/format.ts';
import type { CheckedEntry } from '../../tar/archive-check.ts';

/** The setuid and setgid bits of a mode. */
const SET_ID_BITS = 0o6000;

/** The files whose setuid or setgid bits a restore removed. */
export interface SetIdBitsRemoved {
  readonly count: number;
  /** One of them, relative to the destination. */
  readonly example: string | null;
}

/**
 * Removes the setuid and setgid bits from the regular files the archive holds with either, as
 * extracted under `root` (the restore's private directory: nothing else can swap a path there).
 * The worker restores as root, so a set-user-ID file from a backup, or from a tampered archive,
 * would otherwise run as its owner for whoever can reach it. Directories keep theirs (a setgid
 * directory only passes its group on); hard links share their file's inode and mode.
 */
export async function removeSetIdBits(
  root: string,
  entries: readonly CheckedEntry[],
): Promise<SetIdBitsRemoved> {
  let count = 0;
  let example: string | null = null;
  for (const entry of entries) {
    if (entry.type !== 'file' || (entry.mode & SET_ID_BITS) === 0) continue;
    const path = pathBytes(root, entry.path);
    const info = await lstat(path);
    if (!info.isFile() || (info.mode & SET_ID_BITS) === 0) continue;
    await chmod(path, info.mode & 0o7777 & ~SET_ID_BITS);
    count++;
    example ??= entry.path;
  }
  return { count, example };
}

/** The restore result's note for {@link removeSetIdBits}; null when it removed nothing. */
export function setIdBitsNote(removed: SetIdBitsRemoved): string | null {
  if (removed.count === 0 || removed.example === null) return null;
  return `setuid and setgid bits removed from ${plural(removed.count, 'file')} (${displayFileName(removed.example)} among them); set keepSetuid: true on the target to keep them`;
}
