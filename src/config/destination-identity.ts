import { resolve } from 'node:path';
import type { TargetConfig } from './schema.ts';

/**
 * What a target resolves to, never its name: the server and database, the directory, the redis
 * server and database. Two names with one identity write the same place. Never a password.
 */
export type DestinationIdentity =
  | {
      readonly kind: 'postgres';
      readonly host: string;
      readonly port: number;
      readonly database: string;
    }
  | { readonly kind: 'directory'; readonly path: string }
  | { readonly kind: 'redis'; readonly host: string; readonly port: number; readonly db: number };

const POSTGRES_PORT = 5432;
const REDIS_PORT = 6379;

/** `localhost`, `[::1]` → `::1`, lower case: host names as written, never looked up. */
function hostOf(url: URL, fallback: string): string {
  return (url.hostname.replace(/^\[|\]$/g, '') || fallback).toLowerCase();
}

/**
 * What a postgres URL connects to: host (or the `?host=` socket directory), port and database.
 * Without a database name libpq connects to the one named like the user.
 */
function postgresIdentity(text: string): DestinationIdentity {
  const url = URL.parse(text);
  if (!url) return { kind: 'postgres', host: '(unparsable url)', port: 0, database: '' };
  // Only a URL with a query string pays for parsing it.
  const query = url.search ? url.searchParams : undefined;
  const host = query?.get('host') ?? hostOf(url, 'localhost');
  const port = Number(query?.get('port') ?? (url.port || POSTGRES_PORT));
  const named = decodeURIComponent(url.pathname.slice(1));
  const user = query?.get('user') ?? decodeURIComponent(url.username);
  const database = query?.get('dbname') ?? (named || user);
  return { kind: 'postgres', host, port, database };
}

function redisIdentity(text: string): DestinationIdentity {
  const url = URL.parse(text);
  if (!url) return { kind: 'redis', host: '(unparsable url)', port: 0, db: 0 };
  const db = Number(url.pathname.replace(/^\//, '') || 0);
  return {
    kind: 'redis',
    host: hostOf(url, '127.0.0.1'),
    port: Number(url.port || REDIS_PORT),
    db,
  };
}

/**
 * The identity of a target as its (interpolated) config says, without touching anything: a
 * directory's path made absolute (against the working directory) and normalised, not yet
 * through symlinks (see `realDestinationIdentity` in the restore).
 */
export function destinationIdentity(target: TargetConfig): DestinationIdentity {
  switch (target.kind) {
    case 'postgres':
      return postgresIdentity(target.url);
    case 'redis':
      return redisIdentity(target.url);
    case 'directory':
      return { kind: 'directory', path: resolve(target.path) };
  }
}

/** For people: `postgres 127.0.0.1:5432/app`, `directory /srv/uploads`, `redis 10.0.0.5:6379/0`. */
export function describeIdentity(identity: DestinationIdentity): string {
  switch (identity.kind) {
    case 'postgres':
      return `postgres ${identity.host}:${identity.port}/${identity.database}`;
    case 'redis':
      return `redis ${identity.host}:${identity.port}/${identity.db}`;
    case 'directory':
      return `directory ${identity.path}`;
  }
}

/** Whether two identities are the same place (a directory: the same path exactly). */
export function sameIdentity(a: DestinationIdentity, b: DestinationIdentity): boolean {
  return describeIdentity(a) === describeIdentity(b);
}
