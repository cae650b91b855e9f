import { spawn } from 'node:child_process';
import { mkdir, rm, stat, statfs } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { warningsOf } from '../../backup/component-warnings.ts';
import type { ManifestComponent } from '../../backup/manifest.ts';
import {
  childExit,
  StderrTail,
  toolVersionLine,
} from '../../backup/sources/child-process-output.ts';
import { gnuTarVersion } from '../../backup/sources/directory-source.ts';
import { childEnvironment } from '../../core/child-env.ts';
import { LifeboatError, messageOf, RestoreError } from '../../core/errors.ts';
import { formatBytes, plural } from '../../core/format.ts';
import { randomSuffix } from '../../core/ids.ts';
import { PRIVATE_DIRECTORY_MODE } from '../../core/private-modes.ts';
import { type CheckedArchive, checkTarFile } from '../../tar/archive-check.ts';
import { TAR_ATTRIBUTE_OPTIONS } from '../../tar/entry-kinds.ts';
import type {
  ComponentRestorer,
  RestoreDestination,
  RestoreInput,
  RestoreResult,
} from '../component-restorer.ts';
import { attributesNotSet, TarAttributeComplaints } from '../directory/attribute-notes.ts';
import { placeTree, planPlacement } from '../directory/place-tree.ts';
import {
  EXTRACTED,
  RestoreJournal,
  recoverInterruptedRestores,
  rollBack,
  saveAttributes,
  WORK_PREFIX,
} from '../directory/restore-journal.ts';
import { removeSetIdBits, setIdBitsNote } from '../directory/set-id-bits.ts';
import { checkTreeOnDisk } from '../directory/tree-on-disk.ts';
import { NO_UNDO_RECORDER } from '../undo-journal.ts';

export interface DirectoryRestorerOptions {
  /** The GNU tar binary. @defaultValue `tar` from the PATH */
  readonly tar?: string;
}

/** What ended a restore whose extracted tree did not match the manifest. */
class TreeMismatch extends Error {
  readonly checks: Awaited<ReturnType<typeof checkTreeOnDisk>>;

  constructor(checks: Awaited<ReturnType<typeof checkTreeOnDisk>>) {
    super('the extracted tree does not match the manifest');
    this.checks = checks;
  }
}

/**
 * Restores a directory component so that the destination ends either restored and validated,
 * or exactly as it was:
 *
 * 1. the staged tar is checked entry by entry (nothing that could land outside the
 *    destination: see `checkTarEntries`), and what is in the destination now is checked
 *    against it (`planPlacement`): a conflict refuses the restore before anything changes;
 * 2. GNU tar extracts it into a private directory (0700) inside the destination, so on the
 *    same file system even when the destination is a mount point, and the result is validated
 *    against the manifest; nothing of the destination is touched yet;
 * 3. the extracted entries are moved into place with renames, each recorded first in a journal
 *    (`RestoreJournal`), and the destination is validated again;
 * 4. any failure in 2 or 3 puts back everything moved, from the journal; a worker killed half
 *    way is rolled back by the next restore into the destination.
 *
 * Merging, not replacing: files in the backup replace those at the same paths and everything
 * else in the destination stays, as `pg_restore --clean` leaves a database's other objects. A
 * restore brings back what the backup holds; it does not delete files the backup never knew
 * (a stray upload is cheaper to remove by hand than a deleted one is to get back). The
 * displaced originals are removed once the restore is validated.
 *
 * Setuid and setgid bits of files are removed before anything moves into place, unless the
 * destination target says `keepSetuid: true`; the result's notes say how many and name one.
 *
 * Owners: tar's own rule. Run as root, files get the numeric owners they had (so the service
 * that owns them can read them again); run as anyone else, they belong to that user.
 *
 * Extended attributes and ACLs: tar sets those of every entry it creates. Those it may not set
 * (a file capability, `trusted.*`, when not run as root) and those of directories that existed
 * already (merged, so only their mode, owner and times are set) are named in the result's notes,
 * never dropped quietly.
 */
export class DirectoryRestorer implements ComponentRestorer {
  readonly kind = 'directory';
  private readonly tar: string;

  constructor(options: DirectoryRestorerOptions = {}) {
    this.tar = options.tar ?? 'tar';
  }

