import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  ApprovalRepository,
  CastVote,
  NewApprovalRequest,
  RoleMap,
  VoteResult,
} from '../../src/approvals/approval-request.ts';
import { requirementFor } from '../../src/approvals/policy.ts';
import type { LifeboatConfig } from '../../src/config/schema.ts';
import {
  ROLES,
  sampleNewRequest,
  sampleNewReview,
  sampleRequirement,
  T0,
  THIRTY_MINUTES,
} from '../doubles/sample-approvals.ts';

export interface ApprovalRepositoryUnderTest {
  /** An empty repository. */
  readonly repository: ApprovalRepository;
  readonly cleanup: () => Promise<void>;
}

const DURING = new Date(T0.getTime() + 60_000);
const EXPIRES_AT = new Date(T0.getTime() + THIRTY_MINUTES);

/** Ten DBAs besides alice, for the races. */
const MANY_ROLES: RoleMap = {
  dba: Array.from({ length: 10 }, (_, i) => `console:dba${i}`),
  oncall: ['console:alice'],
};

/** Execution ids handed out in order, counting the calls: each one is a run of the action. */
function executionIds() {
  const issued: string[] = [];
  return {
    issued,
    next: () => {
      const id = `rs_20261122T120100Z_${String(issued.length).padStart(6, '0')}`;
      issued.push(id);
      return id;
    },
  };
}

function outcomes(results: readonly VoteResult[]): Record<string, number> {
  const tally: Record<string, number> = {};
  for (const r of results) {
    const key = r.outcome === 'refused' ? `refused:${r.code}` : r.outcome;
    tally[key] = (tally[key] ?? 0) + 1;
  }
  return tally;
}

/**
 * The behaviour every `ApprovalRepository` shares: the catalog's and the in-memory double the
 * command tests use. Each rule of SPEC §5 that the repository enforces, and the races that must
 * still end in one approval.
 */
