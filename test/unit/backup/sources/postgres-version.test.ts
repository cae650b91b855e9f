import { describe, expect, it } from 'vitest';
import {
  assertPgDumpCanDump,
  compareMajorVersions,
  parsePostgresVersion,
} from '../../../../src/backup/sources/postgres-version.ts';

describe('reading PostgreSQL versions', () => {
  it.each([
    ['pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)', '15.20', '15'],
    ['pg_dump (PostgreSQL) 17.2', '17.2', '17'],
    ['15.20 (Debian 15.20-0+deb12u1)', '15.20', '15'],
    ['16.4', '16.4', '16'],
    ['17beta1', '17beta1', '17'],
    ['pg_dump (PostgreSQL) 18devel', '18devel', '18'],
    ['9.6.24', '9.6.24', '9.6'],
    ['pg_dump (PostgreSQL) 9.5.25', '9.5.25', '9.5'],
    ['10.23 (Ubuntu 10.23-1)', '10.23', '10'],
  ])('reads %j as version %s of major %s', (printed, text, major) => {
    expect(parsePostgresVersion(printed)).toMatchObject({ text, major });
  });

  it('reads nothing from text without a version', () => {
    expect(parsePostgresVersion('')).toBeUndefined();
    expect(parsePostgresVersion('pg_dump (PostgreSQL) unknown')).toBeUndefined();
  });

  it.each([
    ['15.20', '15.2', 0],
    ['15.1', '16.0', -1],
    ['16.0', '15.9', 1],
    ['9.6.24', '10.0', -1],
    ['9.5.1', '9.6.0', -1],
    ['10.1', '9.6.24', 1],
  ])('compares the major of %s with %s as %i', (a, b, sign) => {
    const left = parsePostgresVersion(a);
    const right = parsePostgresVersion(b);
    if (!left || !right) throw new Error('unparsable test input');
    expect(Math.sign(compareMajorVersions(left, right))).toBe(sign);
  });
});

describe('checking that pg_dump can dump the server', () => {
  it('accepts a pg_dump of the same major version', () => {
    expect(() =>
      assertPgDumpCanDump('pg_dump (PostgreSQL) 15.2', '15.20 (Debian 15.20-0+deb12u1)'),
    ).not.toThrow();
  });

  it('accepts a pg_dump newer than the server', () => {
    expect(() => assertPgDumpCanDump('pg_dump (PostgreSQL) 17.2', '13.9')).not.toThrow();
  });

  it('refuses a pg_dump older than the server with pg_dump_too_old naming both versions', () => {
    let caught: unknown;
    try {
      assertPgDumpCanDump('pg_dump (PostgreSQL) 14.9', '15.20 (Debian 15.20-0+deb12u1)');
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'pg_dump_too_old' });
    expect((caught as Error).message).toContain('pg_dump 14.9');
    expect((caught as Error).message).toContain('PostgreSQL 15.20');
  });

  it('refuses a pre-10 pg_dump for a 10 server', () => {
    expect(() => assertPgDumpCanDump('pg_dump (PostgreSQL) 9.6.24', '10.1')).toThrow(
      /pg_dump 9\.6\.24 is older than the server/,
    );
  });

  it('refuses versions it cannot read with postgres_version_unknown', () => {
    expect(() => assertPgDumpCanDump('pg_dump: something else', '15.2')).toThrow(
      expect.objectContaining({ code: 'postgres_version_unknown' }),
    );
  });
});
