import { spawn } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresSource } from '../../../src/backup/sources/postgres-source.ts';
import { CustomDumpRowCounter } from '../../../src/postgres/custom-dump-row-counter.ts';
import {
  createDatabase,
  databaseUrl,
  dropDatabase,
  sql,
  uniqueName,
} from '../../support/databases.ts';

/** Runs the real pg_dump as a backup does (custom format, no compression) and keeps its bytes. */
function pgDump(database: string, extra: readonly string[] = []): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'pg_dump',
      ['--format=custom', '--compress=0', ...extra, `--dbname=${databaseUrl(database)}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`pg_dump: ${code} ${err}`)),
    );
  });
}

/** Streams `bytes` through a counter in chunks of the sizes `sizes` yields. */
async function throughCounter(
  bytes: Buffer,
  sizes: () => number,
): Promise<{ output: Buffer; counter: CustomDumpRowCounter; chunks: number }> {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = Math.max(1, sizes());
    // Copies, so the counter never sees the slices share memory with `bytes`.
    pieces.push(Buffer.from(bytes.subarray(at, at + size)));
    at += size;
  }
  const counter = new CustomDumpRowCounter();
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(pieces, { objectMode: false }),
    counter,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        out.push(chunk);
        callback();
      },
    }),
  );
  return { output: Buffer.concat(out), counter, chunks: pieces.length };
}

/** A tiny deterministic generator, so a failing chunking can be reproduced. */
function randomSizes(seed: number, max: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return 1 + (state % max);
  };
}

const ident = (name: string) => pg.escapeIdentifier(name);

async function liveCounts(
  database: string,
  tables: readonly (readonly [string, string])[],
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const [schema, table] of tables) {
    const rows = await sql<{ n: string }>(
      `select count(*) as n from only ${ident(schema)}.${ident(table)}`,
      database,
    );
    counts.set(`${schema}.${table}`, Number(rows[0]?.n));
  }
  return counts;
}

/** Every table with data in the fixture: its leaf partitions, not the partitioned parent. */
const TABLES: readonly (readonly [string, string])[] = [
  ['public', 'texts'],
  ['public', 'blobs'],
  ['public', 'empty'],
  ['public', 'no_columns'],
  ['public', 'events_2025'],
  ['public', 'events_2026'],
  ['Odd "Schema".x', 'table with spaces, "quotes". and dots'],
  ['Odd "Schema".x', 'ünïcødé ✓ 表'],
  ['second', 'texts'],
];

describe('CustomDumpRowCounter on real pg_dump archives', () => {
  const database = uniqueName('lb_rowcount');
  let dump: Buffer;
  let expected: Map<string, number>;

  beforeAll(async () => {
    await createDatabase(database);
    await sql(
      `
      create table texts (id int, body text, note text);
      insert into texts
        select i,
          case i % 7
            when 0 then E'line one\\nline two\\n\\nline four'
            when 1 then E'tab\\there\\rcarriage'
            when 2 then E'back\\\\slash \\\\. and \\\\N'
            when 3 then E'\\\\.'
            when 4 then E'\\n\\\\.\\n'
            when 5 then ''
            else null
          end,
          case when i % 3 = 0 then null else repeat('x', i % 50) end
        from generate_series(1, 3000) as i;
      insert into texts values (0, E'\\\\.', E'\\\\.\\n\\n\\n');
      create table blobs (id int, data bytea, doc jsonb);
      insert into blobs
        select i, decode(repeat('0a5c2e0a0d09', i % 20), 'hex'),
          jsonb_build_object('text', E'a\\nb\\\\.\\n', 'n', i)
        from generate_series(1, 1500) as i;
      insert into blobs values (0, null, null);
      create table empty (id int);
      create table no_columns ();
      insert into no_columns select from generate_series(1, 42);
      create table events (id int, at date not null, body text) partition by range (at);
      create table events_2025 partition of events for values from ('2025-01-01') to ('2026-01-01');
      create table events_2026 partition of events for values from ('2026-01-01') to ('2027-01-01');
      insert into events select i, date '2025-06-01' + (i % 400), E'multi\\nline' from generate_series(1, 2000) as i;
      create schema "Odd ""Schema"".x";
      create table "Odd ""Schema"".x"."table with spaces, ""quotes"". and dots" (v text);
      insert into "Odd ""Schema"".x"."table with spaces, ""quotes"". and dots"
        select E'row\\n' || i from generate_series(1, 77) as i;
      create table "Odd ""Schema"".x"."ünïcødé ✓ 表" (v text);
      insert into "Odd ""Schema"".x"."ünïcødé ✓ 表" select '✓' from generate_series(1, 5);
      create schema second;
      create table second.texts (v text);
      insert into second.texts select E'\\\\.' from generate_series(1, 11);
      create table skipped (v text);
      insert into skipped select 'not in the dump' from generate_series(1, 9);
      select lo_from_bytea(0, decode('0a0a0a5c2e0a', 'hex'));
      `,
      database,
    );
    dump = await pgDump(database, ['--exclude-table-data=public.skipped']);
    expected = await liveCounts(database, TABLES);
  });

  afterAll(async () => {
    await dropDatabase(database);
  });

  it('counts the rows of every table whose data the dump holds, as count(*) does', async () => {
    const { output, counter } = await throughCounter(dump, () => 64 * 1024);
    expect(output.equals(dump)).toBe(true);
    const counts = counter.result();
    expect(counts).toEqual(expected);
    expect(counts?.get('public.texts')).toBe(3001);
    expect(counts?.get('public.no_columns')).toBe(42);
    expect(counts?.get('public.empty')).toBe(0);
    // Excluded data and the partitioned parent hold no rows of the archive.
    expect(counts?.has('public.skipped')).toBe(false);
    expect(counts?.has('public.events')).toBe(false);
    expect(counter.tables()).toContainEqual({
      schema: 'Odd "Schema".x',
      table: 'table with spaces, "quotes". and dots',
      rows: 77,
    });
  });

  it.each([
    ['1 byte', () => 1],
    ['7 bytes', () => 7],
    ['random sizes up to 100 bytes', randomSizes(42, 100)],
    ['random sizes up to 70 000 bytes', randomSizes(7, 70_000)],
  ])(
    'passes the bytes through unchanged and counts the same in chunks of %s',
    async (_name, sizes) => {
      const { output, counter, chunks } = await throughCounter(dump, sizes);
      expect(chunks).toBeGreaterThan(1);
      expect(output.equals(dump)).toBe(true);
      expect(counter.result()).toEqual(expected);
    },
  );

  it('knows nothing until the whole archive went through', async () => {
    const counter = new CustomDumpRowCounter();
    counter.resume();
    await new Promise<void>((resolve) => counter.write(dump, () => resolve()));
    expect(counter.result()).toBeUndefined();
    await new Promise<void>((resolve) => counter.end(resolve));
    expect(counter.result()).toEqual(expected);
  });

  it('reports a dump made with --inserts as unknown, not wrong', async () => {
    const inserts = await pgDump(database, ['--inserts', '--table=public.texts']);
    const { output, counter } = await throughCounter(inserts, () => 4096);
    expect(output.equals(inserts)).toBe(true);
    expect(counter.result()).toBeUndefined();
  });

  it('gives up on a truncated archive without throwing, bytes unchanged', async () => {
    const truncated = dump.subarray(0, dump.length - 3);
    const { output, counter } = await throughCounter(truncated, () => 1000);
    expect(output.equals(truncated)).toBe(true);
    expect(counter.result()).toBeUndefined();
  });

  it('gives up on an archive version it does not know', async () => {
    const future = Buffer.from(dump);
    future[6] = 99; // the minor archive version
    const { output, counter } = await throughCounter(future, () => 333);
    expect(output.equals(future)).toBe(true);
    expect(counter.result()).toBeUndefined();
  });

  it('gives up on a compressed archive', async () => {
    const compressed = await pgDump(database, ['--compress=1', '--table=public.texts']);
    const { output, counter } = await throughCounter(compressed, () => 4096);
    expect(output.equals(compressed)).toBe(true);
    expect(counter.result()).toBeUndefined();
  });
  describe('as PostgresSource uses it', () => {
    /** Streams the source's dump to nowhere and returns the tables its manifest would list. */
    async function sourceTables(pgDumpArgs: string[]) {
      const source = new PostgresSource('app-db', {
        url: databaseUrl(database),
        pgDumpArgs,
      } as never);
      const opened = await source.open(new AbortController().signal);
      let bytes = 0;
      for await (const chunk of opened.stream) bytes += (chunk as Buffer).length;
      const result = await opened.finished;
      expect(bytes).toBeGreaterThan(0);
      if (result.source.kind !== 'postgres') throw new Error('not a postgres source');
      return result.source.tables;
    }

    it('lists exactly the tables whose data the dump holds, counted from the dump', async () => {
      const tables = await sourceTables(['--exclude-table-data=public.skipped']);
      expect(new Map(tables.map((t) => [`${t.schema}.${t.table}`, t.rows]))).toEqual(expected);
      expect(tables.map((t) => t.table)).not.toContain('skipped');
    });

    it('falls back to count(*) in the snapshot when the counter gives up (--inserts), of the tables the dump holds', async () => {
      const tables = await sourceTables(['--inserts', '--exclude-table-data=public.skipped']);
      // The table whose data was excluded is not in the dump, so not in the manifest either.
      expect(tables.map((t) => t.table)).not.toContain('skipped');
      expect(new Map(tables.map((t) => [`${t.schema}.${t.table}`, t.rows]))).toEqual(expected);
    });
  });
});

describe('CustomDumpRowCounter on input that is not an archive', () => {
  it.each([
    ['garbage', Buffer.from('this is not a pg_dump archive\n'.repeat(1000))],
    ['a bare header', Buffer.from('PGDMP')],
    ['nothing', Buffer.alloc(0)],
    ['random bytes after a valid magic', Buffer.concat([Buffer.from('PGDMP'), randomBytes(5000)])],
  ])('gives up on %s without throwing and passes it through', async (_name, bytes) => {
    const { output, counter } = await throughCounter(bytes, randomSizes(3, 50));
    expect(output.equals(bytes)).toBe(true);
    expect(counter.result()).toBeUndefined();
  });
});

function randomBytes(length: number): Buffer {
  const next = randomSizes(11, 256);
  return Buffer.from(Array.from({ length }, () => next() - 1));
}
