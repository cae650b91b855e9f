import type { LifeboatConfig } from '../config/schema.ts';
import { hasRoles } from '../core/command-access.ts';
import { parseDuration } from '../core/duration.ts';
import type { ApprovalRequirement, RoleMap } from './approval-request.ts';

type Policy = NonNullable<LifeboatConfig['policies']>[number];

/**
 * The built-in rule that holds even without a `policies` key: production is never restored by
 * one person by accident. One approver besides the requester, from any configured role, within
 * 30 minutes.
 */
export const DEFAULT_REQUIREMENT: ApprovalRequirement = {
  approvals: 1,
  approverRoles: [],
  expiresInMs: parseDuration('30m'),
  policy: 'default',
};

/** Whether this action on this environment falls under the two-person rule no config can lift. */
function isProductionRestore(action: string, environment: string): boolean {
  return action === 'restore' && environment === 'production';
}

function requirementOf(policy: Policy, index: number): ApprovalRequirement {
  return {
    approvals: policy.approvals,
    approverRoles: [...policy.approvers],
    expiresInMs: parseDuration(policy.expires),
    policy: `policies[${index}]`,
  };
}

/**
 * The policy that decides `action` on one environment: one naming that environment beats one
 * for every environment, and among equals the earlier in the file wins (people read the file top
 * down). With `environment` undefined (an action touching no target) only generic policies apply.
 */
function decidingPolicy(
  policies: readonly Policy[],
  action: string,
  environment: string | undefined,
): ApprovalRequirement | null {
  let generic: ApprovalRequirement | null = null;
  for (const [index, policy] of policies.entries()) {
    if (policy.action !== action) continue;
    if (policy.environment === undefined) {
      generic ??= requirementOf(policy, index);
    } else if (environment !== undefined && policy.environment === environment) {
      return requirementOf(policy, index);
    }
  }
  return generic;
}

/** The requirement for one environment, with the production floor applied; null: none needed. */
function requirementForEnvironment(
  policies: readonly Policy[] | undefined,
  action: string,
  environment: string | undefined,
): ApprovalRequirement | null {
  const floor =
    environment !== undefined && isProductionRestore(action, environment)
      ? DEFAULT_REQUIREMENT
      : null;
  if (!policies) return floor;
  const decided = decidingPolicy(policies, action, environment);
  if (!decided || decided.approvals < 1) return floor;
  return decided;
}

/** Whether `a` asks more than `b`: more approvers, or as many within a shorter time. */
function stricter(a: ApprovalRequirement, b: ApprovalRequirement): boolean {
  if (a.approvals !== b.approvals) return a.approvals > b.approvals;
  return a.expiresInMs < b.expiresInMs;
}

/**
 * What the config asks of `action` touching `environments`, or null when it runs without an
 * approval.
 *
 * Without a `policies` key only the built-in rule applies ({@link DEFAULT_REQUIREMENT} for a
 * restore into production). With policies, each environment is decided by its most specific
 * matching policy, and across environments the strictest requirement wins, so touching one
 * production target among staging ones can never lower the bar. A restore into production always
 * needs at least one approver: when no policy covers it, or one says `approvals: 0`, the built-in
 * rule applies (the config check refuses the latter anyway).
 */
export function requirementFor(
  config: Pick<LifeboatConfig, 'policies'>,
  action: string,
  environments: readonly string[],
): ApprovalRequirement | null {
  const touched = environments.length ? [...new Set(environments)] : [undefined];
  let strictest: ApprovalRequirement | null = null;
  for (const environment of touched) {
    const requirement = requirementForEnvironment(config.policies, action, environment);
    if (requirement && (!strictest || stricter(requirement, strictest))) strictest = requirement;
  }
  return strictest;
}

/**
 * The roles whose holders count for a request with this requirement: its `approverRoles`, or
 * every configured role when it names none.
 */
export function countedRoles(requirement: ApprovalRequirement, roles: RoleMap): string[] {
  return requirement.approverRoles.length
    ? [...requirement.approverRoles]
    : Object.keys(roles ?? {});
}

/**
 * Whether `identity`'s vote counts for a request with this requirement: holders of one of its
 * `approverRoles`; with none named, holders of any role; with no roles configured at all,
 * anyone. Whether the identity is the requester is a separate rule (see `judgeVote`).
 */
export function isApprover(
  identity: string,
  requirement: ApprovalRequirement,
  roles: RoleMap,
): boolean {
  if (!hasRoles(roles)) return true;
  return countedRoles(requirement, roles).some((role) => roles[role]?.includes(identity) ?? false);
}

/**
 * The identities whose votes count, in the order the config lists them, for messages that say
 * who to ask. Empty when anyone may approve (no roles configured). It includes the requester if
 * they hold a role: callers leave them out where it matters.
 */
export function eligibleApprovers(requirement: ApprovalRequirement, roles: RoleMap): string[] {
  if (!hasRoles(roles)) return [];
  const people = new Set<string>();
  for (const role of countedRoles(requirement, roles))
    for (const identity of roles[role] ?? []) people.add(identity);
  return [...people];
}
