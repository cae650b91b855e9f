import { userInfo } from 'node:os';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  redactPasswords,
  splitPassword,
  urlForDatabase,
  withDefaultUser,
} from '../../../src/postgres/connection-url.ts';

describe('taking the password out of a connection string', () => {
  it.each([
    ['postgres://app:s3cret@db.internal:5432/app', 'postgres://app@db.internal:5432/app', 's3cret'],
    ['postgresql://app:p%40ss%2Fword@db/app', 'postgresql://app@db/app', 'p@ss/word'],
    [
      'postgres://app@db/app?sslmode=require&password=hunter2',
      'postgres://app@db/app?sslmode=require',
      'hunter2',
    ],
    ['postgres://127.0.0.1:5432/app', 'postgres://127.0.0.1:5432/app', null],
    ['host=db dbname=app password=hunter2 user=app', 'host=db dbname=app user=app', 'hunter2'],
    ["host=db password='it\\'s a secret' dbname=app", 'host=db dbname=app', "it's a secret"],
    ['host=db dbname=app', 'host=db dbname=app', null],
  ])('splits %j into %j and its password', (input, url, password) => {
    expect(splitPassword(input)).toEqual({ url, password });
  });
});

describe('redacting passwords in text', () => {
  it('masks the password of URLs in text', () => {
    expect(
      redactPasswords('pg_dump: error: connection to postgres://app:s3cret@db/app failed'),
    ).toBe('pg_dump: error: connection to postgres://app:***@db/app failed');
  });

  it('masks password= pairs', () => {
    expect(redactPasswords('host=db password=hunter2 user=app')).toBe(
      'host=db password=*** user=app',
    );
  });

  it('masks the literal secret wherever it appears', () => {
    expect(redactPasswords('authentication failed for hunter2', 'hunter2')).toBe(
      'authentication failed for ***',
    );
  });

  it('leaves text without secrets alone', () => {
    expect(redactPasswords('pg_dump: error: no matching tables were found')).toBe(
      'pg_dump: error: no matching tables were found',
    );
  });
});

describe('filling in the user libpq would connect as', () => {
  beforeEach(() => {
    vi.stubEnv('PGUSER', undefined);
    vi.stubEnv('USER', undefined);
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('names the operating-system user when the URL and the environment name none', () => {
    const user = encodeURIComponent(userInfo().username);
    expect(withDefaultUser('postgres://127.0.0.1:5432/app')).toBe(
      `postgres://${user}@127.0.0.1:5432/app`,
    );
  });

  it.each([
    'postgres://app@127.0.0.1:5432/app',
    'postgres://127.0.0.1:5432/app?user=app',
    'host=db dbname=app',
  ])('leaves %j as it is', (url) => {
    expect(withDefaultUser(url)).toBe(url);
  });

  it.each(['PGUSER', 'USER'])('leaves the user to libpq when %s is set', (name) => {
    vi.stubEnv(name, 'app');
    expect(withDefaultUser('postgres://127.0.0.1:5432/app')).toBe('postgres://127.0.0.1:5432/app');
  });
});

describe('pointing a URL at another database', () => {
  it('keeps the server, credentials and parameters', () => {
    expect(urlForDatabase('postgres://app:pw@db:5432/app?sslmode=require', 'postgres')).toBe(
      'postgres://app:pw@db:5432/postgres?sslmode=require',
    );
  });

  it('encodes a database name that needs it', () => {
    expect(urlForDatabase('postgres://db/app', 'odd name')).toBe('postgres://db/odd%20name');
  });
});
