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
