import type { DumpToc } from './custom-dump-toc.ts';

/**
 * What a custom-format dump says about the database itself, ready to be applied to a database
 * of another name. pg_dump archives it in three TOC entries that `pg_restore` replays only with
 * `--create` (and then only under the original name): `DATABASE` (the `CREATE DATABASE` with
 * its encoding and locale), `DATABASE PROPERTIES` (`ALTER DATABASE … SET timezone …`, the
 * connection limit, `ALTER ROLE … IN DATABASE … SET …`) and a `COMMENT` on the database.
 */
export interface DatabaseDefinition {
  /** The database's name as pg_dump printed it in these statements (quoted when it must be). */
  readonly printedName: string;
  /**
   * The options of its `CREATE DATABASE` that describe the data (`ENCODING = 'UTF8'
   * LOCALE_PROVIDER = libc LOCALE = 'C.UTF-8'`), as pg_dump printed them; without `TEMPLATE`,
   * `OID` and `TABLESPACE`, which belong to the server it came from.
   */
  readonly createOptions: string;
  /** Each statement about the database, to be applied to any name. */
  readonly statements: readonly DatabaseStatement[];
  /** Statements about the database this does not carry over, as printed. */
  readonly skipped: readonly string[];
}

/** One statement of the database's properties or its comment. */
export interface DatabaseStatement {
  /**
   * `property`: `ALTER DATABASE … SET …`, `CONNECTION LIMIT`, `IS_TEMPLATE`; `comment`:
   * `COMMENT ON DATABASE`; `role setting`: `ALTER ROLE r IN DATABASE … SET …`, which needs the
   * role to exist where it is applied.
   */
  readonly kind: 'property' | 'comment' | 'role setting';
  /** The statement for the database whose quoted identifier is `database`. */
  sql(database: string): string;
}

/** The `CREATE DATABASE` options that describe the data, not the server. */
const KEPT_CREATE_OPTIONS = new Set([
  'ENCODING',
  'LOCALE_PROVIDER',
  'LOCALE',
  'LC_COLLATE',
  'LC_CTYPE',
  'ICU_LOCALE',
  'ICU_RULES',
  'BUILTIN_LOCALE',
]);

/**
 * The database's definition from a dump's TOC; null when the dump holds none (pg_dump leaves
 * the database out when `-n` or `-t` pick what to dump).
 */
export function databaseDefinition(toc: DumpToc): DatabaseDefinition | null {
  const create = toc.entries.find((e) => e.desc === 'DATABASE')?.definition;
  if (!create) return null;
  const parsed = parseCreateDatabase(create);
  if (!parsed) return null;
  const statements: DatabaseStatement[] = [];
  const skipped: string[] = [];
  for (const entry of toc.entries) {
    const about =
      entry.desc === 'DATABASE PROPERTIES' ||
      ((entry.desc === 'COMMENT' || entry.desc === 'SECURITY LABEL') &&
        entry.tag?.startsWith('DATABASE '));
    if (!about || entry.definition === null) continue;
    for (const text of splitStatements(entry.definition)) {
      const statement = retarget(text, parsed.printedName);
      if (statement) statements.push(statement);
      else skipped.push(text);
    }
  }
  return { ...parsed, statements, skipped };
}

/** `CREATE DATABASE name WITH TEMPLATE = template0 ENCODING = 'UTF8' …;` taken apart. */
export function parseCreateDatabase(
  sql: string,
): { printedName: string; createOptions: string } | null {
  const prefix = 'CREATE DATABASE ';
  if (!sql.startsWith(prefix)) return null;
  const name = readIdentifier(sql, prefix.length);
  if (!name || !sql.startsWith(' WITH ', name.end)) return null;
  const kept: string[] = [];
  let at = name.end + ' WITH '.length;
  for (;;) {
    at = skipSpaces(sql, at);
    if (at >= sql.length || sql[at] === ';') break;
    const key = /^([A-Z_]+) = /.exec(sql.slice(at, at + 40));
    if (!key?.[1]) return null;
    const value = readValue(sql, at + key[0].length);
    if (!value) return null;
    if (KEPT_CREATE_OPTIONS.has(key[1]))
      kept.push(`${key[1]} = ${sql.slice(value.start, value.end)}`);
    at = value.end;
  }
  return { printedName: name.text, createOptions: kept.join(' ') };
}

