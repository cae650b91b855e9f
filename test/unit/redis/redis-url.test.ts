import { describe, expect, it } from 'vitest';
import { parseRedisUrl } from '../../../src/redis/redis-url.ts';

describe('parseRedisUrl', () => {
  it('takes the password out and keeps the rest for manifests', () => {
    const url = parseRedisUrl('redis://:s%40cret@cache.internal:6380/4');
    expect(url).toEqual({
      safeUrl: 'redis://cache.internal:6380/4',
      cliUrl: 'redis://cache.internal:6380/4',
      host: 'cache.internal',
      port: 6380,
      username: null,
      password: 's@cret',
      db: 4,
      tls: false,
    });
  });

  it('keeps an ACL user in the safe URL but gives redis-cli no credentials', () => {
    const url = parseRedisUrl('rediss://backup:pw@10.0.0.5');
    expect(url.safeUrl).toBe('rediss://backup@10.0.0.5');
    expect(url.cliUrl).toBe('rediss://10.0.0.5');
    expect(url).toMatchObject({ username: 'backup', password: 'pw', port: 6379, db: 0, tls: true });
  });

  it('defaults to db 0 without a path', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379').db).toBe(0);
    expect(parseRedisUrl('redis://127.0.0.1:6379/').db).toBe(0);
  });

  it('rejects other schemes and non-numeric databases without echoing the URL', () => {
    expect(() => parseRedisUrl('postgres://:hunter2@db/x')).toThrow(
      /^a redis url must look like redis:\/\//,
    );
    expect(() => parseRedisUrl('postgres://:hunter2@db/x')).not.toThrow(/hunter2/);
    expect(() => parseRedisUrl('redis://:hunter2@host/cache')).toThrow(
      'a redis url\'s path is the database index, a number such as /0 or /3, not "/cache"',
    );
  });
});
