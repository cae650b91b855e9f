import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmod,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/backup/manifest.ts';
import { type BackupTarget, runBackup } from '../../src/backup/run-backup.ts';
import { freePort } from '../../src/core/free-port.ts';
import { generateAgeIdentity } from '../../src/crypto/age/index.ts';
import { startTemporaryTcpRedis, type TemporaryTcpRedis } from '../../src/redis/temporary-redis.ts';
import { LocalBackupStore } from '../../src/storage/local-backup-store.ts';
import {
  createPgbenchDatabase,
  databaseUrl,
  dropDatabase,
  sql,
  tableChecksums,
  uniqueName,
} from '../support/databases.ts';

// Runs the "Restoring by hand" commands of docs/hand-restore.md — read from that file, so the
// documentation cannot drift from what is tested — against real backups, with nothing of
// Lifeboat's running.
// Every Redis here is a private server on its own port; the shared one on 6379 is never touched.

const run = promisify(execFile);
const HAND_RESTORE = fileURLToPath(new URL('../../docs/hand-restore.md', import.meta.url));
const HOUR_MS = 60 * 60_000;

/** The documented values that stand for this test's own paths, ids, names and ports. */
const DOCUMENTED_STORE = '/var/backups/lifeboat';
const DOCUMENTED_ID = 'bk_20261122T043453Z_full_3pzv';

/** The `<!-- hand-restore:NAME -->` code blocks of docs/hand-restore.md. */
async function readmeBlocks(): Promise<Map<string, string>> {
  const section = await readFile(HAND_RESTORE, 'utf8');
  const blocks = new Map<string, string>();
  for (const match of section.matchAll(/<!-- hand-restore:(\S+) -->\n```sh\n([\s\S]*?)```\n/g)) {
    blocks.set(match[1] as string, match[2] as string);
  }
  return blocks;
}

/**
 * A bash script of documented blocks for an encrypted or unencrypted backup: lines ending in
 * `# encrypted` or `# not encrypted` are kept for that kind only. Each documented value in
 * `substitutions` is replaced in one pass (a replacement is never replaced again), and must be
 * there: a document that no longer says it fails the test instead of running something else.
 */
