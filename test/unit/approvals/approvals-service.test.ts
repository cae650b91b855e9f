import { describe, expect, it } from 'vitest';
import { createApprovals } from '../../../src/approvals/approvals-service.ts';
import { InMemoryApprovals } from '../../doubles/in-memory-approvals.ts';
import { InMemoryAudit } from '../../doubles/in-memory-audit.ts';
import { samplePlan, T0 } from '../../doubles/sample-approvals.ts';

/**
 * The approvals service enforces break glass itself, whoever calls it: the command handler's
 * checks are for the person's answer, never the only guard.
 */
function service(breakGlass: { role: string } | null = { role: 'dba' }) {
  const repository = new InMemoryApprovals();
  const audit = new InMemoryAudit({ now: () => T0 });
  const approvals = createApprovals({
    config: {
      roles: { dba: ['console:carol'], oncall: ['console:alice', 'console:bob'] },
      ...(breakGlass ? { breakGlass } : {}),
    },
    repository,
    audit,
    logger: {
      error: (obj) => {
        throw new Error(`audit append failed: ${JSON.stringify(obj)}`);
      },
    },
    now: () => T0,
  });
  return { approvals, repository, audit };
}

const ask = (requestedBy: string, reason: string) => ({
  action: 'restore',
  command: '/restore latest --break-glass …',
  payload: { type: 'restore' as const, plan: samplePlan },
  environments: ['production'],
  requestedBy,
  from: { platform: 'console', channel: { channel: 'ops' } },
  reason,
});

describe('break glass in the approvals service', () => {
  it('refuses a caller without the break-glass role, records no review and audits the refusal', async () => {
    const { approvals, repository, audit } = service();
    await expect(approvals.breakGlass(ask('console:bob', 'primary is gone'))).rejects.toMatchObject(
      {
        code: 'break_glass_refused',
        message: expect.stringContaining('only for the dba role'),
      },
    );
    expect(repository.requests.size).toBe(0);
    expect(audit.log.map((e) => `${e.action} ${e.identity} ${e.outcome}`)).toEqual([
      'break-glass console:bob refused',
    ]);
  });

  it('refuses break glass when no role is configured for it', async () => {
    const { approvals, repository } = service(null);
    await expect(
      approvals.breakGlass(ask('console:carol', 'primary is gone')),
    ).rejects.toMatchObject({ code: 'break_glass_refused' });
    expect(repository.requests.size).toBe(0);
  });

  it.each(['', '   ', '\t\n'])('refuses a reason that is empty or blank (%j)', async (reason) => {
    const { approvals, repository } = service();
    await expect(approvals.breakGlass(ask('console:carol', reason))).rejects.toMatchObject({
      code: 'break_glass_reason_required',
      message: expect.stringContaining('a reason is required'),
    });
    expect(repository.requests.size).toBe(0);
  });

  it('records the review for a holder of the role, with the reason trimmed', async () => {
    const { approvals } = service();
    const review = await approvals.breakGlass(ask('console:carol', '  primary is gone '));
    expect(review).toMatchObject({ kind: 'review', reason: 'primary is gone', status: 'pending' });
    expect(review.executionId).toMatch(/^rs_/);
  });
});
