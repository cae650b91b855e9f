/** The platforms an identity can come from. */
export type Platform = 'console' | 'cli' | 'slack' | 'discord' | 'scheduler';

/**
 * Who did something: `platform:immutable-id` (Slack user id, Discord snowflake, `console:NAME`,
 * `cli:OSUSER`), never a display name.
 */
export interface Identity {
  readonly platform: Platform;
  readonly id: string;
  /** For display only; never used for decisions. */
  readonly displayName?: string;
}

export function identityKey(identity: Identity): string {
  return `${identity.platform}:${identity.id}`;
}

export function parseIdentityKey(key: string): Identity | undefined {
  const m = /^(console|cli|slack|discord|scheduler):(.+)$/.exec(key);
  if (!m?.[1] || !m[2]) return undefined;
  return { platform: m[1] as Platform, id: m[2] };
}

/** The longest console user name. */
export const MAX_USER_NAME = 64;

const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]*$/;

/**
 * Why `name` cannot be a console user (`lifeboat console --as NAME`, `/as NAME`), or `undefined`
 * when it can: letters, digits, ".", "_", "@" and "-", starting with a letter or digit, at most
 * `MAX_USER_NAME` characters. The one check for every way a console user is named.
 */
export function userNameProblem(name: string): string | undefined {
  if (USER_NAME.test(name) && name.length <= MAX_USER_NAME) return undefined;
  const shown = JSON.stringify(name.length > 40 ? `${name.slice(0, 37)}...` : name);
  return `${shown} is not a user name: use letters, digits, ".", "_", "@" or "-", starting with a letter or digit, at most ${MAX_USER_NAME} characters, as in bob`;
}
