import { describe, expect, it } from 'vitest';
import type {
  ApprovalRequest,
  ApprovalVote,
  CastVote,
  RoleMap,
} from '../../../src/approvals/approval-request.ts';
import { storedRequirement } from '../../../src/approvals/policy.ts';
import {
  describeStanding,
  judgeVote,
  standingOf,
  type VoteJudgement,
} from '../../../src/approvals/rules.ts';
import { ROLES, sampleRequest, sampleRequirement, T0 } from '../../doubles/sample-approvals.ts';

const ID = 'apr_20261122T120000Z_7q3k9x';
const DURING = new Date(T0.getTime() + 60_000);
const EXPIRES_AT = new Date(T0.getTime() + 30 * 60_000);

function approve(identity: string): CastVote {
  return { identity, decision: 'approve' };
}

function reject(identity: string, reason: string | null = null): CastVote {
  return { identity, decision: 'reject', reason };
}

function counted(identity: string, decision: 'approve' | 'reject' = 'approve'): ApprovalVote {
  return { identity, decision, reason: null, at: T0 };
}

function judge(
  request: ApprovalRequest,
  vote: CastVote,
  options: { now?: Date; roles?: RoleMap } = {},
): VoteJudgement {
  const roles = 'roles' in options ? options.roles : ROLES;
  return judgeVote(request, vote, { now: options.now ?? DURING, roles });
}

const twoNeeded = sampleRequest({ requirement: sampleRequirement({ approvals: 2 }) });
const review = sampleRequest({
  kind: 'review',
  requirement: sampleRequirement({ approverRoles: [], expiresInMs: 0, policy: 'break-glass' }),
  expiresAt: null,
  reason: 'the site is down',
  executionId: 'rs_20261122T120000Z_glass1',
});

describe('judgeVote: votes that count', () => {
  it('completes a one-approver request with an approval from a holder of the role', () => {
    expect(judge(sampleRequest(), approve('console:bob'))).toEqual({
      accept: true,
      completes: true,
    });
  });

  it('counts the first of two required approvals without completing the request', () => {
    expect(judge(twoNeeded, approve('console:bob'))).toEqual({ accept: true, completes: false });
  });

  it('completes a two-approver request with the second distinct approver', () => {
    const oneIn = { ...twoNeeded, votes: [counted('console:bob')] };
    expect(judge(oneIn, approve('console:carol'))).toEqual({ accept: true, completes: true });
  });

  it('ends a request with any rejection, even before enough approvals', () => {
    expect(judge(twoNeeded, reject('console:bob', 'wrong backup'))).toEqual({
      accept: true,
      completes: true,
    });
  });

  it('lets the requester withdraw their own request by rejecting it', () => {
    expect(judge(sampleRequest(), reject('console:alice'))).toEqual({
      accept: true,
      completes: true,
    });
  });

  it('counts an approval at one millisecond before the expiry', () => {
    const now = new Date(EXPIRES_AT.getTime() - 1);
    expect(judge(sampleRequest(), approve('console:bob'), { now })).toEqual({
      accept: true,
      completes: true,
    });
  });

  it('counts any other identity when no roles are configured', () => {
    expect(judge(sampleRequest(), approve('console:erin'), { roles: undefined })).toEqual({
      accept: true,
      completes: true,
    });
  });

  it('completes a review with one acknowledgement from a role holder', () => {
    expect(judge(review, approve('console:dave'))).toEqual({ accept: true, completes: true });
  });

  it('never expires a review', () => {
    const muchLater = new Date(T0.getTime() + 30 * 86_400_000);
    expect(judge(review, approve('console:bob'), { now: muchLater })).toEqual({
      accept: true,
      completes: true,
    });
  });
});

