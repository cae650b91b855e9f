import { sql } from './databases.ts';

/** What a database says about itself: settings, comment, limits, encoding and locale. */
export async function databaseSettings(database: string) {
  const [row] = await sql<{
    settings: string[] | null;
    roles: string[] | null;
    comment: string | null;
    limit: number;
    encoding: string;
    collate: string;
    ctype: string;
  }>(
    `select
       (select array_agg(s order by s) from pg_db_role_setting r, unnest(r.setconfig) s
         where r.setdatabase = d.oid and r.setrole = 0) as settings,
       (select array_agg(pg_get_userbyid(r.setrole) || ': ' || s order by 1) from pg_db_role_setting r, unnest(r.setconfig) s
         where r.setdatabase = d.oid and r.setrole <> 0) as roles,
       shobj_description(d.oid, 'pg_database') as comment,
       d.datconnlimit as limit,
       pg_encoding_to_char(d.encoding) as encoding,
       d.datcollate as collate, d.datctype as ctype
     from pg_database d where d.datname = $1`,
    'postgres',
    [database],
  );
  return row;
}
