import { describe, expect, it } from 'vitest';
import type { ApprovalClause } from '../../../src/approvals/approval-request.ts';
import {
  DEFAULT_REQUIREMENT,
  eligibleApprovers,
  isApprover,
  requirementFor,
  storedRequirement,
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

function clause(overrides: Partial<ApprovalClause> = {}): ApprovalClause {
  const [only] = sampleRequirement(overrides).clauses;
  if (!only) throw new Error('one clause expected');
  return only;
}

describe('requirementFor without a policies key', () => {
  it('asks one approver from any role within 30 minutes for a restore into production', () => {
    expect(requirementFor(noPolicies, 'restore', ['production'])).toEqual({
      clauses: [
        { environments: ['production'], approvals: 1, approverRoles: [], policy: 'default' },
      ],
      expiresInMs: 30 * 60_000,
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
      clauses: [
        {
          environments: ['production'],
          approvals: 2,
          approverRoles: ['dba', 'oncall'],
          policy: 'policies[0]',
        },
      ],
      expiresInMs: 3_600_000,
    });
  });

  it('lets a policy for the environment beat an earlier one for every environment', () => {
    const config = withPolicies(
      policy({ action: 'restore', approvers: ['oncall'], expires: '1h' }),
      policy({ action: 'restore', environment: 'production', approvers: ['dba'] }),
    );
    expect(requirementFor(config, 'restore', ['production'])?.clauses.map((c) => c.policy)).toEqual(
      ['policies[1]'],
    );
    expect(requirementFor(config, 'restore', ['staging'])?.clauses.map((c) => c.policy)).toEqual([
      'policies[0]',
    ]);
  });

  it('lets the earlier of two equally specific policies decide', () => {
    const config = withPolicies(
      policy({ action: 'restore', environment: 'staging', approvals: 1 }),
      policy({ action: 'restore', environment: 'staging', approvals: 3 }),
    );
    expect(requirementFor(config, 'restore', ['staging'])?.clauses).toMatchObject([
      { approvals: 1, policy: 'policies[0]' },
    ]);
  });

  it('ignores policies for other actions', () => {
    const config = withPolicies(policy({ action: 'backup.prune', environment: 'staging' }));
    expect(requirementFor(config, 'drill.run', ['staging'])).toBeNull();
  });

  it('keeps every deciding policy as a clause of its own, within the shortest expiry', () => {
    const config = withPolicies(
      policy({ action: 'restore', environment: 'production', approvals: 1, expires: '10m' }),
      policy({ action: 'restore', environment: 'staging', approvals: 2, expires: '2h' }),
    );
    expect(requirementFor(config, 'restore', ['production', 'staging'])).toEqual({
      clauses: [
        { environments: ['production'], approvals: 1, approverRoles: [], policy: 'policies[0]' },
        { environments: ['staging'], approvals: 2, approverRoles: [], policy: 'policies[1]' },
      ],
      expiresInMs: 10 * 60_000,
    });
  });

  it('never lets a weaker policy for staging stand in for production (the mixed restore)', () => {
    // The attack: staging's policy (oncall, sooner expiry) was picked for the whole request.
    const config = withPolicies(
      policy({ action: 'restore', environment: 'production', approvers: ['dba'], expires: '30m' }),
      policy({ action: 'restore', environment: 'staging', approvers: ['oncall'], expires: '15m' }),
    );
    const requirement = requirementFor(config, 'restore', ['staging', 'production']);
    expect(requirement?.clauses).toEqual([
      { environments: ['staging'], approvals: 1, approverRoles: ['oncall'], policy: 'policies[1]' },
      { environments: ['production'], approvals: 1, approverRoles: ['dba'], policy: 'policies[0]' },
    ]);
    expect(requirement?.expiresInMs).toBe(15 * 60_000);
  });

  it('makes one clause of a policy that decides several environments', () => {
    const config = withPolicies(policy({ action: 'restore', approvers: ['oncall'] }));
    expect(requirementFor(config, 'restore', ['staging', 'development'])?.clauses).toEqual([
      {
        environments: ['staging', 'development'],
        approvals: 1,
        approverRoles: ['oncall'],
        policy: 'policies[0]',
      },
    ]);
  });

  it('makes the built-in production rule a clause beside the policies for other environments', () => {
    const config = withPolicies(
      policy({
        action: 'restore',
        environment: 'staging',
        approvals: 2,
        approvers: ['oncall'],
        expires: '1h',
      }),
    );
    expect(requirementFor(config, 'restore', ['staging', 'production'])).toEqual({
      clauses: [
        {
          environments: ['staging'],
          approvals: 2,
          approverRoles: ['oncall'],
          policy: 'policies[0]',
        },
        { environments: ['production'], approvals: 1, approverRoles: [], policy: 'default' },
      ],
      expiresInMs: 30 * 60_000,
    });
  });

  it('asks nothing where the deciding policy says approvals: 0', () => {
    const config = withPolicies(
      policy({ action: 'restore', approvals: 1 }),
      policy({ action: 'restore', environment: 'development', approvals: 0 }),
    );
    expect(requirementFor(config, 'restore', ['development'])).toBeNull();
    expect(requirementFor(config, 'restore', ['staging'])?.clauses.map((c) => c.policy)).toEqual([
      'policies[0]',
    ]);
  });

  it('decides an action that touches no environment by its generic policy only', () => {
    const config = withPolicies(
      policy({ action: 'backup.prune', environment: 'production', approvals: 2 }),
      policy({ action: 'backup.prune', approvals: 1 }),
    );
    expect(requirementFor(config, 'backup.prune', [])?.clauses.map((c) => c.policy)).toEqual([
      'policies[1]',
    ]);
  });

  it('counts an environment listed twice once', () => {
    const config = withPolicies(policy({ action: 'restore', environment: 'staging' }));
    expect(
      requirementFor(config, 'restore', ['staging', 'staging'])?.clauses.map((c) => c.policy),
    ).toEqual(['policies[0]']);
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
    expect(requirementFor(config, 'restore', ['production'])?.clauses).toEqual([
      { environments: ['production'], approvals: 2, approverRoles: ['dba'], policy: 'policies[0]' },
    ]);
  });
});

describe('isApprover', () => {
  const dbaOnly = clause({ approverRoles: ['dba'] });
  const anyRole = clause({ approverRoles: [] });

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
    expect(eligibleApprovers(clause({ approverRoles: ['dba'] }), ROLES)).toEqual([
      'console:bob',
      'console:carol',
      'console:frank',
    ]);
  });

  it('lists the holders of every role once when the requirement names none', () => {
    const roles = { dba: ['console:bob', 'console:dave'], oncall: ['console:dave'] };
    expect(eligibleApprovers(clause({ approverRoles: [] }), roles)).toEqual([
      'console:bob',
      'console:dave',
    ]);
  });

  it('is empty when anyone may approve', () => {
    expect(eligibleApprovers(clause(), undefined)).toEqual([]);
  });
});

describe('storedRequirement', () => {
  it('reads a request stored before clauses existed as its one clause', () => {
    const old = {
      approvals: 2,
      approverRoles: ['dba'],
      expiresInMs: 600_000,
      policy: 'policies[3]',
    };
    expect(storedRequirement(old, ['production', 'staging'])).toEqual({
      clauses: [
        {
          environments: ['production', 'staging'],
          approvals: 2,
          approverRoles: ['dba'],
          policy: 'policies[3]',
        },
      ],
      expiresInMs: 600_000,
    });
  });

  it('reads a requirement with clauses as it is', () => {
    const requirement = sampleRequirement({ approvals: 3 });
    expect(storedRequirement(structuredClone(requirement), ['staging'])).toEqual(requirement);
  });
});