describe('judgeVote: refusals', () => {
  it('refuses any vote on a rejected request', () => {
    const rejected = sampleRequest({
      status: 'rejected',
      decidedBy: 'console:carol',
      reason: 'wrong backup',
    });
    const judgement = judge(rejected, approve('console:bob'));
    expect(judgement).toMatchObject({ accept: false, code: 'rejected' });
    if (!judgement.accept) expect(judgement.reason).toContain('rejected by console:carol');
  });

  it('refuses a vote on an expired request', () => {
    expect(judge(sampleRequest({ status: 'expired' }), approve('console:bob'))).toMatchObject({
      accept: false,
      code: 'expired',
    });
  });

  it('refuses a vote on a pending request at its expiry', () => {
    expect(judge(sampleRequest(), approve('console:bob'), { now: EXPIRES_AT })).toMatchObject({
      accept: false,
      code: 'expired',
    });
  });

  it('refuses a vote on an approved request as already approved', () => {
    const approved = sampleRequest({
      status: 'approved',
      votes: [counted('console:bob')],
      executionId: 'rs_20261122T120100Z_abc123',
    });
    const judgement = judge(approved, approve('console:carol'));
    expect(judgement).toMatchObject({ accept: false, code: 'already_approved' });
    if (!judgement.accept) expect(judgement.reason).toContain('rs_20261122T120100Z_abc123');
  });

  it('refuses to reject an approved request', () => {
    const approved = sampleRequest({ status: 'approved', executionId: 'rs_x' });
    expect(judge(approved, reject('console:carol'))).toMatchObject({
      accept: false,
      code: 'already_approved',
    });
  });

  it.each(['executed', 'failed'] as const)('refuses a vote on a %s request', (status) => {
    const ran = sampleRequest({ status, executionId: 'rs_x', outcome: 'restore rs_x completed' });
    expect(judge(ran, approve('console:carol'))).toMatchObject({
      accept: false,
      code: 'executed',
    });
  });

  it('refuses a vote on an acknowledged review', () => {
    const done = { ...review, status: 'acknowledged' as const, decidedBy: 'console:bob' };
    expect(judge(done, approve('console:carol'))).toMatchObject({
      accept: false,
      code: 'acknowledged',
    });
  });

  it('refuses to reject a review: it is acknowledged with /approve', () => {
    const judgement = judge(review, reject('console:bob'));
    expect(judgement).toMatchObject({ accept: false, code: 'wrong_kind' });
    if (!judgement.accept) expect(judgement.reason).toContain(`/approve ${ID}`);
  });

  it('refuses an approval from the requester (the two-person rule)', () => {
    const judgement = judge(sampleRequest(), approve('console:alice'));
    expect(judgement).toMatchObject({ accept: false, code: 'own_request' });
    if (!judgement.accept) expect(judgement.reason).toContain('a second person must approve');
  });

  it('refuses the requester acknowledging their own break-glass review, though they hold a role', () => {
    expect(judge(review, approve('console:alice'))).toMatchObject({
      accept: false,
      code: 'own_request',
    });
  });

  it('refuses the requester even when no roles are configured', () => {
    expect(judge(sampleRequest(), approve('console:alice'), { roles: undefined })).toMatchObject({
      accept: false,
      code: 'own_request',
    });
  });

  it('refuses a voter who holds another role, naming the roles that count and their holders', () => {
    const judgement = judge(sampleRequest(), approve('console:dave'));
    expect(judgement).toMatchObject({ accept: false, code: 'not_an_approver' });
    if (!judgement.accept) {
      expect(judgement.reason).toContain(
        'only holders of the dba role count: console:bob, console:carol, console:frank',
      );
    }
  });

  it('says so when nobody but the requester holds the role that counts', () => {
    const judgement = judge(sampleRequest(), approve('console:erin'), {
      roles: { dba: ['console:alice'], oncall: ['console:dave'] },
    });
    expect(judgement).toMatchObject({ accept: false, code: 'not_an_approver' });
    if (!judgement.accept) {
      expect(judgement.reason).toContain('an admin can add people under roles in lifeboat.yaml');
    }
  });

  it('says a request its requester rejected was withdrawn', () => {
    const withdrawn = sampleRequest({ status: 'rejected', decidedBy: 'console:alice' });
    const judgement = judge(withdrawn, approve('console:bob'));
    expect(judgement).toMatchObject({ accept: false, code: 'rejected' });
    if (!judgement.accept) {
      expect(judgement.reason).toContain('withdrawn by its requester console:alice');
    }
  });

  it('refuses a rejection from someone who is not an approver', () => {
    expect(judge(sampleRequest(), reject('console:erin'))).toMatchObject({
      accept: false,
      code: 'not_an_approver',
    });
  });

  it('refuses a second vote by the same identity: an approver counts once', () => {
    const oneIn = { ...twoNeeded, votes: [counted('console:bob')] };
    const judgement = judge(oneIn, approve('console:bob'));
    expect(judgement).toMatchObject({ accept: false, code: 'already_voted' });
    if (!judgement.accept) expect(judgement.reason).toContain('production: 1 more from dba');
  });

  it('judges the ended state before who is voting', () => {
    const expired = sampleRequest({ status: 'expired' });
    expect(judge(expired, approve('console:alice'))).toMatchObject({ code: 'expired' });
    expect(judge(expired, approve('console:erin'))).toMatchObject({ code: 'expired' });
  });

  it('names the request in every refusal', () => {
    const refusals = [
      judge(sampleRequest({ status: 'rejected' }), approve('console:bob')),
      judge(sampleRequest({ status: 'expired' }), approve('console:bob')),
      judge(sampleRequest({ status: 'approved', executionId: 'rs_x' }), approve('console:bob')),
      judge(sampleRequest({ status: 'executed', executionId: 'rs_x' }), approve('console:bob')),
      judge({ ...review, status: 'acknowledged' }, approve('console:bob')),
      judge(review, reject('console:bob')),
      judge(sampleRequest(), approve('console:alice')),
      judge(sampleRequest(), approve('console:erin')),
      judge({ ...twoNeeded, votes: [counted('console:bob')] }, approve('console:bob')),
    ];
    expect(refusals.map((r) => (r.accept ? 'accepted' : r.code))).toEqual([
      'rejected',
      'expired',
      'already_approved',
      'executed',
      'acknowledged',
      'wrong_kind',
      'own_request',
      'not_an_approver',
      'already_voted',
    ]);
    for (const refusal of refusals) {
      if (!refusal.accept) expect(refusal.reason).toContain(ID);
    }
  });
});

