import type {
  ApprovalClause,
  ApprovalRequest,
  ApprovalRequirement,
  NewApprovalRequest,
  RoleMap,
} from '../../src/approvals/approval-request.ts';
import type { RestorePlan } from '../../src/restore/plan-restore.ts';

/** Noon on the day of the examples; requests expire 30 minutes later unless told otherwise. */
export const T0 = new Date('2026-11-22T12:00:00.000Z');
export const THIRTY_MINUTES = 30 * 60_000;

/** alice asks; bob and carol are DBAs; dave is on call; erin holds no role. */
export const ROLES: RoleMap = {
  dba: ['console:bob', 'console:carol', 'console:frank'],
  oncall: ['console:dave', 'console:alice'],
};

export const samplePlan: RestorePlan = {
  backupId: 'bk_20261122T020000Z_full_a1b2c3',
  profile: 'full',
  backupFinishedAt: '2026-11-22T02:00:09.000Z',
  needsApproval: true,
  components: [
    {
      component: 'app-db',
      kind: 'postgres',
      destination: 'app-db',
      environment: 'production',
      redirected: false,
      bytes: 1234,
      rawBytes: 5678,
      encrypted: false,
      needsApproval: true,
      actions: ['drops and recreates database app'],
    },
  ],
};

/** One clause (production, 1 from dba, `policies[0]`) within 30 minutes, as overridden. */
export function sampleRequirement(
  overrides: Partial<ApprovalClause> & { readonly expiresInMs?: number } = {},
): ApprovalRequirement {
  const { expiresInMs = THIRTY_MINUTES, ...clause } = overrides;
  return {
    clauses: [
      {
        environments: ['production'],
        approvals: 1,
        approverRoles: ['dba'],
        policy: 'policies[0]',
        ...clause,
      },
    ],
    expiresInMs,
  };
}

let counter = 0;

/** A new request id that sorts after the previous one made here. */
export function nextApprovalId(): string {
  counter += 1;
  return `apr_20261122T120000Z_${counter.toString(36).padStart(6, '0')}${Math.random().toString(36).slice(2, 6)}`;
}

/** A pending restore into production asked for by alice at T0, expiring at T0 + 30 min. */
export function sampleNewRequest(overrides: Partial<NewApprovalRequest> = {}): NewApprovalRequest {
  const createdAt = overrides.createdAt ?? T0;
  const requirement = overrides.requirement ?? sampleRequirement();
  return {
    id: nextApprovalId(),
    kind: 'approval',
    action: 'restore',
    command: '/restore bk_20261122T020000Z_full_a1b2c3 --components app-db',
    payload: { type: 'restore', plan: samplePlan },
    environments: ['production'],
    requestedBy: 'console:alice',
    platform: 'console',
    channel: { channel: 'ops', thread: 't1' },
    requirement,
    createdAt,
    expiresAt: new Date(createdAt.getTime() + requirement.expiresInMs),
    ...overrides,
  };
}

/** A break-glass review: it already runs as `rs_glass…`, and waits for an acknowledgement. */
export function sampleNewReview(overrides: Partial<NewApprovalRequest> = {}): NewApprovalRequest {
  return sampleNewRequest({
    kind: 'review',
    requirement: sampleRequirement({ approverRoles: [], expiresInMs: 0, policy: 'break-glass' }),
    expiresAt: null,
    reason: 'the site is down and the DBAs are asleep',
    executionId: `rs_glass_${nextApprovalId().slice(-10)}`,
    ...overrides,
  });
}

/** A stored request as the repository would return it, for the pure rules. */
export function sampleRequest(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  const created = sampleNewRequest();
  return {
    id: 'apr_20261122T120000Z_7q3k9x',
    kind: created.kind,
    action: created.action,
    command: created.command,
    payload: created.payload,
    environments: created.environments,
    status: 'pending',
    requestedBy: created.requestedBy,
    platform: created.platform,
    channel: created.channel,
    message: null,
    requirement: created.requirement,
    createdAt: created.createdAt,
    expiresAt: created.expiresAt,
    votes: [],
    decidedAt: null,
    decidedBy: null,
    reason: null,
    executionId: null,
    executedAt: null,
    outcome: null,
    reviewOf: null,
    ...overrides,
  };
}
