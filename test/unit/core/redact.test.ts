import { describe, expect, it } from 'vitest';
import {
  findUrlPasswords,
  redactSecrets,
  redactUrl,
  redactUrlsIn,
} from '../../../src/core/redact.ts';

describe('redactUrl', () => {
  it('removes the password and keeps user, host, port and database', () => {
    expect(redactUrl('postgres://app:s3cret@db.internal:5432/app')).toBe(
      'postgres://app@db.internal:5432/app',
    );
  });

  it('removes a password given without a user', () => {
    expect(redactUrl('redis://:s3cret@cache:6379/0')).toBe('redis://@cache:6379/0');
  });

  it('removes all of a password that holds an unescaped @', () => {
    expect(redactUrl('postgres://app:p@ss@db/app')).toBe('postgres://app@db/app');
  });

  it('drops a password query parameter and keeps the others', () => {
    expect(redactUrl('postgres://db/app?sslmode=require&password=s3cret&connect_timeout=5')).toBe(
      'postgres://db/app?sslmode=require&connect_timeout=5',
    );
    expect(redactUrl('postgres://db/app?password=s3cret')).toBe('postgres://db/app');
  });

  it('leaves URLs without a password and text that is no URL unchanged', () => {
    expect(redactUrl('postgres://app@db:5432/app?sslmode=require')).toBe(
      'postgres://app@db:5432/app?sslmode=require',
    );
    expect(redactUrl('/var/backups')).toBe('/var/backups');
  });
});

describe('findUrlPasswords', () => {
  it('finds passwords in every URL of a text, as written and decoded', () => {
    expect(
      findUrlPasswords('from postgres://a:p%40ss@db/app to redis://:r3dis@cache, "s3://bucket/x"'),
    ).toEqual(['p%40ss', 'p@ss', 'r3dis']);
  });

  it('finds a password query parameter', () => {
    expect(findUrlPasswords('postgres://db/app?user=a&password=qp-secret')).toEqual(['qp-secret']);
  });

  it('finds nothing in URLs without passwords', () => {
    expect(findUrlPasswords('postgres://app@db/app http://minio:9000')).toEqual([]);
  });
});

describe('redactSecrets', () => {
  it('replaces every occurrence of every secret', () => {
    expect(redactSecrets('token abc123, again abc123; key xyz', ['abc123', 'xyz'])).toBe(
      'token [redacted], again [redacted]; key [redacted]',
    );
  });

  it('hides a secret that contains another one whole', () => {
    expect(redactSecrets('pw=hunter22', ['hunter2', 'hunter22'])).toBe('pw=[redacted]');
  });

  it('finds a secret in its JSON-escaped form in a log line', () => {
    const secret = 'pa"ss\\word';
    const line = JSON.stringify({ msg: `connecting with ${secret}` });
    expect(redactSecrets(line, [secret])).toBe('{"msg":"connecting with [redacted]"}');
  });

  it('ignores empty secrets', () => {
    expect(redactSecrets('nothing to hide', ['', 'absent'])).toBe('nothing to hide');
  });
});

describe('redactUrlsIn', () => {
  it('removes the password of every URL in free text and leaves the rest', () => {
    expect(redactUrlsIn('from postgres://a:one@h1/db to "redis://:two@h2:6379/0", then done')).toBe(
      'from postgres://a@h1/db to "redis://@h2:6379/0", then done',
    );
  });

  it('leaves text without URLs unchanged', () => {
    expect(redactUrlsIn('nothing: to see @ here')).toBe('nothing: to see @ here');
  });
});
