import { describe, expect, it } from 'vitest';
import {
  DEFAULT_REQUIREMENT,
  eligibleApprovers,
  isApprover,
  requirementFor,
} from '../../../src/approvals/policy.ts';
import type { LifeboatConfig } from '../../../src/config/schema.ts';
import { ROLES, sampleRequirement } from '../../doubles/sample-approvals.ts';

type Policy = NonNullable<LifeboatConfig['policies']>[number];

function policy(fields: Partial<Policy> & { action: string }): Policy {
  return { approvals: 1, approvers: [], expires: '30m', ...fields };
}

function withPolicies(...policies: Policy[]): Pick<LifeboatConfig, 'policies'> {
  return { policies };
}

const noPolicies: Pick<LifeboatConfig, 'policies'> = {};

describe('requirementFor without a policies key', () => {
  it('asks one approver from any role within 30 minutes for a restore into production', () => {
    expect(requirementFor(noPolicies, 'restore', ['production'])).toEqual({
      approvals: 1,
      approverRoles: [],
      expiresInMs: 30 * 60_000,
      policy: 'default',
    });
  });

  it('asks nothing for a restore into staging', () => {
    expect(requirementFor(noPolicies, 'restore', ['staging'])).toBeNull();
  });

  it('asks nothing for actions other than restore, even on production', () => {
    expect(requirementFor(noPolicies, 'backup.prune', ['production'])).toBeNull();
    expect(requirementFor(noPolicies, 'drill.run', ['production'])).toBeNull();
  });

  it('applies the built-in rule when production is one of several environments touched', () => {
    expect(requirementFor(noPolicies, 'restore', ['staging', 'production'])).toEqual(
      DEFAULT_REQUIREMENT,
    );
  });
});

describe('requirementFor with policies', () => {
  it('turns a policy into a requirement named by its index', () => {
    const config = withPolicies(
      policy({ action: 'backup.prune', approvals: 2, approvers: ['dba', 'oncall'], expires: '1h' }),
    );
    expect(requirementFor(config, 'backup.prune', ['production'])).toEqual({
      approvals: 2,
      approverRoles: ['dba', 'oncall'],
      expiresInMs: 3_600_000,
      policy: 'policies[0]',
    });
  });

  it('lets a policy for the environment beat an earlier one for every environment', () => {
    const config = withPolicies(
      policy({ action: 'restore', approvers: ['oncall'], expires: '1h' }),
      policy({ action: 'restore', environment: 'production', approvers: ['dba'] }),
    );
    expect(requirementFor(config, 'restore', ['production'])?.policy).toBe('policies[1]');
    expect(requirementFor(config, 'restore', ['staging'])?.policy).toBe('policies[0]');
  });

  it('lets the earlier of two equally specific policies decide', () => {
    const config = withPolicies(
      policy({ action: 'restore', environment: 'staging', approvals: 1 }),
      policy({ action: 'restore', environment: 'staging', approvals: 3 }),
    );
    expect(requirementFor(config, 'restore', ['staging'])).toMatchObject({
      approvals: 1,
      policy: 'policies[0]',
    });
  });

  it('ignores policies for other actions', () => {
    const config = withPolicies(policy({ action: 'backup.prune', environment: 'staging' }));
    expect(requirementFor(config, 'drill.run', ['staging'])).toBeNull();
  });

  it('takes the requirement with the most approvals across the environments touched', () => {
    const config = withPolicies(
      policy({ action: 'restore', environment: 'production', approvals: 1, expires: '10m' }),
      policy({ action: 'restore', environment: 'staging', approvals: 2, expires: '2h' }),
    );
    expect(requirementFor(config, 'restore', ['production', 'staging'])).toMatchObject({
      approvals: 2,
      policy: 'policies[1]',
    });
  });

  it('breaks a tie in approvals by the shorter expiry', () => {
    const config = withPolicies(
      policy({ action: 'restore', environment: 'staging', approvals: 1, expires: '2h' }),
      policy({ action: 'restore', environment: 'production', approvals: 1, expires: '15m' }),
    );
    expect(requirementFor(config, 'restore', ['staging', 'production'])).toMatchObject({
      expiresInMs: 15 * 60_000,
      policy: 'policies[1]',
    });
  });

  it('asks nothing where the deciding policy says approvals: 0', () => {
    const config = withPolicies(
      policy({ action: 'restore', approvals: 1 }),
      policy({ action: 'restore', environment: 'development', approvals: 0 }),
    );
    expect(requirementFor(config, 'restore', ['development'])).toBeNull();
    expect(requirementFor(config, 'restore', ['staging'])?.policy).toBe('policies[0]');
  });

  it('decides an action that touches no environment by its generic policy only', () => {
    const config = withPolicies(
      policy({ action: 'backup.prune', environment: 'production', approvals: 2 }),
      policy({ action: 'backup.prune', approvals: 1 }),
    );
    expect(requirementFor(config, 'backup.prune', [])?.policy).toBe('policies[1]');
  });

  it('counts an environment listed twice once', () => {
    const config = withPolicies(policy({ action: 'restore', environment: 'staging' }));
    expect(requirementFor(config, 'restore', ['staging', 'staging'])?.policy).toBe('policies[0]');
  });
});

