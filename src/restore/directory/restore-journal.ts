import { closeSync, openSync, writeSync } from 'node:fs';
import {
  chmod,
  lchown,
  lstat,
  lutimes,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
} from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { pathBytes } from '../../core/file-names.ts';
import { PRIVATE_FILE_MODE } from '../../core/private-modes.ts';

/** The private directory a directory restore works in, inside the destination. */
export const WORK_PREFIX = '.lifeboat-restore-';
/** Where the backup is extracted, inside the work directory. */
export const EXTRACTED = 'new';
/** Where entries of the destination that the backup replaces are moved, inside it. */
export const DISPLACED = 'old';
const JOURNAL = 'journal';
const MAGIC = 'lifeboat directory restore journal v1';

/** A file's attributes as they were, to put back. */
export interface SavedAttributes {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Nanoseconds since the epoch, as decimal strings (JSON has no bigint). */
  readonly atimeNs: string;
  readonly mtimeNs: string;
}

/**
 * One change a restore makes to its destination, written to the journal before it is made, so
 * that it can be undone — also by the next restore, when a worker was killed half way.
 * Paths are relative to the destination (names as `decodeFileName` makes them).
 */
export type JournalStep =
  /** The restore that writes this journal: a live one is never rolled back by another. */
  | { readonly op: 'started'; readonly pid: number; readonly host: string }
  /** A directory created for a destination that did not exist (absolute path). */
  | { readonly op: 'created'; readonly directory: string }
  /** `path` of the destination moved to `old/path`. */
  | { readonly op: 'displaced'; readonly path: string }
  /** `new/path` moved to `path` of the destination. */
  | { readonly op: 'placed'; readonly path: string }
  /** A directory's attributes before the backup's were set on it, or before entries moved in or out. */
  | { readonly op: 'attributes'; readonly path: string; readonly before: SavedAttributes }
  /** Every step is done and the destination validated: nothing is to be undone. */
  | { readonly op: 'committed' };

/**
 * The write-ahead log of one directory restore, in `<destination>/.lifeboat-restore-…/journal`:
 * one JSON line per step, written (and handed to the kernel) before the step is taken, so a
 * restore killed at any point can be rolled back from it.
 */
export class RestoreJournal {
  private readonly fd: number;
  private readonly workDirectory: string;
  private readonly steps: JournalStep[] = [];

  private constructor(fd: number, workDirectory: string) {
    this.fd = fd;
    this.workDirectory = workDirectory;
  }

  /** Starts the journal of a restore working in `workDirectory`. */
  static create(workDirectory: string): RestoreJournal {
    const fd = openSync(join(workDirectory, JOURNAL), 'wx', PRIVATE_FILE_MODE);
    writeSync(fd, `${MAGIC}\n`);
    const journal = new RestoreJournal(fd, workDirectory);
    inThisProcess.add(workDirectory);
    journal.record({ op: 'started', pid: process.pid, host: hostname() });
    return journal;
  }

  /** Records `step`; call it before taking the step. */
  record(step: JournalStep): void {
    writeSync(this.fd, `${JSON.stringify(step)}\n`);
    this.steps.push(step);
  }

  /** The steps recorded so far, in order. */
  get recorded(): readonly JournalStep[] {
    return this.steps;
  }

  /** Stops writing; the journal's file stays until the work directory is removed. */
  close(): void {
    closeSync(this.fd);
  }

  /** The restore is over (committed and cleaned up, or rolled back): nothing runs here now. */
  finished(): void {
    inThisProcess.delete(this.workDirectory);
  }
}

/** Work directories of restores running in this process. */
const inThisProcess = new Set<string>();

/** Saved attributes of `path` (not following a symlink). */
export async function saveAttributes(path: Buffer | string): Promise<SavedAttributes> {
  const info = await lstat(path, { bigint: true });
  return {
    mode: Number(info.mode & 0o7777n),
    uid: Number(info.uid),
    gid: Number(info.gid),
    atimeNs: info.atimeNs.toString(),
    mtimeNs: info.mtimeNs.toString(),
  };
}

/**
 * Sets saved attributes on the directory at `path`. Times go through a double, so they come
 * back to within a microsecond; owners only when running as root, as tar does.
 */
export async function applyAttributes(
  path: Buffer | string,
  saved: SavedAttributes,
): Promise<void> {
  if (process.getuid?.() === 0) await lchown(path, saved.uid, saved.gid);
  await chmod(path, saved.mode);
  await lutimes(path, seconds(saved.atimeNs), seconds(saved.mtimeNs));
}

/**
 * Undoes the recorded steps of a restore in reverse order, taking each only if its effect is
 * there (a step may be recorded and not taken, when the restore was killed in between), then
 * removes the work directory and the directories created for the destination.
 *
 * @throws the first error that kept a step from being undone; the work directory is then kept,
 * as it may hold the destination's displaced entries.
 */