export function describeApprovalRepositoryContract(
  name: string,
  open: () => Promise<ApprovalRepositoryUnderTest>,
): void {
  describe(`ApprovalRepository contract: ${name}`, () => {
    let repository: ApprovalRepository;
    let cleanup: () => Promise<void>;
    let ids: ReturnType<typeof executionIds>;

    beforeEach(async () => {
      ({ repository, cleanup } = await open());
      ids = executionIds();
    });

    afterEach(async () => {
      await cleanup();
    });

    const vote = (
      id: string,
      cast: CastVote,
      options: { now?: Date; roles?: RoleMap; repo?: ApprovalRepository } = {},
    ) =>
      (options.repo ?? repository).vote(id, cast, {
        now: options.now ?? DURING,
        roles: 'roles' in options ? options.roles : ROLES,
        newExecutionId: ids.next,
      });
    const approve = (identity: string) => ({ identity, decision: 'approve' as const });

    async function create(overrides: Partial<NewApprovalRequest> = {}) {
      return repository.create(sampleNewRequest(overrides));
    }

    it('records a request as pending, with everything that was asked for', async () => {
      const asked = sampleNewRequest();
      const created = await repository.create(asked);
      expect(created).toEqual({
        ...asked,
        status: 'pending',
        message: null,
        votes: [],
        decidedAt: null,
        decidedBy: null,
        reason: null,
        executionId: null,
        executedAt: null,
        outcome: null,
        reviewOf: null,
      });
      expect(await repository.get(asked.id)).toEqual(created);
    });

    it('returns the stored request unchanged when an id is recorded again', async () => {
      const first = await create();
      const again = await repository.create({ ...sampleNewRequest(), id: first.id, command: '/x' });
      expect(again).toEqual(first);
    });

    it('has no request for an unknown id', async () => {
      expect(await repository.get('apr_20261122T120000Z_nonexi')).toBeUndefined();
    });

    it('remembers where the request message was posted', async () => {
      const created = await create();
      const message = { channel: 'ops', thread: 't1', messageId: 'm42' };
      await repository.setMessage(created.id, message);
      expect((await repository.get(created.id))?.message).toEqual(message);
    });

    it('goes through the whole lifecycle: pending, approved once, executed', async () => {
      const created = await create({
        requirement: sampleRequirement({ approvals: 2 }),
        expiresAt: EXPIRES_AT,
      });
      expect((await repository.listOpen()).map((r) => r.id)).toEqual([created.id]);

      const first = await vote(created.id, approve('console:bob'));
      expect(first.outcome).toBe('counted');
      expect(first.request?.status).toBe('pending');
      expect(first.request?.votes.map((v) => v.identity)).toEqual(['console:bob']);

      const secondAt = new Date(DURING.getTime() + 1000);
      const second = await vote(created.id, approve('console:carol'), { now: secondAt });
      expect(second.outcome).toBe('approved');
      expect(second.request).toMatchObject({
        status: 'approved',
        decidedAt: secondAt,
        decidedBy: 'console:carol',
        executionId: ids.issued[0],
      });
      expect(ids.issued).toHaveLength(1);
      expect(second.request?.votes).toEqual([
        { identity: 'console:bob', decision: 'approve', reason: null, at: DURING },
        { identity: 'console:carol', decision: 'approve', reason: null, at: secondAt },
      ]);
      expect(await repository.listOpen()).toEqual([]);

      const doneAt = new Date(DURING.getTime() + 60_000);
      const { request: finished, recorded } = await repository.finish(
        created.id,
        'executed',
        'restore rs_… completed',
        doneAt,
      );
      expect(recorded).toBe(true);
      expect(finished).toMatchObject({
        status: 'executed',
        outcome: 'restore rs_… completed',
        executedAt: doneAt,
        executionId: ids.issued[0],
      });
      expect(await repository.get(created.id)).toEqual(finished);

      const late = await vote(created.id, approve('console:frank'));
      expect(late).toMatchObject({ outcome: 'refused', code: 'executed' });
    });

    it('records a failed execution', async () => {
      const created = await create();
      await vote(created.id, approve('console:bob'));
      const failed = await repository.finish(created.id, 'failed', 'restore failed: boom', DURING);
      expect(failed).toMatchObject({
        request: { status: 'failed', outcome: 'restore failed: boom' },
        recorded: true,
      });
    });

    it('records the outcome once: finishing again returns the first record', async () => {
      const created = await create();
      await vote(created.id, approve('console:bob'));
      const first = await repository.finish(created.id, 'executed', 'done', DURING);
      const again = await repository.finish(created.id, 'failed', 'other', EXPIRES_AT);
      expect(again).toEqual({ request: first.request, recorded: false });
    });

    it('refuses to record an execution for a request that was never approved', async () => {
      const created = await create();
      await expect(repository.finish(created.id, 'executed', 'done', DURING)).rejects.toMatchObject(
        { code: 'approval_not_approved' },
      );
      expect((await repository.get(created.id))?.status).toBe('pending');
    });

    it('refuses a vote on an unknown request as not found', async () => {
      const result = await vote('apr_20261122T120000Z_nonexi', approve('console:bob'));
      expect(result).toMatchObject({ outcome: 'refused', code: 'not_found' });
      expect(result.request).toBeUndefined();
      expect(ids.issued).toEqual([]);
    });

    it('refuses an approval from the requester and records nothing', async () => {
      const created = await create();
      const result = await vote(created.id, approve('console:alice'));
      expect(result).toMatchObject({ outcome: 'refused', code: 'own_request' });
      expect((await repository.get(created.id))?.votes).toEqual([]);
    });

    describe('a request several policies apply to (a restore into production and staging)', () => {
      // production names dba; staging names oncall and expires sooner. Both must be satisfied.
      const config: Pick<LifeboatConfig, 'policies'> = {
        policies: [
          {
            action: 'restore',
            environment: 'production',
            approvals: 1,
            approvers: ['dba'],
            expires: '30m',
          },
          {
            action: 'restore',
            environment: 'staging',
            approvals: 1,
            approvers: ['oncall'],
            expires: '15m',
          },
        ],
      };
      const roles: RoleMap = {
        dba: ['console:carol'],
        oncall: ['console:alice', 'console:dave', 'console:olga'],
      };
      const mixed = () => {
        const requirement = requirementFor(config, 'restore', ['production', 'staging']);
        if (!requirement) throw new Error('a requirement expected');
        return create({
          environments: ['production', 'staging'],
          requirement,
          expiresAt: new Date(T0.getTime() + requirement.expiresInMs),
        });
      };

      it('is not approved by two oncall members: production still needs a dba', async () => {
        const created = await mixed();
        const first = await vote(created.id, approve('console:dave'), { roles });
        expect(first.outcome).toBe('counted');
        const second = await vote(created.id, approve('console:olga'), { roles });
        expect(second.outcome).not.toBe('approved');
        expect(ids.issued).toEqual([]);
        expect((await repository.get(created.id))?.status).toBe('pending');

        const dba = await vote(created.id, approve('console:carol'), { roles });
        expect(dba.outcome).toBe('approved');
        expect(ids.issued).toHaveLength(1);
      });

      it('is not approved by a dba alone: staging still needs an oncall member', async () => {
        const created = await mixed();
        expect((await vote(created.id, approve('console:carol'), { roles })).outcome).toBe(
          'counted',
        );
        expect((await vote(created.id, approve('console:dave'), { roles })).outcome).toBe(
          'approved',
        );
      });

      it('expires at the shortest of the policies expiries', async () => {
        const created = await mixed();
        expect(created.expiresAt).toEqual(new Date(T0.getTime() + 15 * 60_000));
      });
    });

    it('refuses an identity without the role and records nothing', async () => {
      const created = await create();
      const result = await vote(created.id, approve('console:dave'));
      expect(result).toMatchObject({ outcome: 'refused', code: 'not_an_approver' });
      expect(result.request?.status).toBe('pending');
      expect((await repository.get(created.id))?.votes).toEqual([]);
    });

    it('counts a second vote by the same approver once', async () => {
      const created = await create({ requirement: sampleRequirement({ approvals: 2 }) });
      await vote(created.id, approve('console:bob'));
      const again = await vote(created.id, approve('console:bob'));
      expect(again).toMatchObject({ outcome: 'refused', code: 'already_voted' });
      const stored = await repository.get(created.id);
      expect(stored?.status).toBe('pending');
      expect(stored?.votes).toHaveLength(1);
    });

    it('ends a request with one rejection, keeping its reason', async () => {
      const created = await create({ requirement: sampleRequirement({ approvals: 2 }) });
      await vote(created.id, approve('console:bob'));
      const rejected = await vote(created.id, {
        identity: 'console:carol',
        decision: 'reject',
        reason: 'that backup predates the fix',
      });
      expect(rejected.outcome).toBe('rejected');
      expect(rejected.request).toMatchObject({
        status: 'rejected',
        decidedBy: 'console:carol',
        decidedAt: DURING,
        reason: 'that backup predates the fix',
        executionId: null,
      });
      const after = await vote(created.id, approve('console:frank'));
      expect(after).toMatchObject({ outcome: 'refused', code: 'rejected' });
      expect(ids.issued).toEqual([]);
      expect(await repository.listOpen()).toEqual([]);
    });

    it('lets the requester withdraw their request by rejecting it', async () => {
      const created = await create();
      const withdrawn = await vote(created.id, { identity: 'console:alice', decision: 'reject' });
      expect(withdrawn.outcome).toBe('rejected');
      expect(withdrawn.request?.decidedBy).toBe('console:alice');
    });

    it('refuses a vote after the approval as already approved, keeping the one execution id', async () => {
      const created = await create();
      const approved = await vote(created.id, approve('console:bob'));
      const late = await vote(created.id, approve('console:carol'));
      expect(late).toMatchObject({ outcome: 'refused', code: 'already_approved' });
      expect(late.request?.executionId).toBe(approved.request?.executionId);
      expect(ids.issued).toHaveLength(1);
    });

    it('counts a vote one millisecond before the expiry', async () => {
      const created = await create();
      const result = await vote(created.id, approve('console:bob'), {
        now: new Date(EXPIRES_AT.getTime() - 1),
      });
      expect(result.outcome).toBe('approved');
    });

    it('refuses a vote at the expiry and marks the request expired for good', async () => {
      const created = await create();
      const result = await vote(created.id, approve('console:bob'), { now: EXPIRES_AT });
      expect(result).toMatchObject({ outcome: 'refused', code: 'expired', expiredNow: true });
      expect(result.request).toMatchObject({ status: 'expired', decidedAt: EXPIRES_AT });
      const stored = await repository.get(created.id);
      expect(stored).toMatchObject({ status: 'expired', votes: [] });

      const again = await vote(created.id, approve('console:carol'), { now: EXPIRES_AT });
      expect(again).toMatchObject({ outcome: 'refused', code: 'expired' });
      expect(again.outcome === 'refused' && again.expiredNow).toBeFalsy();
      expect(ids.issued).toEqual([]);
    });

    it('expires only pending approvals past their expiry, never reviews', async () => {
      const due = await create({ createdAt: T0, expiresAt: EXPIRES_AT });
      const notYet = await create({
        createdAt: T0,
        expiresAt: new Date(EXPIRES_AT.getTime() + 1),
      });
      const review = await repository.create(sampleNewReview({ createdAt: T0 }));
      const approved = await create({ createdAt: T0, expiresAt: EXPIRES_AT });
      await vote(approved.id, approve('console:bob'));
      const rejected = await create({ createdAt: T0, expiresAt: EXPIRES_AT });
      await vote(rejected.id, { identity: 'console:bob', decision: 'reject' });

      const expired = await repository.expireDue(EXPIRES_AT);
      expect(expired.map((r) => r.id)).toEqual([due.id]);
      expect(expired[0]).toMatchObject({ status: 'expired', decidedAt: EXPIRES_AT });

      expect((await repository.get(notYet.id))?.status).toBe('pending');
      expect((await repository.get(review.id))?.status).toBe('pending');
      expect((await repository.get(approved.id))?.status).toBe('approved');
      expect((await repository.get(rejected.id))?.status).toBe('rejected');
      expect(await repository.expireDue(EXPIRES_AT)).toEqual([]);
    });

    it('returns the requests it expires oldest first, with their votes', async () => {
      const later = await create({
        createdAt: new Date(T0.getTime() + 1000),
        requirement: sampleRequirement({ approvals: 2 }),
      });
      const earlier = await create({ createdAt: T0 });
      await vote(later.id, approve('console:bob'));
      const expired = await repository.expireDue(new Date(T0.getTime() + 2 * THIRTY_MINUTES));
      expect(expired.map((r) => r.id)).toEqual([earlier.id, later.id]);
      expect(expired[1]?.votes.map((v) => v.identity)).toEqual(['console:bob']);
    });

    it('lists open requests oldest first and recent ones newest first', async () => {
      const a = await create({ createdAt: T0 });
      const b = await create({ createdAt: new Date(T0.getTime() + 1000) });
      const c = await repository.create(
        sampleNewReview({ createdAt: new Date(T0.getTime() + 2000) }),
      );
      await vote(b.id, { identity: 'console:bob', decision: 'reject' });
      expect((await repository.listOpen()).map((r) => r.id)).toEqual([a.id, c.id]);
      expect((await repository.listRecent(2)).map((r) => r.id)).toEqual([c.id, b.id]);
      expect((await repository.listRecent(10)).map((r) => r.id)).toEqual([c.id, b.id, a.id]);
    });

    it('lists the requests let run whose outcome is not recorded, oldest first', async () => {
      const pending = await create({ createdAt: T0 });
      const approved = await create({ createdAt: new Date(T0.getTime() + 1000) });
      const finished = await create({ createdAt: new Date(T0.getTime() + 2000) });
      const review = await repository.create(
        sampleNewReview({ createdAt: new Date(T0.getTime() + 3000) }),
      );
      const acknowledged = await repository.create(
        sampleNewReview({ createdAt: new Date(T0.getTime() + 4000) }),
      );
      const reviewDone = await repository.create(
        sampleNewReview({ createdAt: new Date(T0.getTime() + 5000) }),
      );
      await vote(approved.id, approve('console:bob'));
      await vote(finished.id, approve('console:bob'));
      await repository.finish(finished.id, 'executed', 'done', DURING);
      await vote(acknowledged.id, approve('console:bob'));
      await repository.finish(reviewDone.id, 'failed', 'restore failed', DURING);

      const unfinished = await repository.listUnfinished();
      expect(unfinished.map((r) => r.id)).toEqual([approved.id, review.id, acknowledged.id]);
      expect(unfinished[0]?.votes.map((v) => v.identity)).toEqual(['console:bob']);
      expect(unfinished.map((r) => r.id)).not.toContain(pending.id);
    });

    describe('a break-glass review', () => {
      it('is pending with its execution id and reason from the start', async () => {
        const asked = sampleNewReview({ reviewOf: 'apr_20261122T110000Z_before' });
        const review = await repository.create(asked);
        expect(review).toMatchObject({
          kind: 'review',
          status: 'pending',
          expiresAt: null,
          executionId: asked.executionId,
          reason: asked.reason,
          reviewOf: 'apr_20261122T110000Z_before',
        });
      });

      it('is acknowledged by a second person, keeping its execution id and reason', async () => {
        const review = await repository.create(sampleNewReview());
        const result = await vote(review.id, approve('console:dave'));
        expect(result.outcome).toBe('acknowledged');
        expect(result.request).toMatchObject({
          status: 'acknowledged',
          decidedBy: 'console:dave',
          executionId: review.executionId,
          reason: review.reason,
        });
        expect(ids.issued).toEqual([]);
        expect(await repository.listOpen()).toEqual([]);
      });

      it('cannot be rejected or acknowledged by the one who broke the glass', async () => {
        const review = await repository.create(sampleNewReview());
        expect(
          await vote(review.id, { identity: 'console:bob', decision: 'reject' }),
        ).toMatchObject({ outcome: 'refused', code: 'wrong_kind' });
        expect(await vote(review.id, approve('console:alice'))).toMatchObject({
          outcome: 'refused',
          code: 'own_request',
        });
        expect((await repository.get(review.id))?.status).toBe('pending');
      });

      it('records how its action ended and stays open until acknowledged', async () => {
        const review = await repository.create(sampleNewReview());
        const { request: finished } = await repository.finish(
          review.id,
          'executed',
          'restore done',
          DURING,
        );
        expect(finished).toMatchObject({
          status: 'pending',
          outcome: 'restore done',
          executedAt: DURING,
        });
        expect((await repository.listOpen()).map((r) => r.id)).toEqual([review.id]);
        const acknowledged = await vote(review.id, approve('console:bob'));
        expect(acknowledged.request).toMatchObject({
          status: 'acknowledged',
          outcome: 'restore done',
        });
      });

      it('records how its action ended after it was acknowledged', async () => {
        const review = await repository.create(sampleNewReview());
        await vote(review.id, approve('console:bob'));
        const { request: finished } = await repository.finish(
          review.id,
          'failed',
          'restore failed',
          DURING,
        );
        expect(finished).toMatchObject({ status: 'acknowledged', outcome: 'restore failed' });
      });
    });

    describe('races', () => {
      it('records the outcome once when five processes finish the same request at once', async () => {
        const created = await create();
        await vote(created.id, approve('console:bob'));
        const results = await Promise.all(
          ['a', 'b', 'c', 'd', 'e'].map((who) =>
            repository.finish(created.id, 'executed', `settled by ${who}`, DURING),
          ),
        );
        const recorded = results.filter((r) => r.recorded);
        expect(recorded).toHaveLength(1);
        const outcome = recorded[0]?.request.outcome;
        expect(results.every((r) => r.request.outcome === outcome)).toBe(true);
        expect((await repository.get(created.id))?.outcome).toBe(outcome);
      });

      it('gives exactly one of ten simultaneous approvers the approval when one is needed', async () => {
        const created = await create();
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            vote(created.id, approve(`console:dba${i}`), { roles: MANY_ROLES }),
          ),
        );
        expect(outcomes(results)).toEqual({ approved: 1, 'refused:already_approved': 9 });
        expect(ids.issued).toHaveLength(1);
        const approved = results.find((r) => r.outcome === 'approved');
        const stored = await repository.get(created.id);
        expect(stored?.executionId).toBe(ids.issued[0]);
        expect(stored?.votes).toHaveLength(1);
        expect(stored?.decidedBy).toBe(approved?.request?.votes[0]?.identity);
      });

      it('approves with exactly two votes when ten approvers race for two approvals', async () => {
        const created = await create({ requirement: sampleRequirement({ approvals: 2 }) });
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            vote(created.id, approve(`console:dba${i}`), { roles: MANY_ROLES }),
          ),
        );
        expect(outcomes(results)).toEqual({
          counted: 1,
          approved: 1,
          'refused:already_approved': 8,
        });
        expect(ids.issued).toHaveLength(1);
        const stored = await repository.get(created.id);
        expect(stored?.status).toBe('approved');
        expect(stored?.votes).toHaveLength(2);
        expect(new Set(stored?.votes.map((v) => v.identity)).size).toBe(2);
      });

      it('counts the same identity voting five times at once once', async () => {
        const created = await create({ requirement: sampleRequirement({ approvals: 2 }) });
        const results = await Promise.all(
          Array.from({ length: 5 }, () => vote(created.id, approve('console:bob'))),
        );
        expect(outcomes(results)).toEqual({ counted: 1, 'refused:already_voted': 4 });
        const stored = await repository.get(created.id);
        expect(stored?.status).toBe('pending');
        expect(stored?.votes.map((v) => v.identity)).toEqual(['console:bob']);
      });

      it('lets either an approval or a rejection win a race, never both', async () => {
        const created = await create();
        const results = await Promise.all([
          vote(created.id, approve('console:bob')),
          vote(created.id, { identity: 'console:carol', decision: 'reject' }),
        ]);
        const decided = results.filter((r) => r.outcome !== 'refused');
        expect(decided).toHaveLength(1);
        const stored = await repository.get(created.id);
        expect(stored?.status).toBe(decided[0]?.outcome);
        expect(ids.issued).toHaveLength(stored?.status === 'approved' ? 1 : 0);
      });

      it('never approves a request that an expiry sweep marks at the same moment', async () => {
        const created = await create();
        const [result, expired] = await Promise.all([
          vote(created.id, approve('console:bob'), { now: EXPIRES_AT }),
          repository.expireDue(EXPIRES_AT),
        ]);
        expect(result).toMatchObject({ outcome: 'refused', code: 'expired' });
        expect((await repository.get(created.id))?.status).toBe('expired');
        // Exactly one of the two marked it.
        const markedByVote = result.outcome === 'refused' && result.expiredNow === true;
        expect(Number(markedByVote) + expired.length).toBe(1);
        expect(ids.issued).toEqual([]);
      });
    });
  });
}
