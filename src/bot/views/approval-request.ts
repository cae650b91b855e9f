import type { ApprovalRequest, RoleMap, VoteResult } from '../../approvals/approval-request.ts';
import { clauseLabel, eligibleApprovers } from '../../approvals/policy.ts';
import { approversOf, describeStanding, standingOf } from '../../approvals/rules.ts';
import { cut } from '../../chat/limits.ts';
import type { Block, Button, ButtonConfirm, ChatMessage, Field, Tone } from '../../chat/message.ts';
import { hasRoles } from '../../core/command-access.ts';
import {
  formatAge,
  formatSpan,
  formatTimestamp,
  plural,
  printable,
  withoutMentionMarkers,
} from '../../core/format.ts';
import { commandButton } from '../command-buttons.ts';
import { refusedMessage } from './notice.ts';
import { routeOf, uncheckedText } from './restore-plan.ts';

/** What the request is for, in a few words: `restore into app-db (production)`. */
export function describeAction(request: ApprovalRequest): string {
  const { payload } = request;
  if (payload.type === 'restore') {
    const into = payload.plan.components
      .map((c) => `${c.destination} (${c.environment})`)
      .join(', ');
    return `restore of ${payload.plan.backupId} into ${into}`;
  }
  if (payload.type === 'runbook-gate') {
    return `runbook run \`${payload.run}\` going on past step ${payload.step}: ${printable(payload.title)}`;
  }
  return `\`${payload.text}\``;
}

/**
 * The approvals so far and what each clause still needs:
 * `1 (console:dave); production: 1 more from dba; staging: satisfied`.
 */
function approvalsSoFar(request: ApprovalRequest, roles: RoleMap): string {
  const approvers = approversOf(request);
  const count = approvers.length ? `${approvers.length} (${approvers.join(', ')})` : '0';
  return `${count}; ${describeStanding(standingOf(request, roles), roles)}`;
}

/**
 * Who counts as an approver, for people: `dba: console:bob, slack:U012AB3CD`, per clause when
 * several policies apply (`production: dba: console:bob; staging: oncall: console:dave`).
 */
export function whoMayApprove(request: ApprovalRequest, roles: RoleMap): string {
  if (!hasRoles(roles)) return 'anyone but the requester (no roles are configured)';
  const { clauses } = request.requirement;
  const each = clauses.map((clause) => {
    const people = eligibleApprovers(clause, roles).filter(
      (identity) => identity !== request.requestedBy,
    );
    const which = clause.approverRoles.length ? clause.approverRoles.join(', ') : 'any role';
    const who = people.length
      ? `${which}: ${people.join(', ')}`
      : `${which} (nobody else holds it yet)`;
    return clauses.length > 1 ? `${clauseLabel(clause)}: ${who}` : who;
  });
  return each.join('; ');
}

function expiryField(request: ApprovalRequest, now: Date): Field | undefined {
  if (!request.expiresAt) return undefined;
  const at = formatTimestamp(request.expiresAt);
  const left = request.expiresAt.getTime() - now.getTime();
  if (request.status === 'expired' || (request.status === 'pending' && left <= 0)) {
    return { label: 'Expired', value: at };
  }
  if (request.status !== 'pending') return undefined;
  return { label: 'Expires', value: `${at} (in ${formatSpan(left)})` };
}

const HEADINGS: Record<ApprovalRequest['status'], { readonly title: string; readonly tone: Tone }> =
  {
    pending: { title: 'Approval needed', tone: 'warning' },
    approved: { title: 'Approved, running', tone: 'info' },
    executed: { title: 'Approved and done', tone: 'success' },
    failed: { title: 'Approved, but it failed', tone: 'danger' },
    rejected: { title: 'Rejected', tone: 'danger' },
    expired: { title: 'Expired', tone: 'warning' },
    acknowledged: { title: 'Break glass reviewed', tone: 'success' },
  };

function statusLine(request: ApprovalRequest, roles: RoleMap): string | undefined {
  switch (request.status) {
    case 'pending':
      return request.kind === 'review'
        ? `Ran without a second person. A second person must review it: /approve ${request.id} acknowledges it.`
        : `Needs, besides the requester, ${describeStanding(standingOf(request, roles), roles)}. Every policy that applies must be satisfied; the requester cannot approve their own request.`;
    case 'approved':
      return `Approved by ${request.decidedBy}; running as ${request.executionId}.`;
    case 'executed':
    case 'failed':
      return request.outcome ?? undefined;
    case 'rejected':
      return `Rejected by ${request.decidedBy}${request.reason ? `: ${withoutMentionMarkers(request.reason)}` : ''}. Nothing was run.`;
    case 'expired':
      return `Nobody approved it in time, so nothing was run. Ask again with ${request.command}.`;
    case 'acknowledged':
      return `Acknowledged by ${request.decidedBy}.${request.outcome ? ` ${request.outcome}` : ''}`;
  }
}

