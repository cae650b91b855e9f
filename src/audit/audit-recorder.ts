import type { AuditEvent, AuditLog } from './audit-log.ts';

/** The part of a logger the recorder needs. */
export interface AuditFailureLogger {
  error(obj: object, msg?: string): void;
}

/**
 * Records an event without ever failing the work it describes: an append that fails is logged
 * as an error (with the event, so nothing is lost from the logs) and the caller goes on. The
 * command already happened; refusing to report its outcome would not undo it.
 */
export async function recordAudit(
  audit: AuditLog,
  event: AuditEvent,
  logger: AuditFailureLogger,
): Promise<void> {
  try {
    await audit.append(event);
  } catch (error) {
    logger.error({ err: error, audit: event }, 'could not append to the audit log');
  }
}

/** A partial event with the fields most events leave empty filled in. */
export function auditEvent(
  event: Pick<AuditEvent, 'identity' | 'platform' | 'action' | 'outcome'> & Partial<AuditEvent>,
): AuditEvent {
  return {
    channel: null,
    command: null,
    args: null,
    requestId: null,
    detail: null,
    ...event,
  };
}