export async function rollBack(
  root: string,
  workDirectory: string,
  steps: readonly JournalStep[],
): Promise<void> {
  const work = (part: string, path: string) => pathBytes(join(workDirectory, part), path);
  const attributes: { path: string; before: SavedAttributes }[] = [];
  for (const step of [...steps].reverse()) {
    switch (step.op) {
      case 'placed':
        if (
          (await exists(pathBytes(root, step.path))) &&
          !(await exists(work(EXTRACTED, step.path)))
        ) {
          await rename(pathBytes(root, step.path), work(EXTRACTED, step.path));
        }
        break;
      case 'displaced':
        if (await exists(work(DISPLACED, step.path))) {
          await rename(work(DISPLACED, step.path), pathBytes(root, step.path));
        }
        break;
      case 'attributes':
        attributes.push(step);
        break;
      default:
        break;
    }
  }
  await rm(workDirectory, { recursive: true, force: true });
  // Directories' own times last: every move above and the removal changed them.
  for (const { path, before } of attributes) {
    if (await exists(pathBytes(root, path))) await applyAttributes(pathBytes(root, path), before);
  }
  const created = steps.flatMap((s) => (s.op === 'created' ? [s.directory] : []));
  for (const directory of created.reverse()) {
    // Only if still empty: whatever someone else put there meanwhile stays.
    await rmdir(directory).catch(() => undefined);
  }
}

/** What the next restore found of earlier ones that did not finish, and did about it. */
export interface RecoveredRestore {
  readonly workDirectory: string;
  readonly outcome: 'rolled back' | 'cleaned up';
}

/**
 * Finds the work directories that restores killed half way left in `root`, and puts the
 * destination back as it was before each (or, for one that had committed, removes what was
 * left to clean up). Run under the destination's target lock, so no restore is running there.
 */
export async function recoverInterruptedRestores(root: string): Promise<RecoveredRestore[]> {
  let names: string[];
  try {
    names = (await readdir(root)).filter((name) => name.startsWith(WORK_PREFIX));
  } catch {
    return [];
  }
  const out: RecoveredRestore[] = [];
  for (const name of names) {
    const workDirectory = join(root, name);
    const steps = await readJournal(workDirectory);
    if (steps === null || inThisProcess.has(workDirectory) || isRunning(steps)) continue;
    if (steps.some((s) => s.op === 'committed')) {
      await rm(workDirectory, { recursive: true, force: true });
      out.push({ workDirectory, outcome: 'cleaned up' });
    } else {
      await rollBack(root, workDirectory, steps);
      out.push({ workDirectory, outcome: 'rolled back' });
    }
  }
  return out;
}

/**
 * What {@link recoverWorkDirectory} did: `rolled back` (the destination is as it was),
 * `cleaned up` (the restore had committed: the destination is restored and validated), `gone`
 * (no journal there: the restore had already rolled back, or finished), `running` (the
 * restore that wrote it still runs on this machine: left alone).
 */
export type WorkDirectoryRecovery = 'rolled back' | 'cleaned up' | 'gone' | 'running';

/**
 * Puts the destination of one restore's work directory (`<destination>/.lifeboat-restore-…`)
 * back as it was before that restore, from its journal, or removes what is left of a restore
 * that committed. The sweep of a restore whose process died calls it with the work directory
 * the catalog recorded.
 *
 * @throws the error that kept a step from being undone; the work directory is then kept.
 */
export async function recoverWorkDirectory(workDirectory: string): Promise<WorkDirectoryRecovery> {
  const steps = await readJournal(workDirectory);
  if (steps === null) return 'gone';
  if (inThisProcess.has(workDirectory) || isRunning(steps)) return 'running';
  if (steps.some((s) => s.op === 'committed')) {
    await rm(workDirectory, { recursive: true, force: true });
    return 'cleaned up';
  }
  await rollBack(dirname(workDirectory), workDirectory, steps);
  return 'rolled back';
}

/**
 * True when the restore that wrote the journal may still run in another process on this
 * machine: two targets that name one path are two locks, so another restore may be working
 * there right now. A journal of this process's pid that is not running here is left over from
 * an earlier process that had the same pid (containers reuse them).
 */
function isRunning(steps: readonly JournalStep[]): boolean {
  const started = steps.find((s) => s.op === 'started');
  if (started?.op !== 'started' || started.host !== hostname()) return false;
  if (started.pid === process.pid) return false;
  try {
    process.kill(started.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The steps of a journal, or null when the directory holds none (not a restore's). */
async function readJournal(workDirectory: string): Promise<JournalStep[] | null> {
  let text: string;
  try {
    text = await readFile(join(workDirectory, JOURNAL), 'utf8');
  } catch {
    return null;
  }
  const [first, ...lines] = text.split('\n');
  if (first !== MAGIC) return null;
  const steps: JournalStep[] = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    try {
      steps.push(JSON.parse(line) as JournalStep);
    } catch {
      // A line cut short by a kill: its step was never taken.
    }
  }
  return steps;
}

async function exists(path: Buffer | string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

function seconds(ns: string): number {
  return Number(BigInt(ns) / 1000n) / 1e6;
}
