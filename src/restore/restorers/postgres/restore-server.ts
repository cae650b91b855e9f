import pg from 'pg';
import { messageOf, RestoreError } from '../../../core/errors.ts';
import type { DatabaseStatement } from '../../../postgres/database-definition.ts';
import type { Destination } from './destination.ts';
import {
  leftoverToken,
  ownerApplication,
  REPLACED_PREFIX,
  RESTORING_PREFIX,
} from './replacement-names.ts';

/** SQLSTATE 55006: the database has sessions (a rename or a drop needs none). */
const OBJECT_IN_USE = '55006';
/** SQLSTATE 3D000: no such database. */
const INVALID_CATALOG_NAME = '3D000';
/** SQLSTATEs of a `CREATE DATABASE` whose locale or encoding this server cannot provide. */
const UNAVAILABLE_LOCALE = new Set(['22023', '42809', '42704', '0A000']);
/** Attempts at the swap while the destination's sessions come back. */
const SWAP_ATTEMPTS = 3;
/** Milliseconds pg_terminate_backend waits for each session to end. */
const TERMINATE_WAIT_MS = 5_000;
const CONNECT_TIMEOUT_MS = 10_000;

/** What a restore needs to know of its destination before it changes anything. */
export interface DestinationFacts {
  readonly exists: boolean;
  /** The destination's owner; null when it does not exist. */
  readonly owner: string | null;
  /** The role the URL connects as. */
  readonly user: string;
}

/**
 * A session on the destination's server, outside the destination, that carries out what a
 * postgres restore does to whole databases: checks the privileges, creates the database the
 * dump is restored into, swaps it in, drops what it replaced and sweeps leftovers of restores
 * that died. Its `application_name` (`lifeboat restore <token>`) marks the restore's databases
 * as in use for as long as it is connected: the sweep of another restore leaves them alone.
 */
export class RestoreServer {
  private readonly client: pg.Client;
  private readonly destination: Destination;

  private constructor(client: pg.Client, destination: Destination) {
    this.client = client;
    this.destination = destination;
  }