  describe(component: ManifestComponent, destination: RestoreDestination): string[] {
    const path = destinationPath(destination);
    const source = component.source.kind === 'directory' ? component.source : undefined;
    const what = source
      ? `${plural(source.files, 'file')} and ${plural(source.directories, 'directory', 'directories')}`
      : 'the archived files';
    const missing = warningsOf(component).filter((w) => w.kind === 'incomplete').length;
    const privileged = source?.privilegedXattrs ?? 0;
    return [
      `extract ${what} into a private directory inside ${path} (created if missing), check them against the manifest, then move them into place`,
      'files in the backup replace those at the same paths; other files there are left as they are',
      'refused before anything is written if an entry would land outside the destination; if anything fails, the destination is put back as it was',
      keepsSetId(destination)
        ? 'setuid and setgid bits of files are kept (keepSetuid)'
        : 'setuid and setgid bits of files are removed (set keepSetuid: true on the target to keep them)',
      ...(privileged > 0
        ? [
            `${plural(privileged, 'entry', 'entries')} ${privileged === 1 ? 'carries' : 'carry'} extended attributes only root can set back (file capabilities, trusted.*): a worker not running as root restores ${privileged === 1 ? 'it' : 'them'} without those and says so`,
          ]
        : []),
      ...(missing > 0
        ? [
            `this backup is incomplete: ${plural(missing, 'thing')} the directory held ${missing === 1 ? 'is' : 'are'} not in it, or not whole, and will not come back (\`/backup show\` lists them)`,
          ]
        : []),
    ];
  }

  async restore(input: RestoreInput): Promise<RestoreResult> {
    const { component, destination, signal } = input;
    const undo = input.undo ?? NO_UNDO_RECORDER;
    const root = destinationPath(destination);
    const progress = (message: string) => input.onProgress?.(message);
    signal.throwIfAborted();
    const tarVersion = gnuTarVersion(await toolVersionLine('tar', this.tar));
    const tools = { tar: tarVersion };

    let archive: CheckedArchive;
    let existed: boolean;
    try {
      progress('checking every entry of the archive');
      archive = await checkArchive(input.stagedFile);
      await recoverEarlierRestores(root, progress);
      existed = await isDirectory(root);
      await planPlacement(root, archive.entries);
      await assertRoom(root, (await stat(input.stagedFile)).size);
    } catch (error) {
      throw unchanged(error);
    }

    const rootBefore = existed ? await saveAttributes(root) : null;
    const created = existed ? [] : await createDirectory(root);
    const work = join(root, `${WORK_PREFIX}${randomSuffix(8)}`);
    let journal: RestoreJournal | undefined;
    try {
      await mkdir(work, { mode: PRIVATE_DIRECTORY_MODE });
      await mkdir(join(work, EXTRACTED), { mode: PRIVATE_DIRECTORY_MODE });
      journal = RestoreJournal.create(work);
      for (const directory of created) journal.record({ op: 'created', directory });
      if (rootBefore) journal.record({ op: 'attributes', path: '', before: rootBefore });
      // Before anything of the destination moves: a sweep finds the journal from the catalog.
      await undo.started({ kind: 'directory', workDirectory: work });

      progress(`extracting ${plural(archive.files, 'file')} into a private directory`);
      const notSet = await this.extract(input.stagedFile, join(work, EXTRACTED), signal);
      const setIdRemoved = keepsSetId(destination)
        ? null
        : await removeSetIdBits(join(work, EXTRACTED), archive.entries);
      progress('comparing what was extracted with the manifest');
      const extracted = await checkTreeOnDisk(component, join(work, EXTRACTED), archive);
      if (!extracted.every((c) => c.ok)) throw new TreeMismatch(extracted);

      const placements = await planPlacement(root, archive.entries);
      progress(`moving ${plural(placements.length, 'entry', 'entries')} into place`);
      await placeTree(root, work, placements, journal);
      progress('comparing the destination with the manifest');
      const checks = await checkTreeOnDisk(component, root, archive);
      if (!checks.every((c) => c.ok)) throw new TreeMismatch(checks);

      journal.record({ op: 'committed' });
      journal.close();
      // Said before the journal goes: a sweep that finds no journal knows it was rolled back.
      await undo.ended('restored');
      await rm(work, { recursive: true, force: true });
      const setIdNote = setIdRemoved ? setIdBitsNote(setIdRemoved) : null;
      const notes = [
        ...attributesNotSet(notSet, archive.entries, placements),
        ...(setIdNote ? [setIdNote] : []),
      ];
      return { tools, checks, ok: true, destinationState: 'restored', notes };
    } catch (error) {
      journal?.close();
      progress('putting the destination back as it was');
      try {
        const steps =
          journal?.recorded ?? created.map((directory) => ({ op: 'created' as const, directory }));
        await rollBack(root, work, steps);
      } catch (rollbackError) {
        throw new RestoreError(
          'restore_rollback_failed',
          `${messageOf(error)}; putting ${root} back as it was failed too (${messageOf(rollbackError)}): the destination is partly restored; what the restore moved aside is kept in ${work}, and the next restore into ${root} tries the rollback again`,
          { cause: error },
        );
      }
      if (error instanceof TreeMismatch) {
        return { tools, checks: error.checks, ok: false, destinationState: 'unchanged' };
      }
      throw unchanged(error);
    } finally {
      journal?.finished();
    }
  }

