import { execFile } from 'node:child_process';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readDumpToc,
  tableDataEntries,
  UnreadableDumpError,
} from '../../../src/postgres/custom-dump-toc.ts';
import { databaseDefinition } from '../../../src/postgres/database-definition.ts';
import { databaseUrl, dropDatabase, sql, uniqueName } from '../../support/databases.ts';

const run = promisify(execFile);

describe("a custom-format dump's table of contents, read from real pg_dump archives", () => {
  const utf8 = uniqueName('lb_toc_utf8');
  const latin = uniqueName('lb_toc_latin');
  let dir: string;

  const dump = async (database: string, file: string, extra: string[] = []) => {
    const path = join(dir, file);
    await run('pg_dump', ['-Fc', ...extra, `--file=${path}`, `--dbname=${databaseUrl(database)}`]);
    return path;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lifeboat-toc-'));
    await sql(`create database ${utf8} template template0 encoding 'UTF8'`);
    await sql(`alter database ${utf8} set timezone to 'Asia/Tokyo'`);
    await sql(`comment on database ${utf8} is 'toc test'`);
    await sql(
      `create table "line
break" (id int); create table "line break" (id int);
       create schema "Ünï ""q"""; create table "Ünï ""q"""."T.1" (id int);`,
      utf8,
    );
    await sql(`create database ${latin} template template0 encoding 'LATIN1' locale 'C'`);
    await sql('create table "café" (id int)', latin);
  });

  afterAll(async () => {
    await dropDatabase(utf8);
    await dropDatabase(latin);
    await rm(dir, { recursive: true, force: true });
  });

  it('names every table with data exactly, a newline and quotes included', async () => {
    const toc = await readDumpToc(await dump(utf8, 'utf8.dump'));
    expect(toc).toMatchObject({ databaseName: utf8, encoding: 'UTF8', compressed: true });
    expect(tableDataEntries(toc).map((e) => [e.namespace, e.tag])).toEqual(
      expect.arrayContaining([
        ['public', 'line\nbreak'],
        ['public', 'line break'],
        ['Ünï "q"', 'T.1'],
      ]),
    );
  });

  it('keeps what it says about the database: settings and comment', async () => {
    const toc = await readDumpToc(await dump(utf8, 'utf8.dump'));
    const definition = databaseDefinition(toc);
    expect(definition?.createOptions).toMatch(/^ENCODING = 'UTF8'/);
    expect(definition?.statements.map((s) => s.sql(pg.escapeIdentifier('x')))).toEqual([
      `COMMENT ON DATABASE "x" IS 'toc test'`,
      `ALTER DATABASE "x" SET "TimeZone" TO 'Asia/Tokyo'`,
    ]);
  });

  it("reads names in the dump's encoding (LATIN1)", async () => {
    const toc = await readDumpToc(await dump(latin, 'latin.dump'));
    expect(toc.encoding).toBe('LATIN1');
    expect(tableDataEntries(toc).map((e) => e.tag)).toEqual(['café']);
  });

  it('refuses what is not a whole archive, saying why', async () => {
    const path = await dump(utf8, 'cut.dump');
    await truncate(path, 200);
    await expect(readDumpToc(path)).rejects.toBeInstanceOf(UnreadableDumpError);
    await writeFile(path, 'not a dump');
    await expect(readDumpToc(path)).rejects.toThrow(/not a pg_dump archive/);
  });
});
