import { describe, expect, it } from 'vitest';
import { environmentSecrets, readEnvironment } from '../../../src/config/environment.ts';
import { environmentIssues } from '../../support/config-issues.ts';

describe('readEnvironment', () => {
  it('uses the local services and port 8080 when nothing is set', () => {
    expect(readEnvironment({})).toEqual({
      databaseUrl: 'postgres://127.0.0.1:5432/lifeboat',
      redisUrl: 'redis://127.0.0.1:6379',
      queuePrefix: 'lifeboat',
      httpPort: 8080,
      httpHost: '127.0.0.1',
      logLevel: 'info',
    });
  });

  it('reads every variable', () => {
    expect(
      readEnvironment({
        DATABASE_URL: 'postgresql://lifeboat:pw@db:5432/catalog',
        REDIS_URL: 'rediss://cache:6380/2',
        LIFEBOAT_QUEUE_PREFIX: '{lifeboat-test}',
        LIFEBOAT_HTTP_PORT: '9090',
        LIFEBOAT_HTTP_HOST: '0.0.0.0',
        LOG_LEVEL: 'debug',
      }),
    ).toEqual({
      databaseUrl: 'postgresql://lifeboat:pw@db:5432/catalog',
      redisUrl: 'rediss://cache:6380/2',
      queuePrefix: '{lifeboat-test}',
      httpPort: 9090,
      httpHost: '0.0.0.0',
      logLevel: 'debug',
    });
  });

  it('allows port 0, which lets the system pick a free port', () => {
    expect(readEnvironment({ LIFEBOAT_HTTP_PORT: '0' }).httpPort).toBe(0);
  });

  it('treats an empty variable as unset', () => {
    expect(readEnvironment({ LOG_LEVEL: '', LIFEBOAT_HTTP_PORT: '' })).toMatchObject({
      logLevel: 'info',
      httpPort: 8080,
    });
  });

  it('names the variable holding a port that is not a port', () => {
    expect(environmentIssues({ LIFEBOAT_HTTP_PORT: 'http' })).toEqual([
      'LIFEBOAT_HTTP_PORT: must be a port number from 0 to 65535 (got "http")',
    ]);
    expect(environmentIssues({ LIFEBOAT_HTTP_PORT: '65536' })).toEqual([
      'LIFEBOAT_HTTP_PORT: must be a port number from 0 to 65535 (got "65536")',
    ]);
  });

  it('lists the valid log levels', () => {
    expect(environmentIssues({ LOG_LEVEL: 'verbose' })).toEqual([
      'LOG_LEVEL: must be one of: fatal, error, warn, info, debug, trace, silent (got "verbose")',
    ]);
  });

  it('rejects a database URL of another kind without showing its password', () => {
    const [issue, ...rest] = environmentIssues({
      DATABASE_URL: 'mysql://root:topsecret@db/catalog',
    });
    expect(rest).toEqual([]);
    expect(issue).toMatch(/^DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(issue).toContain('mysql://root@db/catalog');
    expect(issue).not.toContain('topsecret');
  });

  it('never echoes a URL variable that is not a URL: it may be a secret put in the wrong place', () => {
    expect(environmentIssues({ DATABASE_URL: 'correct-horse-battery-staple' })).toEqual([
      'DATABASE_URL: must be a postgres:// or postgresql:// URL, e.g. postgres://127.0.0.1:5432/lifeboat (got a value that is not a URL (28 characters, not shown))',
    ]);
    expect(environmentIssues({ REDIS_URL: 'localhost:hunter2@6379' }).join()).not.toContain(
      'hunter2',
    );
  });

  it('reports every invalid variable at once', () => {
    const issues = environmentIssues({
      REDIS_URL: 'localhost:6379',
      LIFEBOAT_QUEUE_PREFIX: 'two words',
      LIFEBOAT_HTTP_PORT: '-1',
    });
    expect(issues.map((issue) => issue.split(':')[0])).toEqual([
      'REDIS_URL',
      'LIFEBOAT_QUEUE_PREFIX',
      'LIFEBOAT_HTTP_PORT',
    ]);
  });
});

describe('environmentSecrets', () => {
  it('returns the passwords in the database and Redis URLs', () => {
    const environment = readEnvironment({
      DATABASE_URL: 'postgres://lifeboat:catalog-passphrase@db/lifeboat',
      REDIS_URL: 'redis://:redis-passphrase@cache:6379',
    });
    expect(environmentSecrets(environment)).toEqual(['catalog-passphrase', 'redis-passphrase']);
  });

  it('leaves short passwords to the URL pattern, so common words stay readable', () => {
    const environment = readEnvironment({ DATABASE_URL: 'postgres://postgres:postgres@db/x' });
    expect(environmentSecrets(environment)).toEqual([]);
  });

  it('returns nothing for URLs without passwords', () => {
    expect(environmentSecrets(readEnvironment({}))).toEqual([]);
  });
});