describe('the production floor', () => {
  it('applies the built-in rule to a production restore no policy covers', () => {
    const config = withPolicies(policy({ action: 'backup.prune', approvals: 1 }));
    expect(requirementFor(config, 'restore', ['production'])).toEqual(DEFAULT_REQUIREMENT);
  });

  it('applies the built-in rule when a production restore policy says approvals: 0', () => {
    const config = withPolicies(
      policy({ action: 'restore', environment: 'production', approvals: 0 }),
    );
    expect(requirementFor(config, 'restore', ['production'])).toEqual(DEFAULT_REQUIREMENT);
  });

  it('applies the built-in rule when a generic restore policy says approvals: 0', () => {
    const config = withPolicies(policy({ action: 'restore', approvals: 0 }));
    expect(requirementFor(config, 'restore', ['production'])).toEqual(DEFAULT_REQUIREMENT);
    expect(requirementFor(config, 'restore', ['staging'])).toBeNull();
  });

  it('keeps a production policy that asks for more than the floor', () => {
    const config = withPolicies(
      policy({ action: 'restore', environment: 'production', approvals: 2, approvers: ['dba'] }),
    );
    expect(requirementFor(config, 'restore', ['production'])).toMatchObject({
      approvals: 2,
      approverRoles: ['dba'],
      policy: 'policies[0]',
    });
  });
});

describe('isApprover', () => {
  const dbaOnly = sampleRequirement({ approverRoles: ['dba'] });
  const anyRole = sampleRequirement({ approverRoles: [] });

  it('counts a holder of a named role', () => {
    expect(isApprover('console:bob', dbaOnly, ROLES)).toBe(true);
  });

  it('does not count a holder of another role', () => {
    expect(isApprover('console:dave', dbaOnly, ROLES)).toBe(false);
  });

  it('counts a holder of any role when the requirement names none', () => {
    expect(isApprover('console:dave', anyRole, ROLES)).toBe(true);
    expect(isApprover('console:bob', anyRole, ROLES)).toBe(true);
  });

  it('does not count an identity without a role', () => {
    expect(isApprover('console:erin', anyRole, ROLES)).toBe(false);
    expect(isApprover('console:erin', dbaOnly, ROLES)).toBe(false);
  });

  it('counts anyone when no roles are configured', () => {
    expect(isApprover('console:erin', dbaOnly, undefined)).toBe(true);
    expect(isApprover('console:erin', anyRole, {})).toBe(true);
  });
});

describe('eligibleApprovers', () => {
  it('lists the holders of the named roles', () => {
    expect(eligibleApprovers(sampleRequirement({ approverRoles: ['dba'] }), ROLES)).toEqual([
      'console:bob',
      'console:carol',
      'console:frank',
    ]);
  });

  it('lists the holders of every role once when the requirement names none', () => {
    const roles = { dba: ['console:bob', 'console:dave'], oncall: ['console:dave'] };
    expect(eligibleApprovers(sampleRequirement({ approverRoles: [] }), roles)).toEqual([
      'console:bob',
      'console:dave',
    ]);
  });

  it('is empty when anyone may approve', () => {
    expect(eligibleApprovers(sampleRequirement(), undefined)).toEqual([]);
  });
});
