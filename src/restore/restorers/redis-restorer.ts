import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { ManifestComponent } from '../../backup/manifest.ts';
import { LifeboatError, RestoreError } from '../../core/errors.ts';
import { redactPasswords } from '../../postgres/connection-url.ts';
import { oneShotRedisOptions, parseRedisUrl, type RedisUrl } from '../../redis/redis-url.ts';
import { startTemporaryRedis, type TemporaryRedis } from '../../redis/temporary-redis.ts';
import type {
  ComponentRestorer,
  DestinationState,
  RestoreDestination,
  RestoreInput,
  RestoreResult,
  ValidationCheck,
} from '../component-restorer.ts';
import { NO_UNDO_RECORDER, type UndoRecorder } from '../undo-journal.ts';
import { RedisRestoreJournal } from './redis-journal.ts';

export { checkRdbFile, type RdbFileCheck } from '../../redis/rdb-file.ts';

export interface RedisRestorerOptions {
  /** The redis-server binary that loads the snapshot. @defaultValue `redis-server` */
  readonly redisServer?: string;
  /** Keys read and written per pipelined round trip. @defaultValue 1000 */
  readonly batchSize?: number;
  /** Where the journal of the keys being written goes. @defaultValue `defaultJournalRoot()` */
  readonly journalRoot?: string;
}

type RedisSource = Extract<ManifestComponent['source'], { kind: 'redis' }>;

/**
 * Restores a Redis snapshot into one database of a destination server. The RDB is loaded into
 * a private redis-server, and every key of the snapshot's database is copied across with DUMP
 * and RESTORE, pipelined in batches; the destination keeps running and only ever receives
 * RESTOREs, so it needs no restart, no file access and no `CONFIG`.
 *
 * Expiry: each key is restored with its absolute expiry time (`RESTORE … ABSTTL`, from the
 * snapshot's `PEXPIRETIME`), not with a relative PTTL. The RDB itself records absolute times,
 * so a key due to expire at 14:00 still expires at 14:00, however long the restore takes and
 * however long ago the backup was taken; a relative TTL read during the copy would add the time
 * the copy took. Keys whose time has passed are not restored, as redis itself drops them when
 * it loads an RDB.
 *
 * The destination database must be empty: a database that holds keys is refused (flushing it is
 * the caller's decision, never the restore's), and RESTORE without REPLACE never overwrites a
 * key written meanwhile.
 *
 * All or nothing: every key about to be written is journalled first, outside staging
 * (`RedisRestoreJournal`, its path in the catalog), so that a sweep takes them back when the
 * process is killed half way; every key written is recorded (in the private server, not in memory), and a
 * restore that fails part way — a RESTORE refused, a key someone else wrote, a count that does
 * not match, a cancellation — UNLINKs them again, so the destination is the empty database it
 * was (keys others wrote meanwhile stay). Only when that clean-up cannot reach the destination
 * does the restore say it holds part of the backup. (Copying into a spare database and
 * `SWAPDB` would be atomic too, but needs a spare db nobody uses and is refused by Redis
 * Cluster; an empty destination makes taking the keys back as exact.)
 */
export class RedisRestorer implements ComponentRestorer {
  readonly kind = 'redis';
  private readonly redisServer: string | undefined;
  private readonly batchSize: number;
  private readonly journalRoot: string | undefined;

  constructor(options: RedisRestorerOptions = {}) {
    this.redisServer = options.redisServer;
    this.batchSize = options.batchSize ?? 1000;
    this.journalRoot = options.journalRoot;
  }

  describe(component: ManifestComponent, destination: RestoreDestination): string[] {
    const source = redisSourceOf(component);
    const target = destinationUrl(destination);
    return [
      `${component.name}: load the RDB snapshot of ${source.url} (${source.keys} keys in db ${source.db}, ${source.expires} with a TTL) into a private redis-server`,
      `copy db ${source.db}'s keys into ${destination.name} (${target.safeUrl}, db ${target.db}) with DUMP/RESTORE, each key keeping its expiry time; keys whose TTL has run out since the backup are left out`,
      `${destination.name} db ${target.db} must be empty (or flushed first): a database that holds keys is refused, and no key is ever overwritten`,
    ];
  }

