import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ManifestComponent } from '../../src/backup/manifest.ts';
import { stageComponent } from '../../src/backup/read-component.ts';
import { readManifest } from '../../src/backup/read-manifest.ts';
import { runBackup } from '../../src/backup/run-backup.ts';
import type { SourceResult } from '../../src/backup/sources/backup-source.ts';
import { RedisSource } from '../../src/backup/sources/redis-source.ts';
import type { RedisTargetConfig } from '../../src/config/schema.ts';
import { BackupError, RestoreError } from '../../src/core/errors.ts';
import { startTemporaryTcpRedis, type TemporaryTcpRedis } from '../../src/redis/temporary-redis.ts';
import type { RestoreResult } from '../../src/restore/component-restorer.ts';
import { checkRdbFile, RedisRestorer } from '../../src/restore/restorers/redis-restorer.ts';
import { currentOwner } from '../../src/staging/process-owner.ts';
import { defaultStagingRoot } from '../../src/staging/staging-area.ts';
import { LocalBackupStore } from '../../src/storage/local-backup-store.ts';
import { withFirstChunkHook } from '../doubles/first-chunk-hook-store.ts';
import { keysOf, rejection } from '../support/backup-outcomes.ts';

// Every server here is a private redis-server on its own port: the shared one on 6379 is never
// touched, so these tests may flush and fill databases freely.

const HOUR_MS = 60 * 60_000;

let work: string;
const servers: TemporaryTcpRedis[] = [];
const clients: Redis[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'lifeboat-redis-test-'));
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await Promise.all(servers.map((server) => server.stop()));
  await rm(work, { recursive: true, force: true });
});

/** A private server; diskless transfers start at once rather than after redis's 5 s default. */
/** It stands for a real server: on TCP, with no password unless given. */
async function server(
  args: readonly string[] = [],
  password: string | null = null,
): Promise<TemporaryTcpRedis> {
  const started = await startTemporaryTcpRedis({
    args: ['--repl-diskless-sync-delay', '0', ...args],
    password,
  });
  servers.push(started);
  return started;
}

function connect(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  // Servers stop between tests; a client left reconnecting must not report it as unhandled.
  client.on('error', () => {});
  clients.push(client);
  return client;
}

function redisTarget(url: string): RedisTargetConfig {
  return { kind: 'redis', url, environment: 'scratch' };
}

/** The RedisSource's temporary directories that exist now. */
async function snapshotDirectories(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => name.startsWith('lifeboat-redis-snapshot-'));
}

/** Runs a RedisSource to a file: what it streamed and what it reported. */
async function snapshot(
  url: string,
  file: string,
  options: { redisCli?: string } = {},
): Promise<SourceResult> {
  const source = new RedisSource('cache', redisTarget(url), options);
  const opened = await source.open(new AbortController().signal);
  await pipeline(opened.stream, createWriteStream(file));
  return opened.finished;
}

/** The manifest entry a backup of this snapshot would carry. */
function componentOf(result: SourceResult, rawBytes: number): ManifestComponent {
  return {
    name: 'cache',
    kind: 'redis',
    object: 'cache.rdb',
    bytes: rawBytes,
    sha256: '0'.repeat(64),
    rawBytes,
    compression: 'none',
    encryption: null,
    tools: result.tools,
    startedAt: new Date().toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: 0,
    source: result.source,
  };
}

function restoreInto(
  component: ManifestComponent,
  stagedFile: string,
  url: string,
): Promise<RestoreResult> {
  return new RedisRestorer({ batchSize: 100 }).restore({
    component,
    stagedFile,
    destination: { name: 'cache-copy', config: redisTarget(url) },
    signal: new AbortController().signal,
  });
}

async function restoreRejection(promise: Promise<unknown>): Promise<RestoreError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RestoreError) return error;
    throw error;
  }
  throw new Error('expected the restore to fail');
}

/** A key's type and value in a comparable form (DUMP differs: sets reorder on load). */
async function contentOf(client: Redis, key: Buffer): Promise<unknown> {
  const type = await client.type(key);
  switch (type) {
    case 'string':
      return [type, (await client.getBuffer(key))?.toString('hex')];
    case 'hash':
      return [type, Object.entries(await client.hgetall(key)).sort()];
    case 'list':
      return [type, await client.lrange(key, 0, -1)];
    case 'set':
      return [type, (await client.smembers(key)).sort()];
    case 'zset':
      return [type, await client.zrange(key, '0', '-1', 'WITHSCORES')];
    case 'stream':
      return [type, await client.xrange(key, '-', '+'), await client.xinfo('GROUPS', key)];
    default:
      throw new Error(`no comparison for a ${type}`);
  }
}