function scriptOf(
  blocks: Map<string, string>,
  names: readonly string[],
  encrypted: boolean,
  substitutions: Record<string, string>,
): string {
  const text = names
    .map((name) => {
      const block = blocks.get(name);
      if (block === undefined)
        throw new Error(`docs/hand-restore.md has no hand-restore:${name} block`);
      return block;
    })
    .join('\n');
  const lines = text
    .split('\n')
    .filter((line) => !(encrypted ? /# not encrypted$/ : /# encrypted$/).test(line));
  const script = lines.join('\n');
  const keys = Object.keys(substitutions).sort((a, b) => b.length - a.length);
  for (const key of keys) {
    if (!script.includes(key)) throw new Error(`docs/hand-restore.md no longer contains ${key}`);
  }
  const pattern = new RegExp(
    keys.map((key) => key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'),
    'g',
  );
  return `set -euo pipefail\n${keys.length ? script.replace(pattern, (key) => substitutions[key] ?? key) : script}`;
}

interface Ran {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `script` with bash in `cwd`; rejects with its output when it exits non-zero. */
async function bash(script: string, cwd: string, env: Record<string, string>): Promise<Ran> {
  try {
    return await run('bash', ['-c', script], { cwd, env, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const failed = error as Error & { stdout?: string; stderr?: string; code?: number };
    throw new Error(
      `bash exited with ${failed.code}:\n--- script\n${script}\n--- stdout\n${failed.stdout}\n--- stderr\n${failed.stderr}`,
    );
  }
}

/**
 * Every entry under `root`: type, mode, owner, mtime (ns) and content (or link target), then
 * the extended attributes and ACLs of all of them.
 */
async function treeOf(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true });
  const lines: string[] = [];
  for (const entry of entries.sort()) {
    const path = join(root, entry);
    const info = await lstat(path, { bigint: true });
    const common = `${relative(root, path)} ${(info.mode & 0o7777n).toString(8)} ${info.uid}:${info.gid}`;
    // To the nanosecond: the archive is POSIX pax, and a plain `tar -x` sets mtimes from it.
    const mtime = info.mtimeNs;
    if (info.isSymbolicLink()) lines.push(`${common} link -> ${await readlink(path)}`);
    else if (info.isDirectory()) lines.push(`${common} dir ${mtime}`);
    else {
      const sha = createHash('sha256')
        .update(await readFile(path))
        .digest('hex');
      lines.push(`${common} file ${info.size} ${sha} ${mtime}`);
    }
  }
  const { stdout } = await run(
    'getfattr',
    ['--recursive', '--physical', '--no-dereference', '--dump', '--match=-', '--encoding=hex', '.'],
    { cwd: root },
  );
  // `path name=value` lines, sorted: getfattr lists in directory order, which differs.
  let file = '';
  const attributes: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith('# file: ')) file = line.slice('# file: '.length);
    else if (line !== '') attributes.push(`${file} ${line}`);
  }
  lines.push(...attributes.sort());
  return lines;
}

/** A key's type and value, in an order that does not depend on how redis encodes it. */
async function typedValue(client: Redis, key: string): Promise<string> {
  const type = await client.type(key);
  switch (type) {
    case 'string':
      return `string ${(await client.getBuffer(key))?.toString('hex')}`;
    case 'hash':
      return `hash ${JSON.stringify(Object.entries(await client.hgetall(key)).sort())}`;
    case 'list':
      return `list ${JSON.stringify(await client.lrange(key, 0, -1))}`;
    case 'set':
      return `set ${JSON.stringify((await client.smembers(key)).sort())}`;
    case 'zset':
      return `zset ${JSON.stringify(await client.zrange(key, '0', '-1', 'WITHSCORES'))}`;
    default:
      return type;
  }
}

/** A database's keys: each one's type and value, and whether it has a TTL. */
async function keyspaceOf(url: string, db: number): Promise<Record<string, string>> {
  const client = new Redis(`${url}/${db}`, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  try {
    const out: Record<string, string> = {};
    for (const key of (await client.keys('*')).sort()) {
      const ttl = await client.pttl(key);
      out[key] = `${await typedValue(client, key)} ${ttl === -1 ? 'persistent' : 'expiring'}`;
    }
    return out;
  } finally {
    client.disconnect();
  }
}

/** The PTTL of every key of `db`, for keys that have one. */
async function ttlsOf(url: string, db: number): Promise<Record<string, number>> {
  const client = new Redis(`${url}/${db}`, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  try {
    const out: Record<string, number> = {};
    for (const key of await client.keys('*')) {
      const ttl = await client.pttl(key);
      if (ttl !== -1) out[key] = ttl;
    }
    return out;
  } finally {
    client.disconnect();
  }
}

/** The TTLs the source's database 2 was given, in ms. */
const SOURCE_TTLS: Record<string, number> = {
  'session:1': HOUR_MS,
  'rate limit:alice': 2 * HOUR_MS,
  'recent:list': 3 * HOUR_MS,
};

describe('restoring by hand with the documented commands', () => {
  const sourceDb = uniqueName('lb_hand_src');
  const restoredDbs: string[] = [];
  const serversStartedByReadme: number[] = [];
  const temporary: TemporaryTcpRedis[] = [];
  const key = generateAgeIdentity();
  let work: string;
  let storeRoot: string;
  let uploads: string;
  let sourceRedis: TemporaryTcpRedis;
  let blocks: Map<string, string>;
  let env: Record<string, string>;
  let encrypted: Manifest;
  let plain: Manifest;
  let sourceTables: Record<string, string>;
  let sourceTree: string[];
  let sourceKeys: Record<string, string>;

  const backups = () => [
    { label: 'encrypted', manifest: encrypted, isEncrypted: true },
    { label: 'unencrypted', manifest: plain, isEncrypted: false },
  ];

  /** A fresh working directory, as docs/hand-restore.md asks for. */
  const workingDirectory = () => mkdtemp(join(work, 'cwd-'));

  /** The substitutions that point the find block at this test's store and backup. */
  const found = (manifest: Manifest, root = storeRoot) => ({
    [DOCUMENTED_STORE]: root,
    [DOCUMENTED_ID]: manifest.id,
  });

  const restoredDatabase = () => {
    const name = uniqueName('lb_hand_rst');
    restoredDbs.push(name);
    return name;
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'lifeboat-hand-restore-'));
    storeRoot = join(work, 'store');
    blocks = await readmeBlocks();
    env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      PGHOST: '127.0.0.1',
      PGPORT: '5432',
      PGUSER: userInfo().username,
      LIFEBOAT_AGE_IDENTITY: key.identity,
    };

    await createPgbenchDatabase(sourceDb, 1);
    await sql(
      `create table notes (id int primary key, body text, tags text[], at timestamptz);
       insert into notes select g, case when g % 7 = 0 then null else 'note ' || g || E' \\t"q"' end,
              array['a', 'b' || g], timestamptz '2026-01-01 00:00:00+00' + g * interval '1 hour'
         from generate_series(1, 500) g;`,
      sourceDb,
    );

    uploads = join(work, 'uploads');
    await mkdir(join(uploads, 'nested/deep'), { recursive: true });
    await mkdir(join(uploads, 'bin'));
    await mkdir(join(uploads, 'empty'));
    await writeFile(join(uploads, 'a.txt'), 'alpha\n');
    await writeFile(join(uploads, 'with space.txt'), randomBytes(3000));
    await writeFile(join(uploads, 'bin/run.sh'), '#!/bin/sh\necho run\n');
    await writeFile(join(uploads, 'nested/deep/data.bin'), randomBytes(200_000));
    await symlink('a.txt', join(uploads, 'link'));
    await chmod(join(uploads, 'with space.txt'), 0o600);
    await chmod(join(uploads, 'bin/run.sh'), 0o755);
    await chmod(join(uploads, 'empty'), 0o700);
    // Extended attributes, ACLs and a file capability, which the documented tar command gives back.
    await run('setfattr', ['-n', 'user.origin', '-v', 'upload', join(uploads, 'a.txt')]);
    await run('setfacl', ['-m', 'u:1234:r', join(uploads, 'with space.txt')]);
    await run('setfacl', ['-d', '-m', 'u:1234:rx', join(uploads, 'nested')]);
    await run('setcap', ['cap_net_bind_service+ep', join(uploads, 'bin/run.sh')]);
    await utimes(
      join(uploads, 'a.txt'),
      new Date('2020-02-02T02:02:02Z'),
      new Date('2020-02-02T02:02:02Z'),
    );
    await utimes(
      join(uploads, 'nested'),
      new Date('2021-01-01T00:00:00Z'),
      new Date('2021-01-01T00:00:00Z'),
    );

    // Diskless transfers start at once rather than after redis's 5 s default.
    sourceRedis = await startTemporaryTcpRedis({
      args: ['--repl-diskless-sync-delay', '0'],
      password: null,
    });
    temporary.push(sourceRedis);
    const client = new Redis(`${sourceRedis.url}/2`);
    try {
      await client.set('plain', 'v');
      await client.set('session:1', 'token', 'PX', SOURCE_TTLS['session:1'] as number);
      await client.hset('rate limit:alice', { hits: '3', window: '60' });
      await client.pexpire('rate limit:alice', SOURCE_TTLS['rate limit:alice'] as number);
      await client.rpush('recent:list', 'x', 'y', 'z');
      await client.pexpire('recent:list', SOURCE_TTLS['recent:list'] as number);
      await client.sadd('tags', 'red', 'green');
      await client.zadd('board', 1, 'ann', 2, 'bob');
      await client.set(`quote'd "key"`, Buffer.from([0, 1, 2, 255]));
      await client.select(0);
      await client.set('other-db-key', 'db0');
      await client.select(5);
      await client.set('another', 'db5');
    } finally {
      client.disconnect();
    }

    const targets: BackupTarget[] = [
      {
        name: 'app-db',
        config: {
          kind: 'postgres',
          url: databaseUrl(sourceDb),
          environment: 'staging',
          pgDumpArgs: [],
        },
      },
      {
        name: 'uploads',
        config: {
          kind: 'directory',
          path: uploads,
          include: [],
          exclude: [],
          environment: 'staging',
        },
      },
      {
        name: 'cache',
        config: { kind: 'redis', url: `${sourceRedis.url}/2`, environment: 'staging' },
      },
    ];
    const store = new LocalBackupStore({ root: storeRoot });
    const backup = (id: string, encryption?: { recipients: string[] }) =>
      runBackup({
        id,
        profile: 'full',
        note: null,
        requestedBy: 'console:tester',
        targets,
        compression: 'zstd',
        ...(encryption ? { encryption } : {}),
        store,
      });
    encrypted = await backup(DOCUMENTED_ID, { recipients: [key.recipient] });
    plain = await backup('bk_20261122T050000Z_full_pln1');
    // A newer backup that never finished: objects, but no manifest.
    await mkdir(join(storeRoot, 'bk_20261122T060000Z_full_half'));
    await writeFile(join(storeRoot, 'bk_20261122T060000Z_full_half/app-db.dump.zst'), 'partial');

    sourceTables = await tableChecksums(sourceDb);
    sourceTree = await treeOf(uploads);
    sourceKeys = await keyspaceOf(sourceRedis.url, 2);
  }, 180_000);

  afterAll(async () => {
    for (const port of serversStartedByReadme) {
      await run('redis-cli', ['-p', String(port), 'SHUTDOWN', 'NOSAVE']).catch(() => undefined);
    }
    await Promise.all(temporary.map((server) => server.stop()));
    for (const name of restoredDbs) await dropDatabase(name);
    await dropDatabase(sourceDb);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('has the backups it restores: every component kind, encrypted and not', () => {
    expect(encrypted.components.map((c) => c.object)).toEqual([
      'app-db.dump.zst.age',
      'uploads.tar.zst.age',
      'cache.rdb.zst.age',
    ]);
    expect(plain.components.map((c) => c.object)).toEqual([
      'app-db.dump.zst',
      'uploads.tar.zst',
      'cache.rdb.zst',
    ]);
    expect(Object.keys(sourceKeys)).toHaveLength(7);
    expect(Object.keys(sourceTables)).toContain('public.pgbench_accounts');
  });

  it('finds the newest complete backup, passing over one without a manifest', async () => {
    const script = scriptOf(blocks, ['find'], false, found(plain));
    const { stdout } = await bash(`${script}\necho "B=$B"`, await workingDirectory(), env);
    expect(stdout.trim().split('\n')).toEqual([
      join(storeRoot, plain.id, 'manifest.json'),
      `B=${join(storeRoot, plain.id)}`,
    ]);
  });

  it("checks every object's sha256 against the manifest", async () => {
    for (const { manifest, isEncrypted } of backups()) {
      const script = scriptOf(blocks, ['find', 'check'], isEncrypted, found(manifest));
      const { stdout } = await bash(script, await workingDirectory(), env);
      const checked = stdout.split('\n').filter((line) => / OK$|FAILED/.test(line));
      expect(checked).toEqual(
        manifest.components.map((c) => `${join(storeRoot, manifest.id, c.object)}: OK`),
      );
      for (const component of manifest.components) {
        expect(stdout).toContain(`"sha256": "${component.sha256}"`);
        expect(stdout).toContain(`"kind": "${component.kind}"`);
      }
    }
  });

  it('fails the check when one byte of an object is flipped, naming the object', async () => {
    const copyRoot = join(work, 'damaged-store');
    await cp(join(storeRoot, encrypted.id), join(copyRoot, encrypted.id), { recursive: true });
    const object = join(copyRoot, encrypted.id, 'uploads.tar.zst.age');
    const bytes = await readFile(object);
    bytes[Math.floor(bytes.length / 2)] = (bytes[Math.floor(bytes.length / 2)] as number) ^ 0x01;
    await writeFile(object, bytes);

    const script = scriptOf(blocks, ['find', 'check'], true, found(encrypted, copyRoot));
    const failure = await bash(script, await workingDirectory(), env).then(
      () => new Error('the check passed'),
      (error: Error) => error,
    );
    expect(failure.message).toMatch(/^bash exited with 1/);
    expect(failure.message).toContain(`${object}: FAILED`);
    expect(failure.message).toContain(`${join(copyRoot, encrypted.id, 'app-db.dump.zst.age')}: OK`);
  });

  it('restores the database through a file with pg_restore -j, table contents identical', async () => {
    for (const { manifest, isEncrypted } of backups()) {
      const database = restoredDatabase();
      const names = isEncrypted ? ['find', 'key', 'postgres'] : ['find', 'postgres'];
      const script = scriptOf(blocks, names, isEncrypted, {
        ...found(manifest),
        app_restored: database,
      });
      await bash(script, await workingDirectory(), env);
      expect(await tableChecksums(database)).toEqual(sourceTables);
    }
  });

  it('restores the database streamed into pg_restore, table contents identical', async () => {
    for (const { manifest, isEncrypted } of backups()) {
      const database = restoredDatabase();
      const names = isEncrypted ? ['find', 'key', 'postgres-stream'] : ['find', 'postgres-stream'];
      const script = scriptOf(blocks, names, isEncrypted, {
        ...found(manifest),
        app_restored: database,
      });
      await bash(script, await workingDirectory(), env);
      expect(await tableChecksums(database)).toEqual(sourceTables);
    }
  });

  it('restores the directory with contents, modes, owners, times and links', async () => {
    for (const { manifest, isEncrypted } of backups()) {
      const cwd = await workingDirectory();
      const names = isEncrypted ? ['find', 'key', 'directory'] : ['find', 'directory'];
      await bash(scriptOf(blocks, names, isEncrypted, found(manifest)), cwd, env);
      expect(await treeOf(join(cwd, 'uploads-restored'))).toEqual(sourceTree);
    }
  });

  it('restores one redis database into a running server with MIGRATE, keys and TTLs intact', async () => {
    for (const { manifest, isEncrypted } of backups()) {
      const destination = await startTemporaryTcpRedis({ password: null });
      temporary.push(destination);
      const own = new Redis(destination.url);
      await own.set('already-here', 'kept');
      own.disconnect();
      const port = await freePort();
      serversStartedByReadme.push(port);

      const names = isEncrypted
        ? ['find', 'key', 'redis-rdb', 'redis-migrate']
        : ['find', 'redis-rdb', 'redis-migrate'];
      const script = scriptOf(blocks, names, isEncrypted, {
        ...found(manifest),
        '6390': String(port),
        '6379': String(destination.port),
      });
      const { stdout } = await bash(script, await workingDirectory(), env);

      // The find block's newest backup; the destination's DBSIZE before; one batch of keys;
      // then DBSIZE of the temporary server and of the destination.
      expect(stdout.trim().split('\n')).toEqual([
        join(storeRoot, plain.id, 'manifest.json'),
        '0',
        'OK',
        '7',
        '7',
      ]);
      expect(await keyspaceOf(destination.url, 2)).toEqual(sourceKeys);
      const ttls = await ttlsOf(destination.url, 2);
      expect(Object.keys(ttls).sort()).toEqual(Object.keys(SOURCE_TTLS).sort());
      for (const [name, ttl] of Object.entries(ttls)) {
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(SOURCE_TTLS[name] as number);
      }
      // Only database 2 came over; the server's other data is untouched.
      expect(await keyspaceOf(destination.url, 0)).toEqual({
        'already-here': expect.stringMatching(/ persistent$/),
      });
      expect(await keyspaceOf(destination.url, 5)).toEqual({});
      // The temporary server was shut down by the documented block's last line.
      const ping = await run('redis-cli', ['-p', String(port), 'PING']).catch((e) => e);
      expect(String(ping.stdout ?? '') + String(ping.stderr ?? '')).toMatch(/refused/i);
    }
  });

  it('restores a whole redis server from the RDB: every database, TTLs intact, old data gone', async () => {
    for (const { manifest, isEncrypted } of backups()) {
      const port = await freePort();
      const dir = await mkdtemp(join(work, 'redis-host-'));
      serversStartedByReadme.push(port);
      // A server as a service manager runs it: its own dir and dbfilename, saving on shutdown.
      const start = [
        `redis-server --port ${port} --bind 127.0.0.1 --dir ${dir} --dbfilename prod.rdb`,
        `--appendonly no --daemonize yes --logfile ${join(dir, 'redis.log')}`,
        `&& until redis-cli -p ${port} PING 2>/dev/null | grep -qx PONG; do sleep 0.1; done`,
      ].join(' ');
      await bash(start, dir, env);
      const before = new Redis(`redis://127.0.0.1:${port}/2`);
      await before.set('stale', 'from before the restore');
      await before.set('plain', 'overwritten by the restore');
      before.disconnect();

      const names = isEncrypted
        ? ['find', 'key', 'redis-rdb', 'redis-server']
        : ['find', 'redis-rdb', 'redis-server'];
      const script = scriptOf(blocks, names, isEncrypted, {
        ...found(manifest),
        '6379': String(port),
        'systemctl stop redis-server': `redis-cli -p ${port} SHUTDOWN`,
        'systemctl start redis-server': start,
      });
      const { stdout } = await bash(script, await workingDirectory(), env);

      expect(stdout).toContain('appendonly\nno');
      const url = `redis://127.0.0.1:${port}`;
      expect(await keyspaceOf(url, 2)).toEqual(sourceKeys);
      expect(Object.keys(await ttlsOf(url, 2)).sort()).toEqual(Object.keys(SOURCE_TTLS).sort());
      expect(Object.keys(await keyspaceOf(url, 0))).toEqual(['other-db-key']);
      expect(Object.keys(await keyspaceOf(url, 5))).toEqual(['another']);
      await run('redis-cli', ['-p', String(port), 'SHUTDOWN', 'NOSAVE']);
    }
  });
});
