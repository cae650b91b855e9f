import type { Manifest } from '../backup/manifest.ts';
import { formatBytes } from '../core/format.ts';
import type { RestorePlan } from './plan-restore.ts';

/**
 * Something that would make a planned restore fail, found before anything runs: shown by the
 * dry run, and a reason for `/restore` to refuse rather than ask a second person to approve a
 * restore that could never run.
 */
export interface RestoreProblem {
  /** The component it is about; null for the restore as a whole (staging space). */
  readonly component: string | null;
  /** `refused`: the component's restorer refuses the destination (privileges, the catalog). */
  readonly check: 'identity' | 'tool' | 'destination' | 'space' | 'refused';
  readonly message: string;
}

/** What was found, on the side planning the restore, about what it needs. */
export interface RestoreFacts {
  /**
   * The recipients (`age1…`) of the age identities available here, or why the identities
   * could not be read (a malformed LIFEBOAT_AGE_IDENTITY).
   */
  readonly identities: readonly string[] | { readonly error: string };
  /** The tools looked for on the PATH, and whether each was found. */
  readonly tools: Readonly<Record<string, boolean>>;
  /** Each destination, with why it cannot be reached or written, or null when it can. */
  readonly destinations: Readonly<Record<string, string | null>>;
  /**
   * Each component, with why its restorer would refuse its destination before staging (the
   * role lacks CREATEDB or does not own the database, the destination is the catalog's), or
   * null when it would not. Components whose tool is missing or whose destination does not
   * answer are not asked (the problem is named already) and are absent.
   */
  readonly refusals: Readonly<Record<string, string | null>>;
  /** Where components are staged, and the bytes free there (null when unknown). */
  readonly staging: { readonly directory: string; readonly freeBytes: number | null };
}

const RESTORE_TOOLS = { postgres: 'pg_restore', directory: 'tar', redis: 'redis-server' } as const;

/** The command-line tools a restore of the plan runs, whatever it finds. */
export function toolsFor(plan: RestorePlan): string[] {
  return [...new Set(plan.components.map((c) => toolFor(c.kind)))];
}

/** The command-line tool that restores a component of this kind. */
export function toolFor(kind: RestorePlan['components'][number]['kind']): string {
  return RESTORE_TOOLS[kind];
}

/**
 * Every problem the facts show for the plan, in the plan's order: an encrypted component with
 * no identity here for any of its recipients, a tool missing from the PATH, a destination that
 * cannot be reached or written, a destination its restorer refuses, too little space to stage
 * the components. Pure.
 */
export function restoreProblems(
  plan: RestorePlan,
  manifest: Manifest,
  facts: RestoreFacts,
): RestoreProblem[] {
  const problems: RestoreProblem[] = [];
  for (const planned of plan.components) {
    const component = manifest.components.find((c) => c.name === planned.component);
    const encryption = component?.encryption;
    if (encryption) {
      const problem = identityProblem(planned.component, encryption.recipients, facts.identities);
      if (problem)
        problems.push({ component: planned.component, check: 'identity', message: problem });
    }
    const tool = toolFor(planned.kind);
    if (facts.tools[tool] === false) {
      problems.push({
        component: planned.component,
        check: 'tool',
        message: `\`${tool}\` is not installed here (not on the PATH), and restoring a ${planned.kind} component runs it`,
      });
    }
    const unreachable = facts.destinations[planned.destination];
    if (unreachable) {
      problems.push({
        component: planned.component,
        check: 'destination',
        message: `the destination \`${planned.destination}\` ${unreachable}`,
      });
    }
    const refusal = facts.refusals[planned.component];
    if (refusal) {
      problems.push({
        component: planned.component,
        check: 'refused',
        message: `the restore of \`${planned.component}\` into \`${planned.destination}\` would be refused: ${refusal}`,
      });
    }
  }
  const needed = plan.components.reduce((sum, c) => sum + c.rawBytes, 0);
  const free = facts.staging.freeBytes;
  if (free !== null && needed > free) {
    problems.push({
      component: null,
      check: 'space',
      message: `staging needs ${formatBytes(needed)} in ${facts.staging.directory}, and only ${formatBytes(free)} is free there`,
    });
  }
  return problems;
}

function identityProblem(
  component: string,
  recipients: readonly string[],
  identities: RestoreFacts['identities'],
): string | null {
  if ('error' in identities) {
    return `\`${component}\` is encrypted, and the age identities here cannot be read: ${identities.error}`;
  }
  if (identities.some((recipient) => recipients.includes(recipient))) return null;
  const to = recipients.join(', ');
  if (identities.length === 0) {
    return `\`${component}\` is encrypted to ${to}, and no age identity is available here to open it: set LIFEBOAT_AGE_IDENTITY to the AGE-SECRET-KEY-1… line, or LIFEBOAT_AGE_IDENTITY_FILE to an identity file, of one of those recipients`;
  }
  return `\`${component}\` is encrypted to ${to}, and none of the age identities here (for ${identities.join(', ')}) is one of them: add the identity of one of its recipients to LIFEBOAT_AGE_IDENTITY or LIFEBOAT_AGE_IDENTITY_FILE`;
}