/** Fills db 3 with one key of every type, TTLs on some; db 0 gets a decoy. */
async function fill(url: string): Promise<{ keys: number; expires: number }> {
  const db3 = connect(`${url}/3`);
  await db3.set('string', 'hello');
  await db3.set(Buffer.from([0xff, 0x00, 0x41]), Buffer.from([0x00, 0x01, 0xfe]));
  await db3.hset('hash', { a: '1', b: '2', c: 'three' });
  await db3.rpush('list', 'x', 'y', 'z', 'x');
  await db3.sadd('set', 'm', 'n', 'o');
  await db3.zadd('zset', 1, 'one', 2.5, 'two-and-a-half', -3, 'minus-three');
  await db3.xadd('stream', '1-1', 'field', 'v1');
  await db3.xadd('stream', '2-1', 'field', 'v2');
  await db3.xgroup('CREATE', 'stream', 'readers', '0');
  await db3.xreadgroup('GROUP', 'readers', 'alice', 'COUNT', 1, 'STREAMS', 'stream', '>');
  await db3.set('ttl:string', 'soon', 'PX', HOUR_MS);
  await db3.hset('ttl:hash', 'k', 'v');
  await db3.pexpire('ttl:hash', HOUR_MS);
  const db0 = connect(`${url}/0`);
  await db0.set('decoy', 'db0 only');
  return { keys: 9, expires: 2 };
}