  /**
   * Refuses before anything is staged what the restore would refuse: a destination database
   * that holds keys. (A destination that cannot be reached is the dry run's own check.)
   */
  async preflight(component: ManifestComponent, destination: RestoreDestination): Promise<void> {
    redisSourceOf(component);
    const target = destinationUrl(destination);
    const client = new Redis({
      ...oneShotRedisOptions(target, 'lifeboat restore check'),
      connectTimeout: 3_000,
    });
    const label = `${destination.name} (${target.safeUrl})`;
    try {
      await connectToDestination(client, label, target.password);
      await assertEmpty(client, label, target.db);
    } finally {
      client.disconnect();
    }
  }

  async restore(input: RestoreInput): Promise<RestoreResult> {
    const undo = input.undo ?? NO_UNDO_RECORDER;
    const journal: { current?: RedisRestoreJournal } = {};
    let state: DestinationState | undefined;
    try {
      const result = await this.restoreWith(input, journal, undo);
      state = result.destinationState ?? (result.ok ? 'restored' : 'changed');
      return result;
    } catch (error) {
      state = error instanceof RestoreError ? error.destination : undefined;
      throw error;
    } finally {
      if (journal.current) {
        // What it left is on record before the journal that would tell goes; without that,
        // the journal stays for the sweep.
        const recorded = state
          ? await undo.ended(state).then(
              () => true,
              () => false,
            )
          : false;
        if (recorded) await journal.current.remove().catch(() => {});
        else journal.current.close();
      }
    }
  }

  private async restoreWith(
    input: RestoreInput,
    journal: { current?: RedisRestoreJournal },
    undo: UndoRecorder,
  ): Promise<RestoreResult> {
    const { component, destination, signal } = input;
    const source = redisSourceOf(component);
    const target = destinationUrl(destination);
    const label = `${destination.name} (${target.safeUrl})`;
    const redact = (text: string) => redactPasswords(text, target.password);
    signal.throwIfAborted();

    const client = new Redis(oneShotRedisOptions(target, `lifeboat restore ${component.name}`));
    let snapshot: TemporaryRedis | undefined;
    let reader: Redis | undefined;
    let copy: KeyRecord | undefined;
    try {
      await connectToDestination(client, label, target.password);
      await assertEmpty(client, label, target.db);

      input.onProgress?.(`${component.name}: loading the snapshot`);
      try {
        snapshot = await startTemporaryRedis({
          rdbFile: input.stagedFile,
          signal,
          redisServer: this.redisServer,
        });
      } catch (error) {
        if (signal.aborted) throw error;
        const code = error instanceof LifeboatError ? error.code : 'rdb_unreadable';
        throw new RestoreError(
          code,
          `the snapshot of ${component.name} could not be loaded: ${messageOf(error)}`,
          { cause: error, destination: 'unchanged' },
        );
      }
      reader = new Redis(snapshot.clientOptions('lifeboat restore reader', source.db));
      reader.on('error', () => {});
      await reader.connect();
      copy = await KeyRecord.open(snapshot, source.db);
      const serverInfo = await reader.info('server');
      const loaded = await reader.dbsize();
      // Before the first key is written: a sweep finds the journal from the catalog.
      journal.current = await RedisRestoreJournal.create(this.journalRoot);
      await undo.started({ kind: 'redis', file: journal.current.file });

      const copied = await this.copyKeys(
        reader,
        client,
        copy,
        journal.current,
        loaded,
        input,
        label,
      );
      const [keys, expires] = await destinationCounts(client, target.db);
      // Keys restored with an expiry that has passed since may be gone already: not a loss.
      const expiredSince = await copy.expiredBy(Date.now());
      // Against the manifest, never against the temporary server: what the backup counted is
      // what must arrive, short only by keys with a TTL that lapsed on the way.
      const lapsed = Math.min(
        source.expires,
        Math.max(0, source.keys - loaded) + copied.expired + expiredSince,
      );
      const checks: ValidationCheck[] = [
        countCheck(`keys in db ${target.db}`, source.keys, keys, lapsed),
        countCheck(`keys with a TTL in db ${target.db}`, source.expires, expires, lapsed),
      ];
      const notes: string[] = [];
      if (copied.expired > 0 || source.keys !== loaded) {
        notes.push(
          `the backup counted ${source.keys} keys; ${source.keys - copied.keys} had expired by the time they were restored`,
        );
      }
      if (!checks.every((c) => c.ok)) {
        const undone = await this.undo(copy, client, label);
        return {
          tools: { 'redis-server': redisVersion(serverInfo) },
          checks,
          notes: [...notes, undone.note],
          ok: false,
          destinationState: undone.state,
        };
      }
      return {
        tools: { 'redis-server': redisVersion(serverInfo) },
        checks,
        notes,
        ok: true,
        destinationState: 'restored',
      };
    } catch (error) {
      const failed = asRestoreError(error, component.name, label, signal, redact);
      if (failed.destination) throw failed;
      // Nothing is written before the copy starts, and each key written is recorded.
      if (copy === undefined || (copy.written === 0 && !copy.uncertain)) {
        throw new RestoreError(failed.code, failed.message, {
          cause: failed,
          destination: 'unchanged',
        });
      }
      const undone = await this.undo(copy, client, label);
      throw new RestoreError(failed.code, `${failed.message}; ${undone.note}`, {
        cause: failed,
        destination: undone.state,
      });
    } finally {
      reader?.disconnect();
      copy?.close();
      client.disconnect();
      await snapshot?.stop();
    }
  }