describe('judgeVote: a request several policies apply to', () => {
  // production: 1 from dba; staging: 1 from oncall. dave and olga are on call, carol is a DBA.
  const roles: RoleMap = {
    dba: ['console:carol'],
    oncall: ['console:alice', 'console:dave', 'console:olga'],
  };
  const mixed = sampleRequest({
    environments: ['production', 'staging'],
    requirement: {
      clauses: [
        {
          environments: ['production'],
          approvals: 1,
          approverRoles: ['dba'],
          policy: 'policies[0]',
        },
        {
          environments: ['staging'],
          approvals: 1,
          approverRoles: ['oncall'],
          policy: 'policies[1]',
        },
      ],
      expiresInMs: 15 * 60_000,
    },
  });

  it('counts an oncall approval for staging without completing the request', () => {
    expect(judge(mixed, approve('console:dave'), { roles })).toEqual({
      accept: true,
      completes: false,
    });
  });

  it('refuses a second oncall approval: staging is satisfied and production needs a dba', () => {
    const oneIn = { ...mixed, votes: [counted('console:dave')] };
    const judgement = judge(oneIn, approve('console:olga'), { roles });
    expect(judgement).toMatchObject({ accept: false, code: 'not_needed' });
    if (!judgement.accept) {
      expect(judgement.reason).toContain('production: 1 more from dba; staging: satisfied');
      expect(judgement.reason).toContain('console:carol');
    }
  });

  it('completes it with the dba approval once staging is satisfied', () => {
    const oneIn = { ...mixed, votes: [counted('console:dave')] };
    expect(judge(oneIn, approve('console:carol'), { roles })).toEqual({
      accept: true,
      completes: true,
    });
  });

  it('counts one person holding both roles for both clauses', () => {
    const both = { ...roles, dba: ['console:carol', 'console:olga'] };
    expect(judge(mixed, approve('console:olga'), { roles: both })).toEqual({
      accept: true,
      completes: true,
    });
  });

  it('says what each clause still needs', () => {
    const oneIn = { ...mixed, votes: [counted('console:dave')] };
    expect(describeStanding(standingOf(oneIn, roles), roles)).toBe(
      'production: 1 more from dba; staging: satisfied',
    );
    expect(describeStanding(standingOf(mixed, roles), roles)).toBe(
      'production: 1 more from dba; staging: 1 more from oncall',
    );
  });

  it('refuses someone who holds none of the roles, naming what each clause needs', () => {
    const judgement = judge(mixed, approve('console:erin'), { roles });
    expect(judgement).toMatchObject({ accept: false, code: 'not_an_approver' });
    if (!judgement.accept) {
      expect(judgement.reason).toContain('production needs dba (console:carol)');
      expect(judgement.reason).toContain('staging needs oncall (console:dave, console:olga)');
    }
  });

  it('judges a request stored before clauses existed by its one rule', () => {
    const old = sampleRequest({
      requirement: storedRequirement(
        { approvals: 1, approverRoles: ['dba'], expiresInMs: 1_800_000, policy: 'policies[0]' },
        ['production'],
      ),
    });
    expect(judge(old, approve('console:dave'))).toMatchObject({ code: 'not_an_approver' });
    expect(judge(old, approve('console:bob'))).toEqual({ accept: true, completes: true });
  });
});
