import { describe, expect, it } from 'vitest';
import { listedTableData } from '../../../src/restore/restorers/postgres/dump-contents.ts';
import { TableDataProgress } from '../../../src/restore/restorers/postgres/table-data-progress.ts';
import {
  assertPgRestoreCanRead,
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

  it("finds a table's data in pg_restore --list by schema and name when the TOC cannot be read", () => {
    const toc = [
      ';',
      '; Archive created at 2026-11-22 02:00:00 UTC',
      '6; 2615 16543 SCHEMA - s2 root',
      '215; 1259 16524 TABLE public pgbench_accounts root',
      '3367; 0 16524 TABLE DATA public pgbench_accounts root',
      '3369; 0 16540 TABLE DATA public we ird app owner',
      '3370; 0 16544 TABLE DATA Odd Schema Mixed "Quoted" Table root',
    ].join('\n');
    expect(listedTableData(toc, { schema: 'public', table: 'pgbench_accounts' })).toBe(3367);
    expect(listedTableData(toc, { schema: 'public', table: 'we ird' })).toBe(3369);
    expect(listedTableData(toc, { schema: 'Odd Schema', table: 'Mixed "Quoted" Table' })).toBe(
      3370,
    );
    expect(listedTableData(toc, { schema: 'public', table: 'pgbench' })).toBeUndefined();
    expect(listedTableData(toc, { schema: 's2', table: 'root' })).toBeUndefined();
    expect(listedTableData(toc, { schema: 'public', table: 'skipped_audit' })).toBeUndefined();
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
    expect(text).toContain('pg_restore -j 3 into a new database beside "shop" on db.internal:6543');
    expect(text).toContain('count the rows of 3 tables');
    expect(text).toContain('swap the restored database in for it in one transaction');
    expect(text).toContain('a restore that fails leaves "shop" exactly as it was');
    expect(text).toContain('objects the backup does not hold go with the old database');
    expect(text).toContain('objects owned by app');
    expect(text).toContain('needs app to have CREATEDB and to own "shop"');
    expect(text).not.toContain('s3cret');
  });

  describe('progress from pg_restore --verbose', () => {
    // As pg_restore 15 prints them, a table named "x⏎y" included.
    const parallel = [
      'pg_restore: processing item 215 TABLE x',
      'y',
      'pg_restore: entering main parallel loop',
      'pg_restore: launching item 3356 BLOBS BLOBS',
      'pg_restore: launching item 3351 TABLE DATA a',
      'pg_restore: finished item 3356 BLOBS BLOBS',
      'pg_restore: launching item 3352 TABLE DATA x',
      'y',
      'pg_restore: processing data for table "public.x',
      'y"',
      'pg_restore: finished item 3352 TABLE DATA x',
      'y',
      'pg_restore: processing data for table "public.a"',
      'pg_restore: finished item 3351 TABLE DATA a',
      'pg_restore: launching item 3354 MATERIALIZED VIEW DATA mv',
      'pg_restore: finished item 3354 MATERIALIZED VIEW DATA mv',
      'pg_restore: finished item 3351 TABLE DATA a',
    ];

    it('counts each table once when pg_restore runs in parallel, whatever it prints twice', () => {
      const progress = new TableDataProgress([3351, 3352, 3353], true);
      const seen: number[] = [];
      for (const line of parallel) if (progress.line(line)) seen.push(progress.done);
      expect(seen).toEqual([1, 2]);
      expect(progress).toMatchObject({ done: 2, total: 3 });
    });

    it('counts the tables pg_restore starts when it runs serially, never above the total', () => {
      const progress = new TableDataProgress([3351, 3352], false);
      for (const line of [
        'pg_restore: processing data for table "public.a"',
        'pg_restore: processing data for table "public.x',
        'y"',
        'pg_restore: processing data for table "public.c"',
      ]) {
        progress.line(line);
      }
      expect(progress).toMatchObject({ done: 2, total: 2 });
    });
  });
});