  /**
   * Takes back every key the restore wrote, so the destination is the empty database it was.
   * Keys written meanwhile by anyone else stay (and are counted in the note).
   */
  private async undo(
    copy: KeyRecord,
    writer: Redis,
    label: string,
  ): Promise<{ state: 'unchanged' | 'changed' | 'unknown'; note: string }> {
    try {
      const removed = await copy.removeFrom(writer, this.batchSize);
      const left = await writer.dbsize();
      if (left === 0) {
        return {
          state: 'unchanged',
          note: `the ${removed} keys it had written were removed again: ${label} is empty, as it was`,
        };
      }
      // Keys nobody recorded: written by someone else, or by a batch whose answers never came.
      return copy.uncertain
        ? {
            state: 'unknown',
            note: `the ${removed} keys it recorded writing were removed again; ${left} keys remain, which may include keys of its last batch: check ${label} before using it`,
          }
        : {
            state: 'unchanged',
            note: `the ${removed} keys it had written were removed again; ${left} keys written by something else meanwhile remain`,
          };
    } catch (error) {
      return {
        state: 'changed',
        note: `removing the ${copy.written} keys it had written failed (${messageOf(error)}), so ${label} holds part of the backup: flush it before restoring again`,
      };
    }
  }

  /**
   * Copies every key of the reader's database: SCAN a batch, DUMP + PEXPIRETIME it in one
   * pipeline, RESTORE it in another, reading the next batch while this one is written. Each key
   * written is recorded (`copy`) before anything else happens, so a failure can take it back.
   * A key restored already (SCAN may return a key twice) is recognised by its identical DUMP;
   * any other existing key is someone else's write and fails the restore, naming the key.
   */
  private async copyKeys(
    reader: Redis,
    writer: Redis,
    copy: KeyRecord,
    journal: RedisRestoreJournal,
    total: number,
    input: RestoreInput,
    label: string,
  ): Promise<{ keys: number; expires: number; expired: number }> {
    const { signal, component } = input;
    let keys = 0;
    let expires = 0;
    let expired = 0;
    let reported = 0;
    const readBatch = async (cursor: string): Promise<ReadBatch> => {
      const [next, batch] = await reader.scanBuffer(cursor, 'COUNT', this.batchSize);
      if (batch.length === 0) return { next: next.toString(), entries: [] };
      const reads = reader.pipeline();
      for (const key of batch) reads.dumpBuffer(key).pexpiretime(key);
      const read = await reads.exec();
      const now = Date.now();
      const entries: KeyCopy[] = [];
      batch.forEach((key, index) => {
        const payload = read?.[index * 2]?.[1] as Buffer | null;
        const expiresAt = Number(read?.[index * 2 + 1]?.[1] ?? -2);
        // Gone since the scan, or due: redis drops such keys when it loads an RDB, too.
        if (payload === null || expiresAt === -2 || (expiresAt >= 0 && expiresAt <= now)) {
          expired++;
        } else {
          entries.push({ key, payload, expiresAt });
        }
      });
      return { next: next.toString(), entries };
    };

    let pending: Promise<ReadBatch> | null = readBatch('0');
    while (pending) {
      const batch: ReadBatch = await pending;
      pending = batch.next === '0' ? null : readBatch(batch.next);
      // A read issued ahead must not be left to reject unobserved when this batch fails.
      pending?.catch(() => {});
      if (signal.aborted) {
        throw new RestoreError(
          'restore_aborted',
          `the restore of ${component.name} into ${label} was cancelled`,
        );
      }
      if (batch.entries.length === 0) continue;
      const writes = writer.pipeline();
      for (const entry of batch.entries) {
        writes.restore(entry.key, Math.max(entry.expiresAt, 0), entry.payload, 'ABSTTL');
      }
      // Until the answers are in, any of these may have been written.
      journal.record(batch.entries);
      copy.uncertain = true;
      const results = await writes.exec();
      const written = batch.entries.filter((_, index) => !results?.[index]?.[0]);
      await copy.add(written);
      copy.uncertain = false;
      for (const [index, entry] of batch.entries.entries()) {
        const error = results?.[index]?.[0];
        if (error && /BUSYKEY/.test(error.message)) {
          const existing = await writer.dumpBuffer(entry.key);
          if (existing?.equals(entry.payload)) continue;
          throw new RestoreError(
            'restore_target_changed',
            `the key ${showKey(entry.key)} appeared in ${label} during the restore of ${component.name}, so something else writes to it`,
          );
        }
        if (error) {
          throw new RestoreError(
            'redis_restore_failed',
            `RESTORE of ${showKey(entry.key)} into ${label} failed after ${keys} of ${total} keys: ${error.message}`,
          );
        }
        keys++;
        if (entry.expiresAt > 0) expires++;
      }
      if (Date.now() - reported >= 1_000) {
        reported = Date.now();
        input.onProgress?.(`${component.name}: ${keys} of ${total} keys restored`);
      }
    }
    input.onProgress?.(`${component.name}: ${keys} of ${total} keys restored`);
    return { keys, expires, expired };
  }
}