  /** Extracts `archive` into `into`; returns what tar said of attributes it could not set. */
  private async extract(
    archive: string,
    into: string,
    signal: AbortSignal,
  ): Promise<TarAttributeComplaints> {
    const child = spawn(
      this.tar,
      [
        '--extract',
        `--file=${archive}`,
        `--directory=${into}`,
        '--numeric-owner',
        // Modes as archived, not reduced by the worker's umask.
        '--preserve-permissions',
        // Extended attributes of every namespace and ACLs, as the backup archived them.
        ...TAR_ATTRIBUTE_OPTIONS,
      ],
      // C locale: tar's warnings about attributes are read.
      { stdio: ['ignore', 'ignore', 'pipe'], env: childEnvironment(process.env, { LC_ALL: 'C' }) },
    );
    const complaints = new TarAttributeComplaints();
    const read = complaints.read(child.stderr);
    const stderr = new StderrTail(child.stderr);
    const stop = () => child.kill('SIGTERM');
    signal.addEventListener('abort', stop, { once: true });
    try {
      const exit = await childExit(child, 'tar');
      signal.throwIfAborted();
      if (exit.code !== 0) {
        const why = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
        throw new RestoreError(
          'tar_extract_failed',
          `tar ${why} extracting the backup: ${stderr.lines(8).join('\n') || 'no output on stderr'}`,
        );
      }
      await read;
      return complaints;
    } finally {
      signal.removeEventListener('abort', stop);
    }
  }
}

/** The staged archive's entries, checked: anything unsafe refuses the restore before it starts. */
async function checkArchive(path: string): Promise<CheckedArchive> {
  try {
    return await checkTarFile(path);
  } catch (error) {
    if (error instanceof LifeboatError && error.code === 'archive_entry_unsafe') {
      throw new RestoreError('restore_entry_unsafe', `${error.message}; nothing was extracted`, {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Rolls back what restores killed half way left in the destination, before this one looks at
 * it. If that fails, the destination is as the killed restore left it, and this says so.
 */
async function recoverEarlierRestores(
  root: string,
  progress: (message: string) => void,
): Promise<void> {
  try {
    for (const recovered of await recoverInterruptedRestores(root)) {
      progress(`an earlier restore left ${recovered.workDirectory}: ${recovered.outcome}`);
    }
  } catch (error) {
    throw new RestoreError(
      'restore_recovery_failed',
      `an earlier restore into ${root} was stopped half way, and putting the destination back as it was before it failed (${messageOf(error)}): the destination is as that restore left it; what it had moved aside is in ${root}/${WORK_PREFIX}…/old`,
      { cause: error },
    );
  }
}

/** A failure that left the destination as it was, saying so. */
function unchanged(error: unknown): unknown {
  if (error instanceof RestoreError && error.destination === 'unchanged') return error;
  if (error instanceof RestoreError && error.code === 'restore_recovery_failed') return error;
  if (error instanceof DOMException && error.name === 'AbortError') return error;
  const code = error instanceof LifeboatError ? error.code : 'restore_failed';
  return new RestoreError(code, `${messageOf(error)}; the destination is unchanged`, {
    cause: error,
    destination: 'unchanged',
  });
}

/** The destination target asks for setuid and setgid bits to be kept (`keepSetuid`). */
function keepsSetId(destination: RestoreDestination): boolean {
  return destination.config.kind === 'directory' && destination.config.keepSetuid === true;
}

function destinationPath(destination: RestoreDestination): string {
  if (destination.config.kind !== 'directory') {
    throw new RestoreError(
      'restore_kind_mismatch',
      `${destination.name} is a ${destination.config.kind} target; a directory backup restores only into a directory target`,
    );
  }
  return resolve(destination.config.path);
}

/** True when `root` is a directory; a missing one is false; anything else there is refused. */
async function isDirectory(root: string): Promise<boolean> {
  try {
    if ((await stat(root)).isDirectory()) return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  throw new RestoreError(
    'restore_destination_conflict',
    `${root} is not a directory; a directory backup restores into a directory`,
  );
}

/** Creates `root` and its missing parents; returns those it created, outermost first. */
async function createDirectory(root: string): Promise<string[]> {
  const first = await mkdir(root, { recursive: true });
  if (first === undefined) return [];
  const created: string[] = [];
  for (let path = root; path !== dirname(first); path = dirname(path)) created.unshift(path);
  return created;
}

/** Refuses to start what cannot fit next to the destination's files, before anything changes. */
async function assertRoom(root: string, bytes: number): Promise<void> {
  let where = root;
  while (
    !(await stat(where).then(
      () => true,
      () => false,
    )) &&
    dirname(where) !== where
  ) {
    where = dirname(where);
  }
  const info = await statfs(where).catch(() => undefined);
  if (!info) return;
  const free = info.bavail * info.bsize;
  if (bytes > free) {
    throw new RestoreError(
      'restore_destination_space',
      `the restore needs about ${formatBytes(bytes)} next to the files in ${root} until it is moved into place, and only ${formatBytes(free)} is free there`,
    );
  }
}