describe('redis snapshot and restore', () => {
  let source: TemporaryTcpRedis;
  let destination: TemporaryTcpRedis;

  beforeEach(async () => {
    source = await server();
    destination = await server();
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    await source.stop();
    await destination.stop();
  });

  it('restores every type of key of the URL db, with TTLs, into another server and db', async () => {
    const expected = await fill(source.url);
    const file = join(work, 'roundtrip.rdb');
    const result = await snapshot(`${source.url}/3`, file);

    expect(result.source).toEqual({
      kind: 'redis',
      url: `${source.url}/3`,
      db: 3,
      serverVersion: expect.stringMatching(/^\d+\.\d+\.\d+$/),
      keys: expected.keys,
      expires: expected.expires,
    });
    expect(result.tools['redis-cli']).toMatch(/^\d+\.\d+\.\d+$/);
    const bytes = (await stat(file)).size;
    expect((await checkRdbFile(file)).keys).toBe(expected.keys + 1);

    const restored = await restoreInto(componentOf(result, bytes), file, `${destination.url}/5`);
    expect(restored.ok).toBe(true);
    expect(restored.checks).toEqual([
      { name: 'keys in db 5', expected: 9, actual: 9, ok: true },
      { name: 'keys with a TTL in db 5', expected: 2, actual: 2, ok: true },
    ]);

    const from = connect(`${source.url}/3`);
    const to = connect(`${destination.url}/5`);
    const sourceKeys = (await from.keysBuffer('*')).map((k) => k.toString('hex')).sort();
    const restoredKeys = (await to.keysBuffer('*')).map((k) => k.toString('hex')).sort();
    expect(restoredKeys).toEqual(sourceKeys);
    for (const hex of sourceKeys) {
      const key = Buffer.from(hex, 'hex');
      expect(await contentOf(to, key)).toEqual(await contentOf(from, key));
    }
    expect(await to.get('string')).toBe('hello');
    expect(await to.getBuffer(Buffer.from([0xff, 0x00, 0x41]))).toEqual(
      Buffer.from([0x00, 0x01, 0xfe]),
    );
    expect(await to.zrange('zset', '0', '-1', 'WITHSCORES')).toEqual([
      'minus-three',
      '-3',
      'one',
      '1',
      'two-and-a-half',
      '2.5',
    ]);
    expect(await to.xpending('stream', 'readers')).toEqual([1, '1-1', '1-1', [['alice', '1']]]);
    for (const key of ['ttl:string', 'ttl:hash']) {
      const ttl = await to.pttl(key);
      expect(ttl).toBeGreaterThan(59 * 60_000);
      expect(ttl).toBeLessThanOrEqual(HOUR_MS);
      expect(await to.pexpiretime(key)).toBe(await from.pexpiretime(key));
    }
    for (const key of ['string', 'hash', 'list', 'set', 'zset', 'stream']) {
      expect(await to.pttl(key)).toBe(-1);
    }
    // Only the URL's database: db 0's decoy stays behind.
    expect(await connect(`${destination.url}/0`).dbsize()).toBe(0);
  });

  it('validates what it restored against the manifest, not the snapshot: a key the backup never counted fails it', async () => {
    const expected = await fill(source.url);
    const file = join(work, 'counted.rdb');
    const result = await snapshot(`${source.url}/3`, file);
    // The snapshot holds one key more than the manifest counts: a key slipped in on the way.
    const component = componentOf(result, (await stat(file)).size);
    const source3 = component.source as Extract<ManifestComponent['source'], { kind: 'redis' }>;
    const counted: ManifestComponent = {
      ...component,
      source: { ...source3, keys: expected.keys - 1 },
    };
    const restored = await restoreInto(counted, file, `${destination.url}/5`);
    expect(restored.ok).toBe(false);
    expect(restored.checks).toContainEqual({
      name: 'keys in db 5',
      expected: expected.keys - 1,
      actual: expected.keys,
      ok: false,
    });
    // What it wrote is taken back: the destination is empty, as it was.
    expect(restored.destinationState).toBe('unchanged');
    expect(await connect(`${destination.url}/5`).dbsize()).toBe(0);
  });

  it('keeps a password out of the manifest, the command line and errors', async () => {
    const secret = 'pa55-w0rd-s3cret';
    // Disk-based replication this time: the RDB arrives length-prefixed, with no EOF marker.
    const locked = await server(['--repl-diskless-sync', 'no'], secret);
    await connect(`redis://:${secret}@127.0.0.1:${locked.port}/0`).set('k', 'v');
    // A wrapper that records how redis-cli was started, then runs the real one.
    const record = join(work, 'redis-cli-invocation');
    const wrapper = join(work, 'redis-cli-wrapper');
    await writeFile(
      wrapper,
      `#!/bin/sh\nprintf '%s\\n' "$@" > '${record}'\nprintf 'auth:%s\\n' "$REDISCLI_AUTH" >> '${record}'\nexec redis-cli "$@"\n`,
    );
    await chmod(wrapper, 0o755);

    const file = join(work, 'locked.rdb');
    const result = await snapshot(`redis://:${secret}@127.0.0.1:${locked.port}/0`, file, {
      redisCli: wrapper,
    });
    expect(result.source).toMatchObject({ url: `redis://127.0.0.1:${locked.port}/0`, keys: 1 });
    expect(JSON.stringify(result)).not.toContain(secret);
    expect(await checkRdbFile(file)).toMatchObject({ keys: 1 });
    const invocation = (await readFile(record, 'utf8')).split('\n');
    expect(invocation).toContain(`auth:${secret}`);
    expect(invocation.filter((line) => !line.startsWith('auth:')).join(' ')).not.toContain(secret);

    const wrong = await rejection(
      snapshot(`redis://:not-${secret}@127.0.0.1:${locked.port}/0`, file),
    );
    expect(wrong.code).toBe('redis_unreachable');
    expect(wrong.message).toContain(`redis target cache at redis://127.0.0.1:${locked.port}/0`);
    expect(wrong.message).not.toContain(secret);
  });

  it('takes a snapshot in which a transaction written during it is whole', async () => {
    const writer = connect(`${source.url}/0`);
    const filler = writer.pipeline();
    const value = 'v'.repeat(512);
    for (let i = 0; i < 20_000; i++) filler.set(`bulk:${i}`, value);
    await filler.exec();

    let writing = true;
    let rounds = 0;
    const writes = (async () => {
      while (writing) {
        rounds++;
        await writer.multi().set('pair:a', rounds).set('pair:b', rounds).incr('pair:n').exec();
      }
    })();
    const file = join(work, 'consistent.rdb');
    const result = await snapshot(`${source.url}/0`, file);
    writing = false;
    await writes;

    await restoreInto(componentOf(result, (await stat(file)).size), file, destination.url);
    const copy = connect(destination.url);
    const [a, b, n] = await copy.mget('pair:a', 'pair:b', 'pair:n');
    expect(a).not.toBeNull();
    expect(b).toBe(a);
    expect(n).toBe(a);
    expect(result.source.kind === 'redis' && result.source.keys).toBe(20_003);
    expect(await copy.dbsize()).toBe(20_003);
  });

  it('refuses to restore into a database that holds keys, and changes nothing', async () => {
    await connect(source.url).set('from-backup', '1');
    const file = join(work, 'refused.rdb');
    const result = await snapshot(source.url, file);
    const occupied = connect(`${destination.url}/2`);
    await occupied.set('precious', 'keep me');

    const error = await restoreRejection(
      restoreInto(componentOf(result, (await stat(file)).size), file, `${destination.url}/2`),
    );
    expect(error.code).toBe('restore_target_not_empty');
    expect(error.message).toContain(`cache-copy (${destination.url}/2) db 2 holds 1 keys`);
    expect(error.message).toContain('FLUSHDB');
    expect(await occupied.keys('*')).toEqual(['precious']);
    expect(await occupied.get('precious')).toBe('keep me');
  });

  it('takes back every key it wrote when a RESTORE fails part way, leaving the database empty as it was', async () => {
    const filler = connect(source.url);
    const writes = filler.pipeline();
    for (let i = 0; i < 2_000; i++) writes.set(`allowed:${i}`, `value ${i}`);
    writes.set('blocked:key', 'the destination user may not write this one');
    await writes.exec();
    const file = join(work, 'partial.rdb');
    const result = await snapshot(source.url, file);
    // A user that may write only allowed:* keys: the RESTORE of blocked:key fails mid-copy.
    const admin = connect(destination.url);
    await admin.call('ACL', 'SETUSER', 'restorer', 'on', '>pw', '~allowed:*', '+@all');
    const restorerUrl = `redis://restorer:pw@127.0.0.1:${destination.port}/0`;

    const error = await restoreRejection(
      restoreInto(componentOf(result, (await stat(file)).size), file, restorerUrl),
    );

    expect(error.code).toBe('redis_restore_failed');
    expect(error.message).toContain('RESTORE of "blocked:key"');
    const removed = Number(
      /the (\d+) keys it had written were removed again/.exec(error.message)?.[1],
    );
    expect(removed).toBeGreaterThan(0);
    expect(error.message).toContain('is empty, as it was');
    expect(error.destination).toBe('unchanged');
    expect(await admin.dbsize()).toBe(0);
  });

  it('fails clearly, naming the target, when the server cannot be reached', async () => {
    const gone = await server();
    await gone.stop();
    const error = await rejection(snapshot(gone.url, join(work, 'unreachable.rdb')));
    expect(error).toBeInstanceOf(BackupError);
    expect(error.code).toBe('redis_unreachable');
    expect(error.message).toMatch(
      new RegExp(`^cannot reach the redis target cache at ${gone.url}/?: .*ECONNREFUSED`),
    );
  });

  it('errors the stream, never ending it, when the server refuses the snapshot', async () => {
    const refusing = await server(['--rename-command', 'SYNC', '']);
    const source = new RedisSource('cache', redisTarget(refusing.url));
    const opened = await source.open(new AbortController().signal);
    const streamed = pipeline(opened.stream, createWriteStream(join(work, 'refusing.rdb')));
    const error = await rejection(streamed);
    expect(error.code).toBe('redis_snapshot_failed');
    expect(error.message).toContain(`redis-cli --rdb of cache (${refusing.url}`);
    await expect(opened.finished).rejects.toMatchObject({ code: 'redis_snapshot_failed' });
  });

  it('stops redis-cli and removes its temporary file when the backup is cancelled', async () => {
    const writer = connect(source.url);
    const filler = writer.pipeline();
    for (let i = 0; i < 20_000; i++) filler.set(`bulk:${i}`, 'v'.repeat(512));
    await filler.exec();
    const before = await snapshotDirectories();
    const controller = new AbortController();
    const opened = await new RedisSource('cache', redisTarget(source.url)).open(controller.signal);
    const reading = (async () => {
      for await (const _ of opened.stream) controller.abort(new Error('operator cancelled'));
    })();
    await expect(reading).rejects.toMatchObject({ code: 'backup_aborted' });
    await expect(opened.finished).rejects.toMatchObject({
      code: 'backup_aborted',
      message: 'cancelled: operator cancelled',
    });
    expect(await snapshotDirectories()).toEqual(before);
  });

  it('rejects a corrupt or truncated RDB file, before and during a restore', async () => {
    await connect(source.url).set('k', 'v'.repeat(100));
    const file = join(work, 'good.rdb');
    const result = await snapshot(source.url, file);
    expect(await checkRdbFile(file)).toMatchObject({ keys: 1, expires: 0, databases: [0] });

    const good = await readFile(file);
    const truncated = join(work, 'truncated.rdb');
    await writeFile(truncated, good.subarray(0, good.length - 20));
    await expect(checkRdbFile(truncated)).rejects.toMatchObject({
      code: 'rdb_corrupt',
      message: expect.stringContaining(`the RDB file ${truncated} is not valid`),
    });
    const flipped = Buffer.from(good);
    flipped[flipped.length - 30] = (flipped[flipped.length - 30] ?? 0) ^ 0xff;
    const corrupt = join(work, 'corrupt.rdb');
    await writeFile(corrupt, flipped);
    await expect(checkRdbFile(corrupt)).rejects.toMatchObject({ code: 'rdb_corrupt' });

    const error = await restoreRejection(
      restoreInto(componentOf(result, flipped.length), corrupt, destination.url),
    );
    expect(error.code).toBe('redis_server_failed');
    expect(error.message).toContain('the snapshot of cache could not be loaded');
    expect(await connect(destination.url).dbsize()).toBe(0);
  });
});