/**
 * The keys a restore wrote into its destination, kept in a sorted set (score: the key's expiry
 * time, or +inf) in another database of the private redis-server holding the snapshot: out of
 * Node's heap however many keys there are, and gone with that server.
 */
class KeyRecord {
  /** A batch was sent whose answers are not in: some of its keys may be written. */
  uncertain = false;
  /** Keys recorded. */
  written = 0;
  private readonly client: Redis;
  private readonly key = `lifeboat:restored:${randomBytes(8).toString('hex')}`;

  private constructor(client: Redis) {
    this.client = client;
  }

  static async open(snapshot: TemporaryRedis, sourceDb: number): Promise<KeyRecord> {
    // Any database but the one read: the temporary server has plenty.
    const client = new Redis(
      snapshot.clientOptions('lifeboat restore record', sourceDb === 0 ? 1 : 0),
    );
    client.on('error', () => {});
    await client.connect();
    return new KeyRecord(client);
  }

  async add(entries: readonly KeyCopy[]): Promise<void> {
    if (entries.length === 0) return;
    const members: (string | Buffer)[] = [];
    for (const entry of entries) {
      members.push(entry.expiresAt > 0 ? String(entry.expiresAt) : '+inf', entry.key);
    }
    this.written += await this.client.zadd(this.key, ...members);
  }

  /** Keys recorded whose expiry time is `at` or earlier. */
  expiredBy(at: number): Promise<number> {
    return this.client.zcount(this.key, '-inf', at);
  }

  /** UNLINKs every recorded key from `writer`, `batch` at a time; the number removed. */
  async removeFrom(writer: Redis, batch: number): Promise<number> {
    let removed = 0;
    let cursor = '0';
    do {
      const [next, items] = await this.client.zscanBuffer(this.key, cursor, 'COUNT', batch);
      cursor = next.toString();
      const keys = items.filter((_, index) => index % 2 === 0);
      if (keys.length > 0) removed += await writer.unlink(...keys);
    } while (cursor !== '0');
    return removed;
  }

  close(): void {
    this.client.disconnect();
  }
}

