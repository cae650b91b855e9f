import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';

/** Targets held by one job until it calls `release`. */
export interface TargetLock {
  /** Releases every target of the lock. Safe to call more than once; never throws. */
  release(): Promise<void>;
}

export interface AcquireOptions {
  /** Aborting gives up waiting, releases the targets taken so far and rejects with the reason. */
  readonly signal?: AbortSignal;
  /**
   * Called when the job starts waiting for a target and again whenever the target's holder
   * changes; `heldBy` is the holder's description, or null when it cannot be told.
   */
  readonly onWait?: (target: string, heldBy: string | null) => void;
  /** Called once if the lock's connection breaks while held: from then on nothing is locked. */
  readonly onLost?: (error: Error) => void;
  /** How often a busy target is tried again. @defaultValue 500 */
  readonly pollMs?: number;
  /**
   * `shared`: any number of shared holders at once, and no exclusive one — readers of a backup
   * claim it so, and a prune, which takes it exclusively, leaves it alone while they read.
   * @defaultValue `exclusive`
   */
  readonly mode?: LockMode;
}

export type LockMode = 'exclusive' | 'shared';

/** A target another job holds, and who: `restore rs_…`, `verify vf_…` (one per shared holder). */
export interface BusyTarget {
  readonly target: string;
  readonly heldBy: readonly string[];
}

/**
 * Per-target locks across every worker that shares the catalog, so two jobs never touch one
 * target at once.
 */
export interface TargetLocks {
  /**
   * Waits until this job holds every one of `targets`, then returns the lock. `holder` says who
   * holds them (`backup bk_…`), for the jobs that wait.
   */
  acquire(
    targets: readonly string[],
    holder: string,
    options?: AcquireOptions,
  ): Promise<TargetLock>;
  /**
   * Takes every one of `targets` exclusively, now or not at all: when another job holds one of
   * them (in any mode), nothing is taken and the answer says which target and who holds it.
   */
  tryAcquire(
    targets: readonly string[],
    holder: string,
  ): Promise<{ readonly lock: TargetLock } | { readonly busy: BusyTarget }>;
}

export interface TargetLocksOptions {
  readonly url: string;
  /** The catalog's database: part of every key, so two catalogs never block each other. */
  readonly database: string;
  /** @defaultValue `lifeboat target lock` */
  readonly applicationName?: string;
}

const DEFAULT_POLL_MS = 500;

/**
 * The advisory-lock key of a target: the first 8 bytes of sha256 over
 * `lifeboat:target:<database>:<target>`, as a signed 64-bit integer.
 */
export function targetLockKey(database: string, target: string): bigint {
  return createHash('sha256')
    .update(`lifeboat:target:${database}:${target}`)
    .digest()
    .readBigInt64BE(0);
}

/**
 * Target locks as session-level PostgreSQL advisory locks. Each acquired lock has a connection
 * of its own that it holds until released, so the locks of a worker that dies vanish with its
 * connection. Targets are taken in sorted order, so overlapping sets cannot deadlock.
 */
