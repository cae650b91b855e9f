/**
 * Who may run a command at all (before any approval policy): the roles in the config gate every
 * command that changes something.
 */

export type AccessDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: string; readonly roles: readonly string[] };

export interface AccessQuestion {
  /** `platform:id` of the person asking. */
  readonly identity: string;
  /** The command as the person would type it, for the message: `/restore`. */
  readonly command: string;
  /** Whether the command changes something (see `CommandSpec.gated`). */
  readonly gated: boolean;
  /** The config's `roles`: role name → identities. Absent: everyone may run everything. */
  readonly roles: Readonly<Record<string, readonly string[]>> | undefined;
}

/**
 * Whether any role is configured. Without roles Lifeboat runs as a single-user trial; an empty
 * `roles: {}` is read as "no roles yet", not as "nobody may do anything".
 */
export function hasRoles(
  roles: Readonly<Record<string, readonly string[]>> | undefined,
): roles is Readonly<Record<string, readonly string[]>> {
  return roles !== undefined && Object.keys(roles).length > 0;
}

/**
 * Without `roles` in the config everyone may run every command (a single-user trial). With
 * roles, a gated command may only be run by an identity listed in some role; read-only commands
 * stay open.
 */
export function decideAccess(question: AccessQuestion): AccessDecision {
  const { roles } = question;
  if (!hasRoles(roles) || !question.gated) return { allowed: true };
  const held = Object.entries(roles)
    .filter(([, members]) => members.includes(question.identity))
    .map(([role]) => role);
  if (held.length > 0) return { allowed: true };
  const all = Object.keys(roles);
  return {
    allowed: false,
    roles: all,
    reason: `\`${question.command}\` is for people with a role (${all.join(', ')}), and ${question.identity} has none. Ask someone who has one, or an admin to add you to a role in lifeboat.yaml.`,
  };
}
