import { Redis } from 'ioredis';
import type { ManifestComponent } from '../../backup/manifest.ts';
import { LifeboatError, RestoreError } from '../../core/errors.ts';
import { redactPasswords } from '../../postgres/connection-url.ts';
import { oneShotRedisOptions, parseRedisUrl, type RedisUrl } from '../../redis/redis-url.ts';
import { startTemporaryRedis, type TemporaryRedis } from '../../redis/temporary-redis.ts';
import type {
  ComponentRestorer,
  RestoreDestination,
  RestoreInput,
  RestoreResult,
  ValidationCheck,
} from '../component-restorer.ts';

export { checkRdbFile, type RdbFileCheck } from '../../redis/rdb-file.ts';

export interface RedisRestorerOptions {
  /** The redis-server binary that loads the snapshot. @defaultValue `redis-server` */
  readonly redisServer?: string;
  /** Keys read and written per pipelined round trip. @defaultValue 1000 */
  readonly batchSize?: number;
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
 */
export class RedisRestorer implements ComponentRestorer {
  readonly kind = 'redis';
  private readonly redisServer: string | undefined;
  private readonly batchSize: number;

  constructor(options: RedisRestorerOptions = {}) {
    this.redisServer = options.redisServer;
    this.batchSize = options.batchSize ?? 1000;
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

  async restore(input: RestoreInput): Promise<RestoreResult> {
    const { component, destination, signal } = input;
    const source = redisSourceOf(component);
    const target = destinationUrl(destination);
    const label = `${destination.name} (${target.safeUrl})`;
    const redact = (text: string) => redactPasswords(text, target.password);
    signal.throwIfAborted();

    const client = new Redis(oneShotRedisOptions(target, `lifeboat restore ${component.name}`));
    let lastError: unknown;
    client.on('error', (error) => {
      lastError = error;
    });
    let snapshot: TemporaryRedis | undefined;
    let reader: Redis | undefined;
    try {
      try {
        await client.connect();
      } catch (error) {
        throw new RestoreError(
          'redis_unreachable',
          `cannot reach the redis target ${label}: ${redact(messageOf(lastError ?? error))}`,
          { cause: lastError ?? error },
        );
      }
      const present = await client.dbsize();
      if (present > 0) {
        throw new RestoreError(
          'restore_target_not_empty',
          `${label} db ${target.db} holds ${present} keys: a redis restore goes into an empty database. Flush it first (FLUSHDB on db ${target.db}) or restore into another target or db`,
        );
      }

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
          { cause: error },
        );
      }
      reader = new Redis({
        ...oneShotRedisOptions(parseRedisUrl(snapshot.url), 'lifeboat restore reader'),
        db: source.db,
      });
      reader.on('error', () => {});
      await reader.connect();
      const serverInfo = await reader.info('server');
      const loaded = await reader.dbsize();

      const copied = await this.copyKeys(reader, client, loaded, input, label);
      const [keys, expires] = await destinationCounts(client, target.db);
      const checks: ValidationCheck[] = [
        check(`keys in db ${target.db}`, copied.keys, keys),
        check(`keys with a TTL in db ${target.db}`, copied.expires, expires),
      ];
      if (copied.expired > 0 || source.keys !== loaded) {
        input.onProgress?.(
          `${component.name}: the backup counted ${source.keys} keys; ${source.keys - copied.keys} had expired by the time they were restored`,
        );
      }
      return {
        tools: {
          'redis-server': /^redis_version:(.+)$/m.exec(serverInfo)?.[1]?.trim() ?? 'unknown',
        },
        checks,
        ok: checks.every((c) => c.ok),
      };
    } catch (error) {
      if (error instanceof LifeboatError) throw error;
      if (signal.aborted) {
        throw new RestoreError(
          'restore_aborted',
          `the restore of ${component.name} into ${label} was cancelled: ${messageOf(signal.reason)}`,
          { cause: error },
        );
      }
      throw new RestoreError(
        'redis_restore_failed',
        `restoring ${component.name} into ${label} failed: ${redact(messageOf(error))}`,
        { cause: error },
      );
    } finally {
      reader?.disconnect();
      client.disconnect();
      await snapshot?.stop();
    }
  }

  /**
   * Copies every key of the reader's database: SCAN a batch, DUMP + PEXPIRETIME it in one
   * pipeline, RESTORE it in another, reading the next batch while this one is written. A key
   * restored already (SCAN may return a key twice) is recognised by its identical DUMP; any
   * other existing key is someone else's write and fails the restore, naming the key and how
   * far it got.
   */
  private async copyKeys(
    reader: Redis,
    writer: Redis,
    total: number,
    input: RestoreInput,
    label: string,
  ): Promise<{ keys: number; expires: number; expired: number }> {
    const { signal, component } = input;
    let keys = 0;
    let expires = 0;
    let expired = 0;
    let reported = 0;
    const partial = () =>
      `${keys} of ${total} keys were restored, so ${label} holds a partial copy: flush it before restoring again`;
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
          `the restore of ${component.name} was cancelled: ${partial()}`,
        );
      }
      if (batch.entries.length === 0) continue;
      const writes = writer.pipeline();
      for (const entry of batch.entries) {
        writes.restore(entry.key, Math.max(entry.expiresAt, 0), entry.payload, 'ABSTTL');
      }
      const results = await writes.exec();
      for (const [index, entry] of batch.entries.entries()) {
        const error = results?.[index]?.[0];
        if (error && /BUSYKEY/.test(error.message)) {
          const existing = await writer.dumpBuffer(entry.key);
          if (existing?.equals(entry.payload)) continue;
          throw new RestoreError(
            'restore_target_changed',
            `the key ${showKey(entry.key)} appeared in ${label} during the restore of ${component.name}, so something else writes to it; ${partial()}`,
          );
        }
        if (error) {
          throw new RestoreError(
            'redis_restore_failed',
            `RESTORE of ${showKey(entry.key)} into ${label} failed: ${error.message}; ${partial()}`,
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

/** The destination database's keys and keys with a TTL. */
async function destinationCounts(client: Redis, db: number): Promise<[number, number]> {
  const keys = await client.dbsize();
  const line = new RegExp(`^db${db}:keys=\\d+,expires=(\\d+)`, 'm').exec(
    await client.info('keyspace'),
  );
  return [keys, Number(line?.[1] ?? 0)];
}

function check(name: string, expected: number, actual: number): ValidationCheck {
  return { name, expected, actual, ok: expected === actual };
}

/** A key for an error message: printable, and short. */
function showKey(key: Buffer): string {
  const text = JSON.stringify(key.toString('utf8'));
  return text.length > 120 ? `${text.slice(0, 117)}…"` : text;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