describe('a redis backup through runBackup', () => {
  it('stores the RDB and a manifest with the exact key count, and restores from the store', async () => {
    const source = await server();
    const destination = await server();
    const expected = await fill(source.url);
    const store = new LocalBackupStore({ root: join(work, 'store') });
    const id = 'bk_20261122T020000Z_cache_r3d1';

    const manifest = await runBackup({
      id,
      profile: 'cache',
      note: null,
      requestedBy: 'console:alice',
      targets: [{ name: 'cache', config: redisTarget(`${source.url}/3`) }],
      compression: 'zstd',
      store,
    });
    expect(await keysOf(store, `${id}/`)).toEqual([`${id}/cache.rdb.zst`, `${id}/manifest.json`]);
    const [component] = (await readManifest(store, id)).components;
    expect(component).toMatchObject({
      name: 'cache',
      kind: 'redis',
      object: 'cache.rdb.zst',
      source: { kind: 'redis', db: 3, keys: expected.keys, expires: expected.expires },
    });
    expect(manifest.components[0]?.source).toEqual(component?.source);
    if (!component) throw new Error('no component');

    const staging = await mkdtemp(join(work, 'staging-'));
    const staged = await stageComponent({
      store,
      backupId: id,
      component,
      identities: [],
      directory: staging,
    });
    expect((await checkRdbFile(staged.path)).keys).toBe(expected.keys + 1);
    const restored = await restoreInto(component, staged.path, destination.url);
    expect(restored.ok).toBe(true);
    expect(await connect(destination.url).dbsize()).toBe(expected.keys);
  });

  it('keeps the snapshot it reads private while it is on disk (0600 in 0700), whatever the umask', async () => {
    const source = await server();
    await fill(source.url);
    const modes: string[] = [];
    const store = withFirstChunkHook(
      new LocalBackupStore({ root: join(work, 'store-private') }),
      (key) => key.endsWith('.rdb'),
      async () => {
        const root = defaultStagingRoot();
        for (const name of await readdir(root)) {
          if (!name.startsWith(`${currentOwner()}.snapshot-`)) continue;
          const mode = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);
          modes.push(
            `${await mode(join(root, name))} ${await mode(join(root, name, 'snapshot.rdb'))}`,
          );
        }
      },
    );
    const umask = process.umask(0o022);
    try {
      await runBackup({
        id: 'bk_20261122T020000Z_cache_m0de',
        profile: 'cache',
        note: null,
        requestedBy: 'console:alice',
        targets: [{ name: 'cache', config: redisTarget(source.url) }],
        compression: 'none',
        store,
      });
    } finally {
      process.umask(umask);
    }
    expect(store.hookRan()).toBe(true);
    expect(modes).toEqual(['700 600']);
  });

  it('leaves nothing in the store when the redis target is unreachable', async () => {
    const gone = await server();
    await gone.stop();
    const store = new LocalBackupStore({ root: join(work, 'store-unreachable') });
    const error = await rejection(
      runBackup({
        id: 'bk_20261122T030000Z_cache_dead',
        profile: 'cache',
        note: null,
        requestedBy: 'console:alice',
        targets: [{ name: 'cache', config: redisTarget(gone.url) }],
        compression: 'zstd',
        store,
      }),
    );
    expect(error.code).toBe('redis_unreachable');
    expect(error.message).toMatch(/^backup of cache failed: cannot reach the redis target cache/);
    expect(await keysOf(store, '')).toEqual([]);
  });
});
