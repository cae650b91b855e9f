/** What every child tool is given of Lifeboat's environment (with `LC_*`). */
const BASE_VARIABLES = new Set(['PATH', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'HOME']);

/**
 * The libpq settings a pg tool is given from Lifeboat's environment: how to connect securely
 * (`PGSSL*`, `PGGSSENCMODE`, `PGCHANNELBINDING`, `PGREQUIREAUTH`), its application name and
 * connect timeout. Never `PGPASSWORD`, `PGHOST` or `PGDATABASE`: the target's URL says where,
 * and its password is set from that URL alone.
 */
function isPgSetting(name: string): boolean {
  return (
    name.startsWith('PGSSL') ||
    [
      'PGAPPNAME',
      'PGCONNECT_TIMEOUT',
      'PGGSSENCMODE',
      'PGCHANNELBINDING',
      'PGREQUIREAUTH',
    ].includes(name)
  );
}

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The environment of a child tool (tar, zstd, redis-server…): only what any tool needs from
 * `parent` (PATH, the locale — LANG and LC_* —, TZ, TMPDIR, HOME) and the variables the tool
 * itself reads, given in `extra` (an undefined value leaves the variable out). Nothing else
 * reaches a child: not the store's keys, the age identity, other targets' URLs or chat tokens,
 * which a tool, or whatever it runs, could otherwise read or pass on.
 */
export function childEnvironment(
  parent: Environment,
  extra: Environment = {},
  alsoKeep: (name: string) => boolean = () => false,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    if (BASE_VARIABLES.has(name) || name.startsWith('LC_') || alsoKeep(name)) env[name] = value;
  }
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/**
 * {@link childEnvironment} for pg_dump, pg_restore and psql: with libpq's connection settings
 * (see `isPgSetting`) and `PGPASSWORD` only when the target's URL holds a password.
 */
export function pgToolEnvironment(
  parent: Environment,
  password: string | null,
  extra: Environment = {},
): Record<string, string> {
  return childEnvironment(parent, { PGPASSWORD: password ?? undefined, ...extra }, isPgSetting);
}