/**
 * The request message: what, from which backup, into which target, who asked, approvals so
 * far and the expiry, with Approve / Reject buttons while it is open. Votes, the outcome and
 * expiry update this same message.
 */
export function approvalRequestMessage(
  request: ApprovalRequest,
  options: { readonly now: Date; readonly roles: RoleMap },
): ChatMessage {
  const review = request.kind === 'review';
  const heading =
    review && request.status === 'pending'
      ? { title: 'BREAK GLASS, review needed', tone: 'danger' as Tone }
      : HEADINGS[request.status];
  const what = describeAction(request);
  const fields: Field[] = [
    { label: 'Request', value: request.id },
    { label: 'Action', value: request.command },
    { label: 'Requested by', value: request.requestedBy },
  ];
  if (request.payload.type === 'restore') {
    const taken = new Date(request.payload.plan.backupFinishedAt);
    fields.push(
      { label: 'Backup', value: request.payload.plan.backupId },
      { label: 'Taken', value: `${formatTimestamp(taken)} (${formatAge(taken, options.now)})` },
    );
  } else if (request.environments.length) {
    fields.push({ label: 'Environments', value: request.environments.join(', ') });
  }
  if (review) {
    fields.push({ label: 'Reason', value: request.reason ?? '' });
    fields.push({ label: 'Reviewers', value: whoMayApprove(request, options.roles) });
  } else {
    fields.push({ label: 'Approvals', value: approvalsSoFar(request, options.roles) });
    fields.push({ label: 'Approvers', value: whoMayApprove(request, options.roles) });
  }
  const expiry = expiryField(request, options.now);
  if (expiry) fields.push(expiry);
  if (request.executionId && request.status !== 'pending') {
    fields.push({ label: 'Runs as', value: request.executionId });
  }

  const blocks: Block[] = [{ type: 'header', text: `${heading.title}: ${what}` }];
  const line = statusLine(request, options.roles);
  if (line) blocks.push({ type: 'callout', tone: heading.tone, text: line });
  const unchecked = request.payload.type === 'restore' ? request.payload.unchecked : undefined;
  if (unchecked && request.status === 'pending') {
    // The approver decides knowing that nobody checked whether the restore can run.
    blocks.push({ type: 'callout', tone: 'warning', text: uncheckedText(unchecked) });
  }
  blocks.push({ type: 'fields', fields });
  if (request.payload.type === 'restore') {
    blocks.push({
      type: 'section',
      text: request.payload.plan.components.map((c) => routeOf(c)).join('\n'),
    });
  }
  if (request.status === 'pending') blocks.push({ type: 'buttons', buttons: voteButtons(request) });
  return { text: `${heading.title}: ${what} (${request.id})`, blocks };
}

/** Approve and Reject for an open request; a review is only acknowledged, never rejected. */
function voteButtons(request: ApprovalRequest): Button[] {
  const approve = `approve ${request.id}`;
  if (request.kind === 'review') {
    const acknowledge = commandButton('Acknowledge', approve, 'primary');
    return acknowledge ? [acknowledge] : [];
  }
  const buttons = [
    withConfirm(commandButton('Approve', approve, 'primary'), approveConfirm(request)),
    withConfirm(commandButton('Reject', `reject ${request.id}`, 'danger'), rejectConfirm(request)),
  ];
  return buttons.filter((b): b is Button => b !== undefined);
}

function withConfirm(button: Button | undefined, confirm: ButtonConfirm): Button | undefined {
  return button ? { ...button, confirm } : undefined;
}

/** Platforms show a confirm dialog's text in a small box (Slack: 300 characters). */
const CONFIRM_TEXT_CHARS = 300;

/**
 * What an approval sets off, asked before the click counts: for a restore, what it overwrites
 * with which backup; for a command, that it runs as the requester.
 */
function approveConfirm(request: ApprovalRequest): ButtonConfirm {
  const { payload } = request;
  if (payload.type === 'restore') {
    const targets = payload.plan.components
      .map((c) => `${c.destination} (${c.environment})`)
      .join(', ');
    const taken = formatTimestamp(new Date(payload.plan.backupFinishedAt));
    return {
      title: 'Approve this restore?',
      text: cut(
        `If your approval completes the request, ${targets} ${payload.plan.components.length === 1 ? 'is' : 'are'} overwritten at once with backup ${payload.plan.backupId} (taken ${taken}). Whatever changed there since is replaced.`,
        CONFIRM_TEXT_CHARS,
      ),
      confirm: 'Approve and restore',
      deny: 'Cancel',
    };
  }
  if (payload.type === 'runbook-gate') {
    return {
      title: 'Approve this gate?',
      text: cut(
        `If your approval completes the request, runbook run ${payload.run} goes on past step ${payload.step}.`,
        CONFIRM_TEXT_CHARS,
      ),
      confirm: 'Approve',
      deny: 'Cancel',
    };
  }
  return {
    title: 'Approve this request?',
    text: cut(
      `If your approval completes the request, ${payload.text} runs at once as ${request.requestedBy}.`,
      CONFIRM_TEXT_CHARS,
    ),
    confirm: 'Approve',
    deny: 'Cancel',
  };
}

