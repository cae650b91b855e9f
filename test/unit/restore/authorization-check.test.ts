import { describe, expect, it } from 'vitest';
import { authorizationProblem } from '../../../src/restore/authorization-check.ts';
import type { RestoreAuthorization } from '../../../src/restore/restore-record.ts';
import { samplePlan, sampleRequest } from '../../doubles/sample-approvals.ts';

const RESTORE = 'rs_20261122T120100Z_000001';
const approval: RestoreAuthorization = {
  kind: 'approval',
  request: 'apr_20261122T120000Z_7q3k9x',
  approvedBy: ['console:bob'],
};
const config = { roles: { dba: ['console:carol'] }, breakGlass: { role: 'dba' } };
const restore = (authorization: RestoreAuthorization | null = approval, plan = samplePlan) => ({
  id: RESTORE,
  plan,
  authorization,
});
const approved = sampleRequest({ status: 'approved', executionId: RESTORE });

describe('the authorization a restore carries, as the worker judges it', () => {
  it('holds for the approved request that runs as this restore with this plan', () => {
    expect(authorizationProblem(restore(), approved, config)).toBeNull();
    expect(authorizationProblem(restore(null), undefined, config)).toBeNull();
  });

  it('is refused when the request it names is not in the catalog', () => {
    expect(authorizationProblem(restore(), undefined, config)).toContain('is not in the catalog');
  });

  it('is refused when the request is still pending, rejected or expired', () => {
    for (const status of ['pending', 'rejected', 'expired'] as const) {
      expect(authorizationProblem(restore(), { ...approved, status }, config)).toContain(
        `is ${status}, not approved`,
      );
    }
  });

  it('is refused when the request runs as another restore', () => {
    const other = { ...approved, executionId: 'rs_20261122T120100Z_other1' };
    expect(authorizationProblem(restore(), other, config)).toContain(
      'runs as rs_20261122T120100Z_other1',
    );
  });

  it('is refused when the request approved another plan', () => {
    const elsewhere = {
      ...samplePlan,
      components: samplePlan.components.map((c) => ({ ...c, destination: 'other-db' })),
    };
    expect(authorizationProblem(restore(approval, elsewhere), approved, config)).toContain(
      'approved a restore of bk_20261122T020000Z_full_a1b2c3 into app-db→app-db, not of',
    );
  });

  it('refuses break glass by someone outside the role, or without a reason', () => {
    const glass: RestoreAuthorization = {
      kind: 'break-glass',
      request: approved.id,
      by: 'console:alice',
      reason: 'db gone',
    };
    const review = sampleRequest({
      kind: 'review',
      executionId: RESTORE,
      reason: 'db gone',
      requestedBy: 'console:alice',
    });
    expect(authorizationProblem(restore(glass), review, config)).toContain('only for the dba role');
    const byCarol = { ...review, requestedBy: 'console:carol' };
    expect(authorizationProblem(restore(glass), byCarol, config)).toBeNull();
    expect(authorizationProblem(restore(glass), { ...byCarol, reason: '  ' }, config)).toContain(
      'a reason is required',
    );
  });
});