  /**
   * Connects to a maintenance database of the destination's server (`postgres`, or
   * `template1` when the destination is `postgres` or there is no `postgres`).
   */
  static async open(destination: Destination, token: string | null): Promise<RestoreServer> {
    const candidates = ['postgres', 'template1'].filter((d) => d !== destination.database);
    let lastError: unknown;
    for (const database of candidates) {
      const client = new pg.Client({
        connectionString: destination.on(database).url,
        application_name: token === null ? 'lifeboat restore check' : ownerApplication(token),
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      });
      client.on('error', () => {});
      try {
        await client.connect();
        // A swap waits for locks on pg_database no longer than this, rather than for ever.
        await client.query("SET lock_timeout = '60s'");
        return new RestoreServer(client, destination);
      } catch (error) {
        lastError = error;
        await client.end().catch(() => {});
        if (sqlState(error) !== INVALID_CATALOG_NAME) break;
      }
    }
    throw new RestoreError(
      'postgres_unreachable',
      `cannot connect to the server of ${destination.redact(destination.safeUrl)}: ${destination.redact(messageOf(lastError))}`,
      { cause: lastError, destination: 'unchanged' },
    );
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {});
  }

  /** The server's identity: its system identifier, or its start time where that is hidden. */
  async identity(): Promise<string> {
    return serverIdentity(this.client);
  }

  /**
   * Whether the destination exists and who owns it; refuses when the URL's role cannot replace
   * it: a restore creates a database (CREATEDB) and renames the destination (its owner).
   * @throws RestoreError `restore_privilege_missing`, naming the privilege and how to grant it
   */
  async inspect(): Promise<DestinationFacts> {
    const { database } = this.destination;
    const { rows } = await this.client.query<{
      user: string;
      superuser: boolean;
      createdb: boolean;
      owner: string | null;
      owns: boolean | null;
    }>(
      `select current_user as user, r.rolsuper as superuser, r.rolcreatedb as createdb,
              pg_get_userbyid(d.datdba) as owner,
              pg_has_role(current_user, d.datdba, 'USAGE') as owns
         from pg_roles r left join pg_database d on d.datname = $1
        where r.rolname = current_user`,
      [database],
    );
    const row = rows[0];
    if (!row) throw new Error('the connected role is not in pg_roles');
    const exists = row.owner !== null;
    const why = [
      ...(row.superuser || row.createdb
        ? []
        : [`the CREATEDB privilege (ALTER ROLE ${ident(row.user)} CREATEDB)`]),
      ...(exists && !row.owns
        ? [
            `ownership of ${database}, now owned by ${row.owner} (ALTER DATABASE ${ident(database)} OWNER TO ${ident(row.user)}, or restore as ${row.owner})`,
          ]
        : []),
    ];
    if (why.length > 0) {
      throw new RestoreError(
        'restore_privilege_missing',
        `restoring into ${database} on ${this.destination.server} needs the role ${row.user} to have ${why.join(' and ')}: the backup is restored into a new database beside ${database} and swapped in only once it is whole and validated`,
        { destination: 'unchanged' },
      );
    }
    return { exists, owner: row.owner, user: row.user };
  }

  /**
   * Drops the databases of restores that are gone: `lifeboat_restore_…` and
   * `lifeboat_replaced_…` with no session of their restore left on the server. Databases this
   * role may not drop are left for a role that may. Returns the names dropped.
   */
  async sweep(): Promise<string[]> {
    const { rows } = await this.client.query<{ name: string }>(
      `select datname as name from pg_database
        where starts_with(datname, $1) or starts_with(datname, $2)
        order by datname`,
      [RESTORING_PREFIX, REPLACED_PREFIX],
    );
    const dropped: string[] = [];
    for (const { name } of rows) {
      const token = leftoverToken(name);
      if (token === null) continue;
      const owner = await this.client.query(
        'select 1 from pg_stat_activity where application_name = $1',
        [ownerApplication(token)],
      );
      if (owner.rows.length > 0) continue;
      try {
        // Not IF EXISTS: a restore that just finished dropped its own, and that is no leftover.
        await this.client.query(`DROP DATABASE ${ident(name)} WITH (FORCE)`);
        dropped.push(name);
      } catch {
        // Gone already, or another role's leftover: not this sweep's to drop.
      }
    }
    return dropped;
  }

  /**
   * Creates the database the dump is restored into, with the dump's encoding and locale when
   * this server has them (otherwise with its defaults, saying so), owned by `owner`.
   * @returns a note when the backup's encoding or locale could not be used, else null
   */
  async create(name: string, options: string, owner: string | null): Promise<string | null> {
    const base = `CREATE DATABASE ${ident(name)} WITH TEMPLATE = template0${owner === null ? '' : ` OWNER = ${ident(owner)}`}`;
    const encoding = /(?:^| )(ENCODING = '[^']*')/.exec(options)?.[1];
    const attempts = [
      options,
      ...(encoding && encoding !== options ? [`${encoding} LOCALE = 'C'`] : []),
      '',
    ].filter((o, i, all) => all.indexOf(o) === i);
    let firstError: unknown;
    for (const attempt of attempts) {
      try {
        await this.client.query(attempt ? `${base} ${attempt}` : base);
        if (firstError === undefined) return null;
        return `the database was created with ${attempt || "this server's default encoding and locale"}: the backup's (${options}) is not available on ${this.destination.server} (${messageOf(firstError)})`;
      } catch (error) {
        if (!UNAVAILABLE_LOCALE.has(sqlState(error) ?? '') || attempt === '') throw error;
        firstError ??= error;
      }
    }
    throw firstError;
  }

  /**
   * Applies the dump's statements about its database to `name`. One that fails (a role this
   * server lacks, a setting only a superuser may make) is reported, not fatal: the data is
   * restored either way. Returns a note per statement not applied.
   */
  async applyDefinition(name: string, statements: readonly DatabaseStatement[]): Promise<string[]> {
    const notes: string[] = [];
    for (const statement of statements) {
      const sql = statement.sql(ident(name));
      try {
        await this.client.query(sql);
      } catch (error) {
        notes.push(
          `not restored: ${statement.sql(ident(this.destination.database))} (${messageOf(error)})`,
        );
      }
    }
    return notes;
  }

  /**
   * Gives `to` the access grants `from` has (who may CONNECT, CREATE, use TEMP), so swapping it
   * in changes who may use the destination no more than the owner does. Returns notes for
   * grants that failed.
   */
  async copyAccess(from: string, to: string): Promise<string[]> {
    const { rows } = await this.client.query<{
      grantee: string | null;
      privilege: string;
      grantable: boolean;
      owner: boolean;
    }>(
      `select case when a.grantee = 0 then null else pg_get_userbyid(a.grantee) end as grantee,
              a.privilege_type as privilege, a.is_grantable as grantable,
              a.grantee = d.datdba as owner
         from pg_database d, aclexplode(d.datacl) a
        where d.datname = $1 and d.datacl is not null`,
      [from],
    );
    if (rows.length === 0) return [];
    const notes: string[] = [];
    const statements = [
      `REVOKE ALL ON DATABASE ${ident(to)} FROM PUBLIC`,
      ...rows
        .filter((r) => !r.owner)
        .map(
          (r) =>
            `GRANT ${r.privilege} ON DATABASE ${ident(to)} TO ${r.grantee === null ? 'PUBLIC' : ident(r.grantee)}${r.grantable ? ' WITH GRANT OPTION' : ''}`,
        ),
    ];
    for (const sql of statements) {
      try {
        await this.client.query(sql);
      } catch (error) {
        notes.push(
          `access not carried over: ${sql.replace(ident(to), ident(from))} (${messageOf(error)})`,
        );
      }
    }
    return notes;
  }

  /**
   * Puts `restored` in the destination's place in one transaction: the destination (when it
   * exists) becomes `replaced` and `restored` takes its name, so a client sees the old database
   * or the new one, never a mix. The destination's sessions are ended first (a rename needs
   * none); sessions that come back between that and the rename make it try again.
   *
   * @throws RestoreError when it cannot be done; the transaction then changed nothing
   */
  async swap(restored: string, replaced: string, exists: boolean): Promise<void> {
    const { database } = this.destination;
    for (let attempt = 1; ; attempt++) {
      const kept = exists ? await this.endSessions(database) : [];
      try {
        await this.client.query('BEGIN');
        if (exists) {
          await this.client.query(`ALTER DATABASE ${ident(database)} RENAME TO ${ident(replaced)}`);
        }
        await this.client.query(`ALTER DATABASE ${ident(restored)} RENAME TO ${ident(database)}`);
        await this.client.query('COMMIT');
        return;
      } catch (error) {
        if (sqlState(error) === undefined) {
          // The connection broke: whether the COMMIT happened is for the caller to find out.
          throw new RestoreError(
            'restore_swap_unknown',
            `the connection to ${this.destination.server} broke while the restored copy took the place of ${database}: ${messageOf(error)}`,
            { cause: error, destination: 'unknown' },
          );
        }
        await this.client.query('ROLLBACK').catch(() => {});
        if (sqlState(error) === OBJECT_IN_USE && attempt < SWAP_ATTEMPTS) continue;
        const sessions =
          sqlState(error) === OBJECT_IN_USE && kept.length > 0
            ? `; sessions ${this.destination.user} may not end: ${kept.join(', ')} (end them, or grant pg_signal_backend)`
            : '';
        throw new RestoreError(
          'restore_swap_failed',
          `the restored copy could not take the place of ${database}: ${messageOf(error)}${sessions}`,
          { cause: error, destination: 'unchanged' },
        );
      }
    }
  }

  /** Whether a database of that name exists: after a swap whose COMMIT got no answer. */
  async exists(name: string): Promise<boolean> {
    const { rows } = await this.client.query('select 1 from pg_database where datname = $1', [
      name,
    ]);
    return rows.length > 0;
  }

  /** The oid of database `name`; null when there is none. */
  async oid(name: string): Promise<number | null> {
    const { rows } = await this.client.query<{ oid: number }>(
      'select oid::int8::float8 as oid from pg_database where datname = $1',
      [name],
    );
    return rows[0]?.oid ?? null;
  }

  /** Whether the session of the restore with `token` is connected: the restore still runs. */
  async restoreRuns(token: string): Promise<boolean> {
    const { rows } = await this.client.query(
      'select 1 from pg_stat_activity where application_name = $1',
      [ownerApplication(token)],
    );
    return rows.length > 0;
  }

  /** Drops a database the restore made, ending any session in it; resolves to the error if any. */
  async drop(name: string): Promise<unknown> {
    try {
      await this.client.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
      return undefined;
    } catch (error) {
      return error;
    }
  }

  /** Ends every other session of `database`; returns those it may not end, described. */
  private async endSessions(database: string): Promise<string[]> {
    const { rows } = await this.client.query<{ pid: number; who: string }>(
      `select pid, coalesce(usename, '?') || coalesce(' (' || nullif(application_name, '') || ')', '') as who
         from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
      [database],
    );
    const kept: string[] = [];
    for (const { pid, who } of rows) {
      try {
        await this.client.query('select pg_terminate_backend($1, $2)', [pid, TERMINATE_WAIT_MS]);
      } catch {
        kept.push(who);
      }
    }
    return kept;
  }
}

/** A server's identity: its system identifier, or its start time and port where that is hidden. */
export async function serverIdentity(client: pg.Client): Promise<string> {
  try {
    const { rows } = await client.query<{ id: string }>(
      'select system_identifier::text as id from pg_control_system()',
    );
    if (rows[0]?.id) return `system ${rows[0].id}`;
  } catch {
    // pg_control_system() revoked: fall through.
  }
  const { rows } = await client.query<{ id: string }>(
    "select pg_postmaster_start_time()::text || ' port ' || current_setting('port') as id",
  );
  return `started ${rows[0]?.id ?? '?'}`;
}

function ident(name: string): string {
  return pg.escapeIdentifier(name);
}

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
