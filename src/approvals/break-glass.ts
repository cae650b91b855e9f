import type { LifeboatConfig } from '../config/schema.ts';

/** Why break glass is refused: stable codes, with a sentence for people. */
export interface BreakGlassRefusal {
  readonly code: 'break_glass_refused' | 'break_glass_reason_required';
  readonly message: string;
}

/**
 * Whether `identity` may break the glass with `reason`, by the config: a role must be named
 * under `breakGlass.role`, the identity must hold it, and the reason must say something (it is
 * what the reviewer reads). Null when allowed. Pure: the command handler answers with it, and
 * the approvals service enforces it, whoever calls.
 */
export function breakGlassRefusal(
  config: Pick<LifeboatConfig, 'breakGlass' | 'roles'>,
  identity: string,
  reason: string,
): BreakGlassRefusal | null {
  const role = config.breakGlass?.role;
  if (!role) {
    return {
      code: 'break_glass_refused',
      message:
        'Break glass is not configured, so nobody can skip the second person. Ask without --break-glass to get an approval, or have an admin name a role under breakGlass.role in lifeboat.yaml.',
    };
  }
  const holders = config.roles?.[role] ?? [];
  if (!holders.includes(identity)) {
    return {
      code: 'break_glass_refused',
      message: `--break-glass is only for the ${role} role (${holders.length ? holders.join(', ') : 'nobody holds it'}), and ${identity} does not hold it. Ask without --break-glass for a second person's approval.`,
    };
  }
  if (reason.trim() === '') {
    return {
      code: 'break_glass_reason_required',
      message:
        'Break glass needs a reason: a reason is required, because it is what the second person reviews and what the audit log keeps. Say why, e.g. --break-glass "primary is corrupted and the DBAs are unreachable".',
    };
  }
  return null;
}
