import { describe, expect, it } from 'vitest';
import type { ManifestComponent } from '../../../src/backup/manifest.ts';
import { RedisRestorer } from '../../../src/restore/restorers/redis-restorer.ts';

const component: ManifestComponent = {
  name: 'cache',
  kind: 'redis',
  object: 'cache.rdb.zst',
  bytes: 100,
  sha256: 'a'.repeat(64),
  rawBytes: 300,
  compression: 'zstd',
  encryption: null,
  tools: { 'redis-cli': '7.0.15' },
  startedAt: '2026-11-22T02:00:00.000Z',
  finishedAt: '2026-11-22T02:00:01.000Z',
  durationMs: 1000,
  source: {
    kind: 'redis',
    url: 'redis://cache.internal:6379/3',
    db: 3,
    serverVersion: '7.0.15',
    keys: 1234,
    expires: 56,
  },
};

describe('RedisRestorer.describe', () => {
  it('says what it loads, where the keys go, and that the database must be empty', () => {
    const lines = new RedisRestorer().describe(component, {
      name: 'cache-staging',
      config: { kind: 'redis', url: 'redis://:secret@staging:6380/1', environment: 'staging' },
    });
    expect(lines).toEqual([
      'cache: load the RDB snapshot of redis://cache.internal:6379/3 (1234 keys in db 3, 56 with a TTL) into a private redis-server',
      "copy db 3's keys into cache-staging (redis://staging:6380/1, db 1) with DUMP/RESTORE, each key keeping its expiry time; keys whose TTL has run out since the backup are left out",
      'cache-staging db 1 must be empty (or flushed first): a database that holds keys is refused, and no key is ever overwritten',
    ]);
    expect(lines.join('\n')).not.toContain('secret');
  });

  it('refuses a destination of another kind', () => {
    expect(() =>
      new RedisRestorer().describe(component, {
        name: 'app-db',
        config: {
          kind: 'postgres',
          url: 'postgres://db/app',
          environment: 'staging',
          pgDumpArgs: [],
        },
      }),
    ).toThrow('app-db is a postgres target: a redis snapshot restores only into a redis target');
  });
});
