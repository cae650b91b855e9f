/** What every child tool is given of Lifeboat's environment: where to find programs, the locale, the time zone, where temporary files go. */
const BASE_VARIABLES = ['PATH', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'HOME'] as const;

/**
 * The environment of a child tool (pg_dump, tar, zstd, redis-server…): only what any tool needs
 * from `parent` (PATH, the locale — LANG and LC_* —, TZ, TMPDIR, HOME) and the variables the
 * tool itself reads, given in `extra` (an undefined value leaves the variable out). Nothing
 * else reaches a child: not the store's keys, the age identity, other targets' URLs or chat
 * tokens, which a tool, or what it runs, could otherwise read or leak.
 */
export function childEnvironment(
  parent: Readonly<Record<string, string | undefined>>,
  extra: Readonly<Record<string, string | undefined>> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    if ((BASE_VARIABLES as readonly string[]).includes(name) || name.startsWith('LC_')) {
      env[name] = value;
    }
  }
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}