/**
 * The statements of a definition, split at the semicolons outside quotes (a comment may hold
 * `;` and newlines), each trimmed and without its semicolon.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let at = 0;
  while (at < sql.length) {
    const char = sql[at];
    if (char === "'") {
      at = endOfLiteral(sql, at, at > 0 && /[eE]/.test(sql[at - 1] ?? ''));
    } else if (char === '"') {
      at = endOfQuoted(sql, at, '"');
    } else if (char === ';') {
      const text = sql.slice(start, at).trim();
      if (text) out.push(text);
      start = at + 1;
      at++;
    } else {
      at++;
    }
  }
  const rest = sql.slice(start).trim();
  if (rest) out.push(rest);
  return out;
}

/** A statement about the database named `printedName`, rewritten for any name; null if unknown. */
function retarget(text: string, printedName: string): DatabaseStatement | null {
  const alter = `ALTER DATABASE ${printedName} `;
  if (text.startsWith(alter)) {
    const rest = text.slice(alter.length);
    return { kind: 'property', sql: (database) => `ALTER DATABASE ${database} ${rest}` };
  }
  const comment = `COMMENT ON DATABASE ${printedName} IS `;
  if (text.startsWith(comment)) {
    const rest = text.slice(comment.length);
    return { kind: 'comment', sql: (database) => `COMMENT ON DATABASE ${database} IS ${rest}` };
  }
  if (text.startsWith('ALTER ROLE ')) {
    const role = readIdentifier(text, 'ALTER ROLE '.length);
    const inDatabase = ` IN DATABASE ${printedName} `;
    if (role && text.startsWith(inDatabase, role.end)) {
      const head = text.slice(0, role.end);
      const rest = text.slice(role.end + inDatabase.length);
      return {
        kind: 'role setting',
        sql: (database) => `${head} IN DATABASE ${database} ${rest}`,
      };
    }
  }
  return null;
}

/** An identifier as pg_dump prints one: `name` or `"Quoted ""name"""`. */
function readIdentifier(sql: string, at: number): { text: string; end: number } | null {
  if (sql[at] === '"') {
    const end = endOfQuoted(sql, at, '"');
    return end > sql.length ? null : { text: sql.slice(at, end), end };
  }
  const match = /^[^\s;"]+/.exec(sql.slice(at));
  return match ? { text: match[0], end: at + match[0].length } : null;
}

/** A literal (`'x'`, `E'x'`), a quoted identifier or a word: where it starts and ends. */
function readValue(sql: string, at: number): { start: number; end: number } | null {
  if (sql[at] === "'") return { start: at, end: endOfLiteral(sql, at, false) };
  if ((sql[at] === 'E' || sql[at] === 'e') && sql[at + 1] === "'") {
    return { start: at, end: endOfLiteral(sql, at + 1, true) };
  }
  const name = readIdentifier(sql, at);
  return name ? { start: at, end: name.end } : null;
}

/** The index after the literal opening at `at` (`''` inside; backslash escapes in `E''`). */
function endOfLiteral(sql: string, at: number, backslashes: boolean): number {
  let i = at + 1;
  while (i < sql.length) {
    if (backslashes && sql[i] === '\\') i += 2;
    else if (sql[i] === "'" && sql[i + 1] === "'") i += 2;
    else if (sql[i] === "'") return i + 1;
    else i++;
  }
  return sql.length + 1;
}

/** The index after the quoted text opening at `at` with `quote` (doubled inside). */
function endOfQuoted(sql: string, at: number, quote: string): number {
  let i = at + 1;
  while (i < sql.length) {
    if (sql[i] === quote && sql[i + 1] === quote) i += 2;
    else if (sql[i] === quote) return i + 1;
    else i++;
  }
  return sql.length + 1;
}

function skipSpaces(sql: string, at: number): number {
  let i = at;
  while (i < sql.length && /\s/.test(sql[i] ?? '')) i++;
  return i;
}
