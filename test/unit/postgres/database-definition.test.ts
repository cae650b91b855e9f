import { describe, expect, it } from 'vitest';
import type { DumpToc, DumpTocEntry } from '../../../src/postgres/custom-dump-toc.ts';
import {
  databaseDefinition,
  parseCreateDatabase,
  splitStatements,
} from '../../../src/postgres/database-definition.ts';

function entry(desc: string, tag: string, definition: string): DumpTocEntry {
  return {
    dumpId: 1,
    hasData: false,
    desc,
    tag,
    namespace: null,
    copyStatement: null,
    definition,
  };
}

/** The entries pg_dump 15 writes for a database named `lbp Odd"db` (taken from a real dump). */
const TOC: DumpToc = {
  archiveVersion: '1.14',
  compressed: false,
  databaseName: 'lbp Odd"db',
  encoding: 'UTF8',
  entries: [
    entry(
      'DATABASE',
      'lbp Odd"db',
      `CREATE DATABASE "lbp Odd""db" WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = libc LOCALE = 'C.UTF-8';\n`,
    ),
    entry(
      'DATABASE PROPERTIES',
      'lbp Odd"db',
      [
        'ALTER DATABASE "lbp Odd""db" CONNECTION LIMIT = 50;',
        `ALTER DATABASE "lbp Odd""db" SET "TimeZone" TO 'Pacific/Auckland';`,
        `ALTER DATABASE "lbp Odd""db" SET search_path TO 'a', 'b c';`,
        `ALTER ROLE root IN DATABASE "lbp Odd""db" SET work_mem TO '8MB';`,
        '',
      ].join('\n'),
    ),
    entry(
      'COMMENT',
      'DATABASE "lbp Odd""db"',
      `COMMENT ON DATABASE "lbp Odd""db" IS 'it''s\nmulti;\nline';\n`,
    ),
    entry('COMMENT', 'TABLE t', `COMMENT ON TABLE public.t IS 'not about the database';\n`),
  ],
};

describe("a dump's database definition", () => {
  it('keeps the CREATE DATABASE options that describe the data, not the server', () => {
    expect(
      parseCreateDatabase(
        `CREATE DATABASE shop WITH TEMPLATE = template0 OID = 16384 ENCODING = 'LATIN1' LOCALE_PROVIDER = icu LC_COLLATE = 'C' LC_CTYPE = 'C' ICU_LOCALE = 'de-DE' TABLESPACE = fast;\n`,
      ),
    ).toEqual({
      printedName: 'shop',
      createOptions: `ENCODING = 'LATIN1' LOCALE_PROVIDER = icu LC_COLLATE = 'C' LC_CTYPE = 'C' ICU_LOCALE = 'de-DE'`,
    });
  });

  it('rewrites every statement about the database for another name, quotes and all', () => {
    const definition = databaseDefinition(TOC);
    expect(definition?.printedName).toBe('"lbp Odd""db"');
    expect(definition?.createOptions).toBe(
      `ENCODING = 'UTF8' LOCALE_PROVIDER = libc LOCALE = 'C.UTF-8'`,
    );
    const target = '"lifeboat_restore_x"';
    expect(definition?.statements.map((s) => [s.kind, s.sql(target)])).toEqual([
      ['property', `ALTER DATABASE ${target} CONNECTION LIMIT = 50`],
      ['property', `ALTER DATABASE ${target} SET "TimeZone" TO 'Pacific/Auckland'`],
      ['property', `ALTER DATABASE ${target} SET search_path TO 'a', 'b c'`],
      ['role setting', `ALTER ROLE root IN DATABASE ${target} SET work_mem TO '8MB'`],
      ['comment', `COMMENT ON DATABASE ${target} IS 'it''s\nmulti;\nline'`],
    ]);
    expect(definition?.skipped).toEqual([]);
  });

  it('has nothing to say when the dump holds no database (pg_dump -n or -t)', () => {
    expect(databaseDefinition({ ...TOC, entries: TOC.entries.slice(3) })).toBeNull();
  });

  it('keeps a statement it cannot rewrite out, and says which', () => {
    const odd: DumpToc = {
      ...TOC,
      entries: [
        ...TOC.entries.slice(0, 1),
        entry('DATABASE PROPERTIES', 'x', 'ALTER DATABASE other SET work_mem TO 1;\n'),
      ],
    };
    expect(databaseDefinition(odd)).toMatchObject({
      statements: [],
      skipped: ['ALTER DATABASE other SET work_mem TO 1'],
    });
  });

  it('splits statements at semicolons outside literals and quoted names only', () => {
    expect(
      splitStatements(
        `COMMENT ON DATABASE "a;b" IS 'x;\ny''; z';\nCOMMENT ON DATABASE c IS E'back\\\\'';'; ALTER DATABASE c SET x TO 1;`,
      ),
    ).toEqual([
      `COMMENT ON DATABASE "a;b" IS 'x;\ny''; z'`,
      `COMMENT ON DATABASE c IS E'back\\\\'';'`,
      'ALTER DATABASE c SET x TO 1',
    ]);
  });
});