function rejectConfirm(request: ApprovalRequest): ButtonConfirm {
  return {
    title: 'Reject this request?',
    text: cut(
      `One rejection ends request ${request.id}: ${describeAction(request)} does not run, and ${request.requestedBy} has to ask again.`,
      CONFIRM_TEXT_CHARS,
    ),
    confirm: 'Reject',
    deny: 'Cancel',
  };
}

/** The loud alert in the alerts channel when someone breaks the glass. */
export function breakGlassAlertMessage(
  review: ApprovalRequest,
  options: { readonly now: Date; readonly roles: RoleMap },
): ChatMessage {
  const what = describeAction(review);
  const text = `BREAK GLASS: ${review.requestedBy} is running ${what} without a second person. Reason: ${withoutMentionMarkers(review.reason ?? '')}. A second person must review it: /approve ${review.id}`;
  return {
    text,
    blocks: [
      { type: 'header', text: `BREAK GLASS: ${what}` },
      { type: 'callout', tone: 'danger', text },
      ...approvalRequestMessage(review, options).blocks.filter((b) => b.type !== 'header'),
    ],
  };
}

/** The answer to the person who voted. */
export function voteAnswerMessage(result: VoteResult, roles: RoleMap): ChatMessage {
  if (result.outcome === 'refused') return refusedMessage(result.reason);
  const { request } = result;
  const approvals = approversOf(request).length;
  const text = (() => {
    switch (result.outcome) {
      case 'counted':
        return `Your approval of ${request.id} counts (${plural(approvals, 'approval')} so far). Still needed: ${describeStanding(standingOf(request, roles), roles)}.`;
      case 'approved':
        return `You approved ${request.id}: that completes it, so it runs now as ${request.executionId}.`;
      case 'rejected':
        return request.decidedBy === request.requestedBy
          ? `You withdrew ${request.id}. Nothing was run.`
          : `You rejected ${request.id}. Nothing was run; ${request.requestedBy} can ask again.`;
      case 'acknowledged':
        return `You acknowledged the break-glass review ${request.id}. It is closed.`;
    }
  })();
  const tone: Tone = result.outcome === 'rejected' ? 'warning' : 'success';
  return { text, blocks: [{ type: 'callout', tone, text }] };
}

/** `/approvals`: the open requests the caller can act on, and their own waiting for others. */
export function approvalsListMessage(
  actionable: readonly ApprovalRequest[],
  waiting: readonly ApprovalRequest[],
  options: { readonly now: Date; readonly caller: string; readonly roles: RoleMap },
): ChatMessage {
  const blocks: Block[] = [
    {
      type: 'header',
      text: actionable.length
        ? `${plural(actionable.length, 'open request')} you can act on`
        : 'Nothing waits for you',
    },
  ];
  for (const request of actionable) {
    const kind = request.kind === 'review' ? 'break-glass review' : 'approval';
    const expiry = request.expiresAt
      ? `, expires ${formatTimestamp(request.expiresAt)} (in ${formatSpan(Math.max(0, request.expiresAt.getTime() - options.now.getTime()))})`
      : ', open until acknowledged';
    const unchecked =
      request.payload.type === 'restore' && request.payload.unchecked
        ? `\nNot checked where restores run: ${request.payload.unchecked.why}`
        : '';
    blocks.push({
      type: 'section',
      text: `\`${request.id}\` (${kind}): ${describeAction(request)}\nasked by ${request.requestedBy} ${formatAge(request.createdAt, options.now)}${expiry}; approvals ${approvalsSoFar(request, options.roles)}${unchecked}`,
    });
    blocks.push({ type: 'buttons', buttons: voteButtons(request) });
  }
  if (waiting.length) {
    blocks.push({
      type: 'context',
      text: `Yours, waiting for others: ${waiting.map((r) => `${r.id} (${approvalsSoFar(r, options.roles)})`).join(', ')}`,
    });
  }
  if (!actionable.length && !waiting.length) {
    blocks.push({ type: 'context', text: `No open requests for ${options.caller}.` });
  }
  const text = actionable.length
    ? `${plural(actionable.length, 'open request')} for you: ${actionable.map((r) => r.id).join(', ')}`
    : 'No open requests for you';
  return { text, blocks };
}