interface KeyCopy {
  readonly key: Buffer;
  readonly payload: Buffer;
  /** Unix ms, or -1 for a key without expiry. */
  readonly expiresAt: number;
}

interface ReadBatch {
  readonly next: string;
  readonly entries: readonly KeyCopy[];
}

function redisSourceOf(component: ManifestComponent): RedisSource {
  if (component.source.kind !== 'redis') {
    throw new RestoreError(
      'restore_kind_mismatch',
      `${component.name} is a ${component.source.kind} component, not a redis snapshot`,
    );
  }
  return component.source;
}

function destinationUrl(destination: RestoreDestination): RedisUrl {
  if (destination.config.kind !== 'redis') {
    throw new RestoreError(
      'restore_kind_mismatch',
      `${destination.name} is a ${destination.config.kind} target: a redis snapshot restores only into a redis target`,
    );
  }
  try {
    return parseRedisUrl(destination.config.url);
  } catch (error) {
    throw new RestoreError(
      'redis_url_invalid',
      `redis target ${destination.name}: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Connects `client` to a restore's destination, or throws `redis_unreachable` with the server's
 * own reason (the last connection error, which ioredis reports apart from the rejection), the
 * password taken out; nothing has been written then.
 */
async function connectToDestination(
  client: Redis,
  label: string,
  password: string | null | undefined,
): Promise<void> {
  let lastError: unknown;
  client.on('error', (error) => {
    lastError = error;
  });
  try {
    await client.connect();
  } catch (error) {
    throw new RestoreError(
      'redis_unreachable',
      `cannot reach the redis target ${label}: ${redactPasswords(messageOf(lastError ?? error), password)}`,
      { cause: lastError ?? error, destination: 'unchanged' },
    );
  }
}

/** Refuses a destination database that holds keys: a redis restore goes into an empty one. */
async function assertEmpty(client: Redis, label: string, db: number): Promise<void> {
  const present = await client.dbsize();
  if (present > 0) {
    throw new RestoreError(
      'restore_target_not_empty',
      `${label} db ${db} holds ${present} keys: a redis restore goes into an empty database. Flush it first (FLUSHDB on db ${db}) or restore into another target or db`,
      { destination: 'unchanged' },
    );
  }
}

/** The destination database's keys and keys with a TTL. */
async function destinationCounts(client: Redis, db: number): Promise<[number, number]> {
  const keys = await client.dbsize();
  const line = new RegExp(`^db${db}:keys=\\d+,expires=(\\d+)`, 'm').exec(
    await client.info('keyspace'),
  );
  return [keys, Number(line?.[1] ?? 0)];
}

/**
 * A count after the copy against the manifest's: equal, or short by no more than the keys with
 * a TTL that lapsed between the backup and now (dropped when the snapshot loaded, found expired
 * while copying, or expired since they were restored). More than the manifest counts — a key
 * the backup never held — is a failure.
 */
function countCheck(
  name: string,
  expected: number,
  actual: number,
  lapsed: number,
): ValidationCheck {
  return { name, expected, actual, ok: actual <= expected && actual >= expected - lapsed };
}

function redisVersion(serverInfo: string): string {
  return /^redis_version:(.+)$/m.exec(serverInfo)?.[1]?.trim() ?? 'unknown';
}

/** Any failure as a RestoreError naming the component and the destination. */
function asRestoreError(
  error: unknown,
  component: string,
  label: string,
  signal: AbortSignal,
  redact: (text: string) => string,
): RestoreError {
  if (error instanceof RestoreError) return error;
  if (error instanceof LifeboatError) {
    return new RestoreError(error.code, error.message, { cause: error });
  }
  if (signal.aborted) {
    return new RestoreError(
      'restore_aborted',
      `the restore of ${component} into ${label} was cancelled: ${messageOf(signal.reason)}`,
      { cause: error },
    );
  }
  return new RestoreError(
    'redis_restore_failed',
    `restoring ${component} into ${label} failed: ${redact(messageOf(error))}`,
    { cause: error },
  );
}

/** A key for an error message: printable, and short. */
function showKey(key: Buffer): string {
  const text = JSON.stringify(key.toString('utf8'));
  return text.length > 120 ? `${text.slice(0, 117)}…"` : text;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
