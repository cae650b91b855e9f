import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Catalog, openCatalog } from '../../src/catalog/open-catalog.ts';
import { type TargetLock, targetLockKey } from '../../src/catalog/target-locks.ts';
import { databaseUrl, dropDatabase, sql, uniqueName } from '../support/databases.ts';

const POLL_MS = 10;

/** A promise with its resolver, to wait for a callback without sleeping. */
function signalled<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('target locks', () => {
  const database = uniqueName('lb_locks');
  const otherDatabase = uniqueName('lb_locks_other');
  let catalog: Catalog;
  let otherCatalog: Catalog;

  beforeAll(async () => {
    catalog = await openCatalog(databaseUrl(database));
    await catalog.migrate();
    otherCatalog = await openCatalog(databaseUrl(otherDatabase));
    await otherCatalog.migrate();
  });

  afterAll(async () => {
    await catalog?.close();
    await otherCatalog?.close();
    await dropDatabase(database);
    await dropDatabase(otherDatabase);
  });

  it('makes a second job wait until the first releases the target, telling it who holds it', async () => {
    const events: string[] = [];
    const first = await catalog.targetLocks.acquire(['app-db'], 'backup bk_first');
    const waiting = signalled();

    const second = catalog.targetLocks
      .acquire(['app-db'], 'backup bk_second', {
        pollMs: POLL_MS,
        onWait: (target, heldBy) => {
          events.push(`waiting for ${target} held by ${heldBy}`);
          waiting.resolve();
        },
      })
      .then((lock) => {
        events.push('second acquired');
        return lock;
      });
    await waiting.promise;
    events.push('first releases');
    await first.release();
    const lock = await second;
    await lock.release();

    expect(events).toEqual([
      'waiting for app-db held by backup bk_first',
      'first releases',
      'second acquired',
    ]);
  });

  it('lets jobs with disjoint targets run at once', async () => {
    const a = await catalog.targetLocks.acquire(['app-db'], 'job a');
    const waits: string[] = [];

    const b = await catalog.targetLocks.acquire(['uploads', 'cache'], 'job b', {
      onWait: (target) => waits.push(target),
    });

    expect(waits).toEqual([]);
    await Promise.all([a.release(), b.release()]);
  });

  it('gives up waiting when aborted and releases the targets it had taken', async () => {
    const holder = await catalog.targetLocks.acquire(['b-target'], 'job holding b');
    const controller = new AbortController();
    const waiting = signalled();

    const aborted = catalog.targetLocks.acquire(['a-target', 'b-target'], 'job wanting a and b', {
      signal: controller.signal,
      pollMs: POLL_MS,
      onWait: () => waiting.resolve(),
    });
    await waiting.promise;
    const reason = new Error('shutting down');
    controller.abort(reason);

    await expect(aborted).rejects.toBe(reason);
    const waits: string[] = [];
    const next = await catalog.targetLocks.acquire(['a-target'], 'next job', {
      onWait: (target) => waits.push(target),
    });
    expect(waits).toEqual([]);
    await Promise.all([next.release(), holder.release()]);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const reason = new Error('already stopped');

    await expect(
      catalog.targetLocks.acquire(['app-db'], 'late job', { signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
  });

  it("frees a dead worker's targets when its connection dies", async () => {
    const lost = signalled<Error>();
    await catalog.targetLocks.acquire(['orphaned'], 'backup bk_dead', {
      onLost: (error) => lost.resolve(error),
    });
    const [row] = await sql<{ pid: number }>(
      'SELECT pid FROM target_lock_holders WHERE holder = $1',
      database,
      ['backup bk_dead'],
    );
    expect(row).toBeDefined();

    await sql('SELECT pg_terminate_backend($1)', 'postgres', [row?.pid]);

    await expect(lost.promise).resolves.toBeInstanceOf(Error);
    const heldBy: (string | null)[] = [];
    const next = await catalog.targetLocks.acquire(['orphaned'], 'backup bk_next', {
      pollMs: POLL_MS,
      onWait: (_target, holder) => heldBy.push(holder),
    });
    // The terminated session may take a moment to end on the server; it may be waited for, but
    // the dead worker is the only holder that can be reported.
    expect(heldBy.every((h) => h === 'backup bk_dead')).toBe(true);
    await next.release();
  });

  it('never deadlocks or lets two jobs share a target when target sets overlap in any order', async () => {
    const sets = [['a', 'b', 'c'], ['c', 'b'], ['b', 'a'], ['c', 'a'], ['a'], ['c', 'b', 'a']];
    const holders = new Map<string, string>();
    const overlaps: string[] = [];
    const job = async (targets: string[], name: string) => {
      for (let round = 0; round < 3; round++) {
        const lock = await catalog.targetLocks.acquire(targets, name, { pollMs: POLL_MS });
        for (const t of targets) {
          const other = holders.get(t);
          if (other) overlaps.push(`${name} and ${other} both hold ${t}`);
          holders.set(t, name);
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
        for (const t of targets) holders.delete(t);
        await lock.release();
      }
    };

    await Promise.all(sets.map((targets, i) => job(targets, `job ${i}`)));

    expect(overlaps).toEqual([]);
  });

  it('keeps catalogs in different databases from blocking each other', async () => {
    const here = await catalog.targetLocks.acquire(['app-db'], 'job here');
    const waits: string[] = [];

    const there = await otherCatalog.targetLocks.acquire(['app-db'], 'job there', {
      onWait: (target) => waits.push(target),
    });

    expect(waits).toEqual([]);
    expect(targetLockKey(database, 'app-db')).not.toBe(targetLockKey(otherDatabase, 'app-db'));
    await Promise.all([here.release(), there.release()]);
  });

  it('derives a stable signed 64-bit key for each target', () => {
    const key = targetLockKey('lifeboat', 'app-db');

    expect(targetLockKey('lifeboat', 'app-db')).toBe(key);
    expect(targetLockKey('lifeboat', 'uploads')).not.toBe(key);
    expect(key >= -(2n ** 63n) && key < 2n ** 63n).toBe(true);
  });

  it('releases what is still held when the catalog closes', async () => {
    const name = uniqueName('lb_locks_close');
    const closing = await openCatalog(databaseUrl(name));
    try {
      await closing.migrate();
      await closing.targetLocks.acquire(['app-db'], 'job left running');
      const held = () =>
        sql(
          "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = $1)",
          'postgres',
          [name],
        );
      expect(await held()).toHaveLength(1);

      await closing.close();

      expect(await held()).toHaveLength(0);
    } finally {
      await closing.close();
      await dropDatabase(name);
    }
  });

  it('can release a lock twice without harm', async () => {
    const lock: TargetLock = await catalog.targetLocks.acquire(['twice'], 'job');

    await lock.release();
    await lock.release();

    const again = await catalog.targetLocks.acquire(['twice'], 'job again');
    await again.release();
  });

  describe('shared claims on a backup', () => {
    const ID = 'bk_20261122T020000Z_full_7q3k';

    it('lets readers share a backup, and keeps a pruner out, naming them, until the last one lets go', async () => {
      const restore = await catalog.backupClaims.hold(ID, 'restore rs_1');
      const verify = await catalog.backupClaims.hold(ID, 'verify vf_1');
      expect(await catalog.backupClaims.tryExclusive(ID, 'prune by console:alice')).toEqual({
        heldBy: ['restore rs_1', 'verify vf_1'],
      });
      await restore.release();
      expect(await catalog.backupClaims.tryExclusive(ID, 'prune by console:alice')).toEqual({
        heldBy: ['verify vf_1'],
      });
      await verify.release();
      const taken = await catalog.backupClaims.tryExclusive(ID, 'prune by console:alice');
      expect('lock' in taken).toBe(true);
      if ('lock' in taken) await taken.lock.release();
    });

    it('makes a reader wait while a pruner holds the backup', async () => {
      const pruning = await catalog.backupClaims.tryExclusive(ID, 'prune by console:alice');
      if (!('lock' in pruning)) throw new Error('the backup should be free');
      const events: string[] = [];
      const waiting = signalled();
      const reader = catalog.targetLocks
        .acquire([`backup:${ID}`], 'restore rs_2', {
          mode: 'shared',
          pollMs: POLL_MS,
          onWait: (_, heldBy) => {
            events.push(`waiting for ${heldBy}`);
            waiting.resolve();
          },
        })
        .then((lock) => {
          events.push('reading');
          return lock;
        });
      await waiting.promise;
      events.push('pruned');
      await pruning.lock.release();
      await (await reader).release();
      expect(events).toEqual(['waiting for prune by console:alice', 'pruned', 'reading']);
    });

    it('takes nothing when one of several targets is busy', async () => {
      const held = await catalog.targetLocks.acquire(['b-busy'], 'backup bk_holder');
      const taken = await catalog.targetLocks.tryAcquire(['a-free', 'b-busy'], 'job');
      expect(taken).toEqual({ busy: { target: 'b-busy', heldBy: ['backup bk_holder'] } });
      // a-free was let go again: another job takes it at once.
      const other = await catalog.targetLocks.tryAcquire(['a-free'], 'other job');
      expect('lock' in other).toBe(true);
      if ('lock' in other) await other.lock.release();
      await held.release();
    });
  });
});
