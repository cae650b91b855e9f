import { spawn } from 'node:child_process';
import { type FileHandle, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { Redis } from 'ioredis';
import type { RedisTargetConfig } from '../../config/schema.ts';
import { childEnvironment } from '../../core/child-env.ts';
import { BackupError, LifeboatError } from '../../core/errors.ts';
import { PRIVATE_FILE_MODE } from '../../core/private-modes.ts';
import { redactPasswords } from '../../postgres/connection-url.ts';
import { oneShotRedisOptions, parseRedisUrl, type RedisUrl } from '../../redis/redis-url.ts';
import { startTemporaryRedis } from '../../redis/temporary-redis.ts';
import { createStagingDirectory } from '../../staging/staging-area.ts';
import type { BackupSource, OpenedSource, SourceResult } from './backup-source.ts';
import {
  type ChildExit,
  cancelledError,
  childExit,
  endWhenComplete,
  StderrTail,
  toolVersionLine,
} from './child-process-output.ts';
import { redisCliNotices } from './tool-notices.ts';

export interface RedisSourceOptions {
  /** The redis-cli binary. @defaultValue `redis-cli` from the PATH */
  readonly redisCli?: string;
  /** The redis-server binary that loads the snapshot to count its keys. @defaultValue `redis-server` */
  readonly redisServer?: string;
}

/** Length of the marker that ends a diskless (`$EOF:<mark>`) transfer. */
const EOF_MARK_BYTES = 40;

/** Keys and keys with a TTL of one database in a snapshot. */
interface KeyCounts {
  readonly keys: number;
  readonly expires: number;
}

/**
 * A Redis server as an RDB snapshot, taken with `redis-cli --rdb -`: redis-cli asks the server
 * for a full sync as a replica would (`REPLCONF rdb-only`), so the server forks and the RDB is
 * one point in time across every database, whatever is written meanwhile.
 *
 * The RDB streams to the store as it arrives and, alongside, to a temporary file. Once the
 * transfer is complete, that file is loaded into a private redis-server and its `INFO keyspace`
 * gives the key count of the target's database: exactly the keys of the snapshot, counted by
 * redis's own loader (`redis-check-rdb` only counts all databases together). Keys whose TTL
 * runs out between the snapshot and the count (seconds) are not counted, as a restore would not
 * bring them back either. Counting holds the snapshot in memory once, like a restore does.
 *
 * The password in the target's URL goes to redis-cli in `REDISCLI_AUTH`, never on its command
 * line, and never into the manifest or error messages.
 */
export class RedisSource implements BackupSource {
  readonly kind = 'redis';
  readonly objectSuffix = 'rdb';
  private readonly name: string;
  private readonly config: RedisTargetConfig;
  private readonly redisCli: string;
  private readonly redisServer: string | undefined;

  constructor(name: string, config: RedisTargetConfig, options: RedisSourceOptions = {}) {
    this.name = name;
    this.config = config;
    this.redisCli = options.redisCli ?? 'redis-cli';
    this.redisServer = options.redisServer;
  }

  async open(signal: AbortSignal): Promise<OpenedSource> {
    if (signal.aborted) throw cancelledError(signal);
    let url: RedisUrl;
    try {
      url = parseRedisUrl(this.config.url);
    } catch (error) {
      throw new BackupError('redis_url_invalid', `redis target ${this.name}: ${messageOf(error)}`, {
        cause: error,
      });
    }
    const redact = (text: string) => redactPasswords(text, url.password);
    const serverVersion = await this.serverVersion(url, redact);
    const cliVersion = await toolVersionLine('redis-cli', this.redisCli);
    if (signal.aborted) throw cancelledError(signal);

    const directory = await createStagingDirectory('snapshot');
    const file = join(directory, 'snapshot.rdb');
    const env = childEnvironment(process.env, { REDISCLI_AUTH: url.password ?? undefined });
    const child = spawn(
      this.redisCli,
      [
        '-u',
        url.cliUrl,
        ...(url.username === null ? [] : ['--user', url.username]),
        '--no-auth-warning',
        '--rdb',
        '-',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env },
    );
    const stderr = new StderrTail(child.stderr);
    const exited = childExit(child, 'redis-cli');
    const stop = () => child.kill('SIGTERM');
    signal.addEventListener('abort', stop, { once: true });

    // The number of bytes redis-cli reports having received: the RDB, without the EOF marker.
    const transferred = (async (): Promise<number> => {
      const exit = await exited;
      if (signal.aborted) throw cancelledError(signal);
      if (!succeeded(exit)) {
        throw new BackupError(
          'redis_snapshot_failed',
          `redis-cli --rdb of ${this.name} (${url.safeUrl}) ${describeExit(exit)}: ${redact(stderr.lines(4).join('\n')) || 'no output on stderr'}`,
        );
      }
      // Diskless: "…success after N bytes"; disk-based: "writing N bytes to '-'", then "…success.".
      const said = stderr.lines(20).join('\n');
      const reported =
        /Transfer finished with success after (\d+) bytes/.exec(said) ??
        (/Transfer finished with success/.test(said) ? /writing (\d+) bytes to/.exec(said) : null);
      if (!reported) {
        throw new BackupError(
          'redis_snapshot_failed',
          `redis-cli --rdb of ${this.name} (${url.safeUrl}) did not report a finished transfer: ${redact(stderr.lines(4).join('\n'))}`,
        );
      }
      return Number(reported[1]);
    })();
    transferred.catch(() => {});

    const copied = Promise.withResolvers<void>();
    copied.promise.catch(() => {});
    const context = `${this.name} (${url.safeUrl})`;
    // Read from the start: Node drops a child's stdout that nobody reads by the time it exits,
    // and a small snapshot can be over before the first await below returns.
    const stdout = child.stdout.pipe(new PassThrough({ highWaterMark: 1024 * 1024 }));
    child.stdout.on('error', (error) => stdout.destroy(error));
    async function* snapshotBytes(): AsyncGenerator<Buffer> {
      let handle: FileHandle | undefined;
      let complete = false;
      try {
        handle = await open(file, 'wx', PRIVATE_FILE_MODE);
        for await (const chunk of exactRdb(stdout, transferred, context)) {
          await handle.write(chunk);
          yield chunk;
        }
        complete = true;
      } finally {
        await handle?.close();
        if (complete) copied.resolve();
        else
          copied.reject(
            new BackupError('backup_aborted', `the snapshot of ${context} was not read to its end`),
          );
      }
    }

    const finished = (async (): Promise<SourceResult> => {
      try {
        await transferred;
        await untilAborted(copied.promise, signal);
        const counts = await this.countKeys(file, url.db, signal);
        return {
          source: {
            kind: 'redis',
            url: url.safeUrl,
            db: url.db,
            serverVersion,
            keys: counts.keys,
            expires: counts.expires,
          },
          tools: { 'redis-cli': versionNumber(cliVersion) },
          warnings: redisCliNotices(stderr.lines(200).map(redact)),
        };
      } finally {
        signal.removeEventListener('abort', stop);
        stop();
        await exited.catch(() => {});
        await rm(directory, { recursive: true, force: true });
      }
    })();
    finished.catch(() => {});
    return {
      stream: endWhenComplete(Readable.from(snapshotBytes()), finished),
      expectedBytes: null,
      finished,
    };
  }

  /** Connects once (a clear error if the server is unreachable) and reads its version. */
  private async serverVersion(url: RedisUrl, redact: (text: string) => string): Promise<string> {
    const client = new Redis({
      ...oneShotRedisOptions(url, `lifeboat backup ${this.name}`),
      commandTimeout: 30_000,
    });
    let lastError: unknown;
    client.on('error', (error) => {
      lastError = error;
    });
    try {
      await client.connect();
      const info = await client.info('server');
      return /^redis_version:(.+)$/m.exec(info)?.[1]?.trim() ?? 'unknown';
    } catch (error) {
      const cause = lastError ?? error;
      throw new BackupError(
        'redis_unreachable',
        `cannot reach the redis target ${this.name} at ${url.safeUrl}: ${redact(messageOf(cause))}`,
        { cause },
      );
    } finally {
      client.disconnect();
    }
  }

  /** Loads the snapshot into a private redis-server and reads the database's counts. */
  private async countKeys(file: string, db: number, signal: AbortSignal): Promise<KeyCounts> {
    try {
      const server = await startTemporaryRedis({
        rdbFile: file,
        signal,
        redisServer: this.redisServer,
      });
      try {
        const client = new Redis(server.clientOptions('lifeboat count'));
        client.on('error', () => {});
        try {
          await client.connect();
          return keyspaceCounts(await client.info('keyspace'), db);
        } finally {
          client.disconnect();
        }
      } finally {
        await server.stop();
      }
    } catch (error) {
      if (signal.aborted) throw cancelledError(signal);
      const code = error instanceof LifeboatError ? error.code : 'redis_snapshot_unreadable';
      throw new BackupError(
        code,
        `counting the keys of the snapshot of ${this.name} failed: ${messageOf(error)}`,
        { cause: error },
      );
    }
  }
}

/**
 * The RDB bytes of a `redis-cli --rdb -` stdout. Writing to a file, redis-cli truncates the
 * 40-byte marker that ends a diskless transfer; writing to stdout it cannot, so the last 40
 * bytes are held back until redis-cli has exited and said how many bytes the RDB had.
 */
export async function* exactRdb(
  chunks: AsyncIterable<Buffer>,
  transferred: Promise<number>,
  context: string,
): AsyncGenerator<Buffer> {
  let held: Buffer = Buffer.alloc(0);
  let emitted = 0;
  for await (const chunk of chunks) {
    const joined = held.length === 0 ? chunk : Buffer.concat([held, chunk]);
    if (joined.length <= EOF_MARK_BYTES) {
      held = joined;
      continue;
    }
    const cut = joined.length - EOF_MARK_BYTES;
    held = Buffer.from(joined.subarray(cut));
    emitted += cut;
    yield joined.subarray(0, cut);
  }
  const total = await transferred;
  const rest = total - emitted;
  if (rest < 0 || rest > held.length) {
    throw new BackupError(
      'redis_snapshot_failed',
      `the snapshot of ${context} has ${emitted + held.length} bytes where redis-cli reported ${total}`,
    );
  }
  if (rest > 0) yield held.subarray(0, rest);
}

/** The `keys` and `expires` of `db` in an `INFO keyspace` reply (a missing line is an empty db). */
export function keyspaceCounts(info: string, db: number): KeyCounts {
  const line = new RegExp(`^db${db}:keys=(\\d+),expires=(\\d+)`, 'm').exec(info);
  return { keys: Number(line?.[1] ?? 0), expires: Number(line?.[2] ?? 0) };
}

/** Waits for `work`, or rejects as soon as `signal` aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(cancelledError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(cancelledError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** `redis-cli 7.0.15` → `7.0.15`. */
function versionNumber(printed: string): string {
  return /\d+\.\d+(\.\d+)?/.exec(printed)?.[0] ?? printed;
}

function succeeded(exit: ChildExit): boolean {
  return exit.code === 0 && exit.signal === null;
}

function describeExit(exit: ChildExit): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
