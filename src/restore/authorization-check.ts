import type { ApprovalRequest } from '../approvals/approval-request.ts';
import { breakGlassRefusal } from '../approvals/break-glass.ts';
import type { LifeboatConfig } from '../config/schema.ts';
import type { RestoreRecord } from './restore-record.ts';

/** `component→destination` pairs, in order: what a plan writes where. */
function routes(plan: RestoreRecord['plan']): string {
  return plan.components.map((c) => `${c.component}→${c.destination}`).join(', ');
}

/**
 * Why the authorization a restore carries does not hold, or null when it does: it must name an
 * approval request in the catalog that runs as this very restore, is approved (or, for break
 * glass, a review by a holder of the break-glass role with a reason), and holds this restore's
 * plan (the same backup into the same destinations). The worker judges it before it touches
 * anything, so no caller can run a restore into production by claiming an approval.
 */
export function authorizationProblem(
  restore: Pick<RestoreRecord, 'id' | 'plan' | 'authorization'>,
  request: ApprovalRequest | undefined,
  config: Pick<LifeboatConfig, 'breakGlass' | 'roles'>,
): string | null {
  const { authorization } = restore;
  if (authorization === null) return null;
  const named = `approval request ${authorization.request}`;
  if (!request) return `${named}, which authorises it, is not in the catalog`;
  if (request.executionId !== restore.id) {
    return `${named} runs as ${request.executionId ?? 'nothing yet'}, not as ${restore.id}`;
  }
  if (authorization.kind === 'approval') {
    if (
      request.kind !== 'approval' ||
      !['approved', 'executed', 'failed'].includes(request.status)
    ) {
      return `${named} is ${request.kind === 'review' ? 'a break-glass review' : request.status}, not approved`;
    }
  } else {
    if (request.kind !== 'review') return `${named} is not a break-glass review`;
    const refusal = breakGlassRefusal(config, request.requestedBy, request.reason ?? '');
    if (refusal) return `its break glass does not hold: ${refusal.message}`;
  }
  if (request.payload.type !== 'restore') return `${named} is not for a restore`;
  const approved = request.payload.plan;
  if (approved.backupId !== restore.plan.backupId || routes(approved) !== routes(restore.plan)) {
    return `${named} approved a restore of ${approved.backupId} into ${routes(approved)}, not of ${restore.plan.backupId} into ${routes(restore.plan)}`;
  }
  return null;
}
