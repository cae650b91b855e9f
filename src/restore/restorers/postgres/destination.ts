import { RestoreError } from '../../../core/errors.ts';
import {
  redactPasswords,
  splitPassword,
  urlForDatabase,
  withDefaultUser,
} from '../../../postgres/connection-url.ts';
import type { RestoreDestination } from '../../component-restorer.ts';

/** A postgres destination's URL taken apart. */
export interface Destination {
  /** The URL with the OS user filled in, password included: for node-postgres only. */
  readonly url: string;
  /** The URL without its password: for pg_restore's argv and for messages. */
  readonly safeUrl: string;
  readonly password: string | null;
  readonly database: string;
  readonly user: string;
  /** `host:port`. */
  readonly server: string;
  /** Masks the password in text. */
  redact(text: string): string;
  /** The same server and credentials, connecting to `database` instead. */
  on(database: string): { readonly url: string; readonly safeUrl: string };
}

/** PostgreSQL's templates: a restore never replaces them. */
const TEMPLATES = new Set(['template0', 'template1']);

/**
 * The destination's URL taken apart.
 * @throws RestoreError for a target of another kind, a URL that does not parse, or a template
 */
export function parseDestination(destination: RestoreDestination): Destination {
  if (destination.config.kind !== 'postgres') {
    throw new RestoreError(
      'restore_kind_mismatch',
      `${destination.name} is a ${destination.config.kind} target; a postgres backup restores only into a postgres target`,
    );
  }
  const url = withDefaultUser(destination.config.url);
  const { url: safeUrl, password } = splitPassword(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new RestoreError(
      'restore_destination_invalid',
      `the url of ${destination.name} is not a postgres:// URL: ${redactPasswords(url, password)}`,
      { cause: error },
    );
  }
  const user =
    decodeURIComponent(parsed.username) ||
    parsed.searchParams.get('user') ||
    process.env.PGUSER ||
    process.env.USER ||
    'postgres';
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || user;
  if (TEMPLATES.has(database)) {
    throw new RestoreError(
      'restore_destination_invalid',
      `${destination.name} names ${database}, one of PostgreSQL's template databases; a restore goes into a database of its own`,
    );
  }
  return {
    url,
    safeUrl,
    password,
    database,
    user,
    server: `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}`,
    redact: (text) => redactPasswords(text, password),
    on: (name) => ({ url: urlForDatabase(url, name), safeUrl: urlForDatabase(safeUrl, name) }),
  };
}
