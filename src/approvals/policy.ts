import type { LifeboatConfig } from '../config/schema.ts';
import { hasRoles } from '../core/command-access.ts';
import { parseDuration } from '../core/duration.ts';
import type { ApprovalClause, ApprovalRequirement, RoleMap } from './approval-request.ts';

type Policy = NonNullable<LifeboatConfig['policies']>[number];

/**
 * The built-in rule that holds even without a `policies` key: production is never restored by
 * one person by accident. One approver besides the requester, from any configured role, within
 * 30 minutes.
 */
export const DEFAULT_CLAUSE: ApprovalClause = {
  environments: ['production'],
  approvals: 1,
  approverRoles: [],
  policy: 'default',
};
const DEFAULT_EXPIRY_MS = parseDuration('30m');

/** The built-in production rule as a whole requirement. */
export const DEFAULT_REQUIREMENT: ApprovalRequirement = {
  clauses: [DEFAULT_CLAUSE],
  expiresInMs: DEFAULT_EXPIRY_MS,
};

/** Whether this action on this environment falls under the two-person rule no config can lift. */
function isProductionRestore(action: string, environment: string): boolean {
  return action === 'restore' && environment === 'production';
}

/** What decides one environment: a clause (without its environments yet) and its expiry. */
interface Decision {
  readonly clause: Omit<ApprovalClause, 'environments'>;
  readonly expiresInMs: number;
}

function decisionOf(policy: Policy, index: number): Decision {
  return {
    clause: {
      approvals: policy.approvals,
      approverRoles: [...policy.approvers],
      policy: `policies[${index}]`,
    },
    expiresInMs: parseDuration(policy.expires),
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
): Decision | null {
  let generic: Decision | null = null;
  for (const [index, policy] of policies.entries()) {
    if (policy.action !== action) continue;
    if (policy.environment === undefined) {
      generic ??= decisionOf(policy, index);
    } else if (environment !== undefined && policy.environment === environment) {
      return decisionOf(policy, index);
    }
  }
  return generic;
}

/** What decides one environment, with the production floor applied; null: none needed. */
function decisionForEnvironment(
  policies: readonly Policy[] | undefined,
  action: string,
  environment: string | undefined,
): Decision | null {
  const floor: Decision | null =
    environment !== undefined && isProductionRestore(action, environment)
      ? { clause: DEFAULT_CLAUSE, expiresInMs: DEFAULT_EXPIRY_MS }
      : null;
  if (!policies) return floor;
  const decided = decidingPolicy(policies, action, environment);
  if (!decided || decided.clause.approvals < 1) return floor;
  return decided;
}

/**
 * What the config asks of `action` touching `environments`, or null when it runs without an
 * approval.
 *
 * Each environment is decided by its most specific matching policy (without a `policies` key,
 * only the built-in rule: {@link DEFAULT_REQUIREMENT} for a restore into production). Every
 * deciding policy becomes a clause of its own, and the request is approved only when every
 * clause is met — its count, from its roles — within the shortest of their expiries: touching
 * one production target among staging ones can never lower the bar for production. A restore
 * into production always needs at least one approver: when no policy covers it, or one says
 * `approvals: 0`, the built-in rule is its clause (the config check refuses the latter anyway).
 */
export function requirementFor(
  config: Pick<LifeboatConfig, 'policies'>,
  action: string,
  environments: readonly string[],
): ApprovalRequirement | null {
  const touched = environments.length ? [...new Set(environments)] : [undefined];
  const byPolicy = new Map<string, { decision: Decision; environments: string[] }>();
  for (const environment of touched) {
    const decision = decisionForEnvironment(config.policies, action, environment);
    if (!decision) continue;
    const entry = byPolicy.get(decision.clause.policy) ?? { decision, environments: [] };
    if (environment !== undefined) entry.environments.push(environment);
    byPolicy.set(decision.clause.policy, entry);
  }
  if (byPolicy.size === 0) return null;
  const entries = [...byPolicy.values()];
  return {
    clauses: entries.map(({ decision, environments: covered }) => ({
      environments: covered,
      ...decision.clause,
    })),
    expiresInMs: Math.min(...entries.map((e) => e.decision.expiresInMs)),
  };
}

/**
 * A requirement as stored: requests recorded before clauses existed hold one rule
 * (`{approvals, approverRoles, expiresInMs, policy}`); it becomes the one clause, covering the
 * request's environments, so such requests are still judged by what they asked.
 */
export function storedRequirement(
  stored: unknown,
  environments: readonly string[],
): ApprovalRequirement {
  const value = (stored ?? {}) as Record<string, unknown>;
  if (Array.isArray(value.clauses)) return value as unknown as ApprovalRequirement;
  return {
    clauses: [
      {
        environments: [...environments],
        approvals: Number(value.approvals),
        approverRoles: Array.isArray(value.approverRoles) ? value.approverRoles.map(String) : [],
        policy: typeof value.policy === 'string' ? value.policy : 'default',
      },
    ],
    expiresInMs: Number(value.expiresInMs),
  };
}

/** For people: `production`, `staging and development`, or the policy for an action touching none. */
export function clauseLabel(clause: ApprovalClause): string {
  if (clause.environments.length === 0) return clause.policy;
  return clause.environments.join(' and ');
}

/**
 * The roles whose holders count for this clause: its `approverRoles`, or every configured role
 * when it names none.
 */
export function countedRoles(clause: ApprovalClause, roles: RoleMap): string[] {
  return clause.approverRoles.length ? [...clause.approverRoles] : Object.keys(roles ?? {});
}

/**
 * Whether `identity`'s vote counts for this clause: holders of one of its `approverRoles`; with
 * none named, holders of any role; with no roles configured at all, anyone. Whether the identity
 * is the requester is a separate rule (see `judgeVote`).
 */
export function isApprover(identity: string, clause: ApprovalClause, roles: RoleMap): boolean {
  if (!hasRoles(roles)) return true;
  return countedRoles(clause, roles).some((role) => roles[role]?.includes(identity) ?? false);
}

/**
 * The identities whose votes count for this clause, in the order the config lists them, for messages that say
 * who to ask. Empty when anyone may approve (no roles configured). It includes the requester if
 * they hold a role: callers leave them out where it matters.
 */
export function eligibleApprovers(clause: ApprovalClause, roles: RoleMap): string[] {
  if (!hasRoles(roles)) return [];
  const people = new Set<string>();
  for (const role of countedRoles(clause, roles))
    for (const identity of roles[role] ?? []) people.add(identity);
  return [...people];
}
