import type { AuditLog } from '../audit/audit-log.ts';
import { type AuditFailureLogger, auditEvent, recordAudit } from '../audit/audit-recorder.ts';

/** A platform request refused before anything ran, attributable to the user it names. */
export interface RefusedRequest {
  readonly platform: 'slack' | 'discord';
  /** The platform's user id the request names (`U…`, a snowflake). */
  readonly userId: string;
  readonly channel?: string | null;
  /** The command the request carried, when it had one. */
  readonly command?: string | null;
  /** Why it was refused, and what identifies the request on its platform. */
  readonly detail: Readonly<Record<string, unknown>>;
}

/**
 * Records a refused request in the audit log as `chat.refused` (outcome `refused`): the one
 * entry every chat adapter writes for a forged, stale, replayed or foreign request that names
 * a user. Never throws: a failed write is logged.
 */
export function auditRefusedRequest(
  audit: AuditLog,
  refused: RefusedRequest,
  logger: AuditFailureLogger,
): Promise<void> {
  return recordAudit(
    audit,
    auditEvent({
      identity: `${refused.platform}:${refused.userId}`,
      platform: refused.platform,
      channel: refused.channel ?? null,
      action: 'chat.refused',
      command: refused.command ?? null,
      outcome: 'refused',
      detail: { ...refused.detail },
    }),
    logger,
  );
}
