import { describe, expect, it } from 'vitest';
import { redactPasswords, splitPassword } from '../../../../src/backup/sources/postgres-url.ts';

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
