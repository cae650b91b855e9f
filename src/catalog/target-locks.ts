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

  return {
    async acquire(targets, holder, acquireOptions = {}) {
      const { signal, onWait, onLost, pollMs = DEFAULT_POLL_MS } = acquireOptions;
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
          await takeTarget(client, key, target, holder, { signal, onWait, pollMs });
          keys.push(key);
        }
      } catch (error) {
        await lock.release();
        throw error;
      }
      held = true;
      return lock;
    },

    async releaseAll() {
      await Promise.all([...open].map((lock) => lock.release()));
    },
  };
}

async function takeTarget(
  client: pg.Client,
  key: string,
  target: string,
  holder: string,
  options: Pick<AcquireOptions, 'signal' | 'onWait'> & { pollMs: number },
): Promise<void> {
  const { signal, onWait, pollMs } = options;
  let reported: string | null | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const { rows } = await client.query<{ taken: boolean }>(
      'SELECT pg_try_advisory_lock($1::bigint) AS taken',
      [key],
    );
    if (rows[0]?.taken) {
      await client.query(
        `INSERT INTO target_lock_holders (lock_key, target, holder, pid)
         VALUES ($1, $2, $3, pg_backend_pid())
         ON CONFLICT (lock_key) DO UPDATE
           SET target = excluded.target, holder = excluded.holder, pid = excluded.pid,
               acquired_at = now()`,
        [key, target, holder],
      );
      return;
    }
    const current = await currentHolder(client, key);
    if (current.held) {
      if (current.holder !== reported) {
        reported = current.holder;
        onWait?.(target, current.holder);
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
 * Who holds the advisory lock `key` in this database. A holder row counts only while its session
 * still holds the lock, so rows left behind by a dead session are never reported.
 */
async function currentHolder(
  client: pg.Client,
  key: string,
): Promise<{ held: boolean; holder: string | null }> {
  const unsigned = BigInt.asUintN(64, BigInt(key));
  const { rows } = await client.query<{ holder: string | null }>(
    `SELECT h.holder
       FROM pg_locks l
       LEFT JOIN target_lock_holders h ON h.lock_key = $1::bigint AND h.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid = $2::oid AND l.objid = $3::oid`,
    [key, (unsigned >> 32n).toString(), (unsigned & 0xffffffffn).toString()],
  );
  const [row] = rows;
  return row ? { held: true, holder: row.holder } : { held: false, holder: null };
}
