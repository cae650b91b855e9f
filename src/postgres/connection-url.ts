import { userInfo } from 'node:os';

/**
 * PostgreSQL connection URLs: the user libpq would fill in, the password taken out for
 * `PGPASSWORD`, and passwords masked in what tools print. Backup sources, the catalog and the
 * demo seeding all connect through these.
 */

/** A connection string split into the part safe to show and pass on argv, and its password. */
export interface SplitConnectionString {
  /** The connection string without its password. */
  readonly url: string;
  /** The password it held, decoded, or null. */
  readonly password: string | null;
}

/**
 * Takes the password out of a `postgres://user:secret@host/db` URL (or its `?password=`
 * parameter), so it can travel in `PGPASSWORD` rather than on a command line that `ps` shows.
 * Keyword/value strings (`host=… password=…`) lose their `password=` pair the same way.
 */
export function splitPassword(connectionString: string): SplitConnectionString {
  if (/^postgres(ql)?:\/\//i.test(connectionString)) {
    try {
      const url = new URL(connectionString);
      let password: string | null = url.password === '' ? null : decodeURIComponent(url.password);
      url.password = '';
      const fromQuery = url.searchParams.get('password');
      if (fromQuery !== null) {
        password ??= fromQuery;
        url.searchParams.delete('password');
      }
      return { url: url.toString(), password };
    } catch {
      return { url: redactPasswords(connectionString), password: null };
    }
  }
  const pair = /(^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/i.exec(connectionString);
  if (!pair) return { url: connectionString, password: null };
  const raw = pair[2] ?? '';
  const password = raw.startsWith("'") ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
  return { url: connectionString.replace(pair[0], '').trim(), password };
}

/**
 * Masks passwords in text (tool output, error messages): the password of any URL with user
 * info, `password=` pairs, and — when given — the literal secret wherever it appears.
 */
export function redactPasswords(text: string, secret?: string | null): string {
  let out = text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):[^@/\s]*@/gi, '$1:***@')
    .replace(/(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)/gi, '$1***');
  if (secret) out = out.split(secret).join('***');
  return out;
}

/**
 * `url` with the operating-system user filled in when it names no user and neither `PGUSER` nor
 * `USER` is set, as libpq (psql, pg_dump) does; node-postgres would send no user at all.
 */
export function withDefaultUser(url: string): string {
  const parsed = URL.parse(url);
  if (!parsed || parsed.username || parsed.searchParams.has('user')) return url;
  if (process.env.PGUSER || process.env.USER) return url;
  parsed.username = encodeURIComponent(userInfo().username);
  return parsed.toString();
}

/** The same server and credentials as `url`, connecting to `database` instead. */
export function urlForDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}
