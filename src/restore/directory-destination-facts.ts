import { constants } from 'node:fs';
import { access, opendir, stat, statfs } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { plural } from '../core/format.ts';
import { diagnoseDirectory, explainFileSystemError } from '../storage/file-system-errors.ts';

/** Directories inside a destination whose writability a restore check samples, at most. */
export const SAMPLED_DIRECTORIES = 200;
/** Entries a restore check reads inside a destination, at most (a directory may hold millions). */
export const SAMPLED_ENTRIES = 10_000;

/** What a restore check found of a directory destination, besides whether it can be written. */
export interface DirectoryDestinationFacts {
  /** Where the space was measured: the destination, or the deepest directory on its way that exists. */
  readonly at: string;
  /** Bytes free there for this process's user; null when unknown. */
  readonly freeBytes: number | null;
  /** The staging directory is on the same file system: staged components take space there too. */
  readonly sharesStaging: boolean;
  /** What the writability check looked at, for people. */
  readonly checked: string;
}

/** A directory destination looked at: why it cannot be written (or null), and what was found. */
export interface DirectoryDestinationLook {
  readonly problem: string | null;
  readonly facts: DirectoryDestinationFacts;
}

/**
 * Looks at a directory destination as a restore would use it, reading a bounded number of
 * entries (never the whole tree): the destination must be a directory that can be written (a
 * restore extracts into a private directory inside it and moves entries into place), or,
 * when it does not exist yet, the deepest directory on its way must be; directories inside it
 * are sampled, breadth first, up to {@link SAMPLED_DIRECTORIES} directories and
 * {@link SAMPLED_ENTRIES} entries read, since a restore moves entries into them. The space
 * free is measured where the restore extracts.
 */
export async function lookAtDirectoryDestination(
  path: string,
  stagingDirectory: string,
): Promise<DirectoryDestinationLook> {
  const root = resolve(path);
  const at = await deepestExisting(root);
  const [freeBytes, sharesStaging] = await Promise.all([
    statfs(at).then(
      (info) => info.bavail * info.bsize,
      () => null,
    ),
    sameDevice(at, stagingDirectory),
  ]);
  const facts = (checked: string) => ({ at, freeBytes, sharesStaging, checked });
  const cause = await diagnoseDirectory(root, undefined);
  if (cause) {
    const explained = explainFileSystemError(undefined, `its path ${root}`, cause);
    return {
      problem: `cannot be written: ${explained.message}`,
      facts: facts(`${cause.path}, on the way to ${root}`),
    };
  }
  if (at !== root) {
    return {
      problem: null,
      facts: facts(`${root} does not exist yet; ${at}, where it is created, can be written`),
    };
  }
  const sample = await sampleDirectories(root);
  if (sample.denied) {
    const explained = explainFileSystemError(
      undefined,
      `the directory ${sample.denied.path} inside it`,
      {
        code: sample.denied.code,
        path: sample.denied.path,
      },
    );
    return {
      problem: `cannot be written: ${explained.message}`,
      facts: facts(sampleText(root, sample)),
    };
  }
  return { problem: null, facts: facts(sampleText(root, sample)) };
}

interface Sample {
  /** Directories inside the destination checked. */
  readonly directories: number;
  /** The whole tree was read; false when a limit stopped the walk. */
  readonly complete: boolean;
  /** The first directory found that cannot be written. */
  readonly denied?: { readonly path: string; readonly code: string };
}

function sampleText(root: string, sample: Sample): string {
  if (sample.directories === 0) return `${root} can be written (it holds no directories)`;
  const inside = sample.complete
    ? `all ${plural(sample.directories, 'directory', 'directories')} inside it`
    : `a sample of ${plural(sample.directories, 'directory', 'directories')} inside it (it holds more; the check stops at ${SAMPLED_DIRECTORIES} directories or ${SAMPLED_ENTRIES} entries)`;
  return `${root} and ${inside} ${sample.denied ? 'were checked' : 'can be written'}`;
}

async function sampleDirectories(root: string): Promise<Sample> {
  const queue = [root];
  let directories = 0;
  let entries = 0;
  while (queue.length > 0) {
    const directory = queue.shift() as string;
    let handle: Awaited<ReturnType<typeof opendir>>;
    try {
      handle = await opendir(directory);
    } catch (error) {
      return { directories, complete: false, denied: { path: directory, code: codeOf(error) } };
    }
    try {
      for await (const entry of handle) {
        if (++entries > SAMPLED_ENTRIES) return { directories, complete: false };
        if (!entry.isDirectory()) continue;
        if (directories >= SAMPLED_DIRECTORIES) return { directories, complete: false };
        const path = join(directory, entry.name);
        directories++;
        try {
          await access(path, constants.W_OK | constants.X_OK);
        } catch (error) {
          return { directories, complete: false, denied: { path, code: codeOf(error) } };
        }
        queue.push(path);
      }
    } finally {
      // `for await` closes the handle when it ends; after an early return it may be open still.
      await handle.close().catch(() => {});
    }
  }
  return { directories, complete: true };
}

/** `path`, or the deepest directory on its way that exists. */
async function deepestExisting(path: string): Promise<string> {
  let where = path;
  while (dirname(where) !== where) {
    if (
      await stat(where).then(
        () => true,
        () => false,
      )
    )
      return where;
    where = dirname(where);
  }
  return where;
}

async function sameDevice(a: string, b: string): Promise<boolean> {
  const [first, second] = await Promise.all([stat(a).catch(() => null), stat(b).catch(() => null)]);
  return first !== null && second !== null && first.dev === second.dev;
}

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'EACCES';
}