export function createTargetLocks(
  options: TargetLocksOptions,
): TargetLocks & { releaseAll(): Promise<void> } {
  const open = new Set<TargetLock>();

  /** Takes the targets on a connection of their own; `busy` when `wait` is false and one is held. */
  const take = async (
    targets: readonly string[],
    holder: string,
    acquireOptions: AcquireOptions,
    wait: boolean,
  ): Promise<{ lock: TargetLock } | { busy: BusyTarget }> => {
    const { signal, onWait, onLost, pollMs = DEFAULT_POLL_MS } = acquireOptions;
    const mode = acquireOptions.mode ?? 'exclusive';
    signal?.throwIfAborted();
    const client = new pg.Client({
      connectionString: options.url,
      application_name: options.applicationName ?? 'lifeboat target lock',
      keepAlive: true,
    });
    let held = false;
    let released = false;
    let lost = false;
    const loseLock = (error: Error) => {
      if (!held || released || lost) return;
      lost = true;
      onLost?.(error);
    };
    client.on('error', loseLock);
    client.on('end', () => loseLock(new Error('the target lock connection closed')));
    const keys: string[] = [];
    const lock: TargetLock = {
      async release() {
        if (released) return;
        released = true;
        open.delete(lock);
        try {
          await client.query(
            'DELETE FROM target_lock_holders WHERE pid = pg_backend_pid() AND lock_key = ANY($1::bigint[])',
            [keys],
          );
          await client.query('SELECT pg_advisory_unlock_all()');
        } catch {
          // The connection is gone, and its locks with it.
        } finally {
          await client.end().catch(() => undefined);
        }
      },
    };

    await client.connect();
    open.add(lock);
    try {
      for (const target of [...new Set(targets)].sort()) {
        const key = targetLockKey(options.database, target).toString();
        const busy = await takeTarget(client, key, target, holder, {
          signal,
          onWait,
          pollMs,
          mode,
          wait,
        });
        if (busy) {
          await lock.release();
          return { busy };
        }
        keys.push(key);
      }
    } catch (error) {
      await lock.release();
      throw error;
    }
    held = true;
    return { lock };
  };

  return {
    async acquire(targets, holder, acquireOptions = {}) {
      const taken = await take(targets, holder, acquireOptions, true);
      if ('lock' in taken) return taken.lock;
      // Only a call that does not wait finds a target busy.
      throw new Error(`target ${taken.busy.target} is held by ${taken.busy.heldBy.join(', ')}`);
    },

    tryAcquire(targets, holder) {
      return take(targets, holder, {}, false);
    },

    async releaseAll() {
      await Promise.all([...open].map((lock) => lock.release()));
    },
  };
}

/**
 * Takes one target's advisory lock in `mode`, waiting while another session holds it in a mode
 * that excludes this one, unless `wait` is false: then it returns who holds it instead.
 */
async function takeTarget(
  client: pg.Client,
  key: string,
  target: string,
  holder: string,
  options: Pick<AcquireOptions, 'signal' | 'onWait'> & {
    pollMs: number;
    mode: LockMode;
    wait: boolean;
  },
): Promise<BusyTarget | undefined> {
  const { signal, onWait, pollMs } = options;
  const tryLock =
    options.mode === 'shared' ? 'pg_try_advisory_lock_shared' : 'pg_try_advisory_lock';
  let reported: string | null | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const { rows } = await client.query<{ taken: boolean }>(
      `SELECT ${tryLock}($1::bigint) AS taken`,
      [key],
    );
    if (rows[0]?.taken) {
      // Rows of sessions that are gone are dropped on the way; one row per key and session.
      await client.query(
        `DELETE FROM target_lock_holders h
          WHERE h.lock_key = $1 AND h.pid <> pg_backend_pid()
            AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = h.pid)`,
        [key],
      );
      await client.query(
        `INSERT INTO target_lock_holders (lock_key, target, holder, pid)
         VALUES ($1, $2, $3, pg_backend_pid())
         ON CONFLICT (lock_key, pid) DO UPDATE
           SET target = excluded.target, holder = excluded.holder, acquired_at = now()`,
        [key, target, holder],
      );
      return undefined;
    }
    const holders = await currentHolders(client, key);
    if (holders.held) {
      const heldBy = holders.holders.filter((h): h is string => h !== null);
      if (!options.wait) return { target, heldBy: heldBy.length ? heldBy : ['another job'] };
      const described = heldBy.length ? heldBy.join(', ') : null;
      if (described !== reported) {
        reported = described;
        onWait?.(target, described);
      }
      try {
        await delay(pollMs, undefined, { signal });
      } catch (error) {
        throw signal?.aborted ? signal.reason : error;
      }
    }
  }
}

/**
 * Who holds the advisory lock `key` in this database, in any mode: one entry per session, null
 * for a session whose holder is not recorded. A holder row counts only while its session still
 * holds the lock, so rows left behind by a dead session are never reported.
 */
async function currentHolders(
  client: pg.Client,
  key: string,
): Promise<{ held: boolean; holders: (string | null)[] }> {
  const unsigned = BigInt.asUintN(64, BigInt(key));
  const { rows } = await client.query<{ holder: string | null }>(
    `SELECT h.holder
       FROM pg_locks l
       LEFT JOIN target_lock_holders h ON h.lock_key = $1::bigint AND h.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid = $2::oid AND l.objid = $3::oid
      ORDER BY h.acquired_at, h.holder`,
    [key, (unsigned >> 32n).toString(), (unsigned & 0xffffffffn).toString()],
  );
  return { held: rows.length > 0, holders: rows.map((row) => row.holder) };
}
