import { describe, expect, it } from 'vitest';
import {
  assertPgRestoreCanRead,
  holdsTableData,
  PostgresRestorer,
} from '../../../src/restore/restorers/postgres-restorer.ts';
import { sampleComponent } from '../../doubles/sample-backups.ts';

describe('the postgres restorer', () => {
  it('refuses a pg_restore older than the pg_dump that made the backup, naming both', () => {
    expect(() =>
      assertPgRestoreCanRead('pg_restore (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)', '17.2'),
    ).toThrow(
      expect.objectContaining({
        code: 'pg_restore_too_old',
        message: expect.stringMatching(
          /pg_restore 15\.20 is older than the pg_dump 17\.2 .* install the PostgreSQL 17 client tools/,
        ),
      }),
    );
  });

  it('accepts a pg_restore of the same or a newer major version', () => {
    expect(() => assertPgRestoreCanRead('pg_restore (PostgreSQL) 15.20', '15.8')).not.toThrow();
    expect(() => assertPgRestoreCanRead('pg_restore (PostgreSQL) 17.0', '15.20')).not.toThrow();
  });

  it("finds a table's data in pg_restore --list by schema and name, odd names included", () => {
    const toc = [
      ';',
      '; Archive created at 2026-11-22 02:00:00 UTC',
      '6; 2615 16543 SCHEMA - s2 root',
      '215; 1259 16524 TABLE public pgbench_accounts root',
      '3367; 0 16524 TABLE DATA public pgbench_accounts root',
      '3369; 0 16540 TABLE DATA public we ird app owner',
      '3370; 0 16544 TABLE DATA Odd Schema Mixed "Quoted" Table root',
    ].join('\n');
    expect(holdsTableData(toc, { schema: 'public', table: 'pgbench_accounts' })).toBe(true);
    expect(holdsTableData(toc, { schema: 'public', table: 'we ird' })).toBe(true);
    expect(holdsTableData(toc, { schema: 'Odd Schema', table: 'Mixed "Quoted" Table' })).toBe(true);
    expect(holdsTableData(toc, { schema: 'public', table: 'pgbench' })).toBe(false);
    expect(holdsTableData(toc, { schema: 's2', table: 'root' })).toBe(false);
    expect(holdsTableData(toc, { schema: 'public', table: 'skipped_audit' })).toBe(false);
  });

  it('says in its plan what it does to an existing database, and never shows the password', () => {
    const lines = new PostgresRestorer({ jobs: 3 }).describe(
      sampleComponent('app-db', 'postgres'),
      {
        name: 'staging-db',
        config: {
          kind: 'postgres',
          url: 'postgres://app:s3cret@db.internal:6543/shop',
          environment: 'staging',
          pgDumpArgs: [],
        },
      },
    );
    const text = lines.join('\n');
    expect(text).toContain('pg_restore -j 3 into database "shop" on db.internal:6543');
    expect(text).toContain('--clean --if-exists');
    expect(text).toContain('objects owned by app');
    expect(text).toContain('count the rows of 3 tables');
    expect(text).not.toContain('s3cret');
  });
});
