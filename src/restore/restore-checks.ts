import type { Manifest } from '../backup/manifest.ts';
import { formatBytes } from '../core/format.ts';
import type { DirectoryDestinationFacts } from './directory-destination-facts.ts';
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

/**
 * What was found about what a restore needs, by the process that gathered it: a worker (where
 * restores run), or the process planning when it runs its own jobs. Holds no secret: identities
 * are the recipients they open.
 */
export interface RestoreFacts {
  /**
   * The recipients (`age1…`) of the age identities available there, or why the identities
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
  /**
   * Each directory destination that was looked at: the space free where it is extracted, and
   * what its writability check covered. Absent from workers of earlier versions.
   */
  readonly directories?: Readonly<Record<string, DirectoryDestinationFacts>>;
}

/**
 * Why a restore's checks could not run where restores run, and what the planning process saw
 * itself: kept with the plan on its approval request, so the approver sees it.
 */
export interface UncheckedRestore {
  /** Why no process that restores could be asked, for people: `no worker answered within 10 s`. */
  readonly why: string;
  /**
   * What the planning process saw of the destinations itself (`` `app-db` answers ``), for
   * people: true of this process only, so never a reason to refuse.
   */
  readonly seenHere: readonly string[];
}

/**
 * How a planned restore was checked before anything runs. `ran`: the facts come from where
 * restores run, and `problems` are reasons to refuse. Otherwise no such process could be asked
 * (no worker answered, Redis is down): nothing is refused on facts from the wrong place, and
 * the plan and its approval request say what was not checked.
 */
export type RestoreCheckReport =
  | {
      readonly ran: true;
      /** Where the facts were gathered, for people: `on the worker lifeboat-worker@db1:42`, `here`. */
      readonly where: string;
      readonly problems: readonly RestoreProblem[];
      /** What was looked at besides, for people (see {@link restoreCheckedLines}). @defaultValue none */
      readonly checked?: readonly string[];
    }
  | ({ readonly ran: false } & UncheckedRestore);

/** What would make the restore fail, as far as its check found: none when it did not run. */
export function blockingProblems(report: RestoreCheckReport): readonly RestoreProblem[] {
  return report.ran ? report.problems : [];
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
 * no identity for any of its recipients, a tool missing from the PATH, a destination that
 * cannot be reached or written, a destination its restorer refuses, too little space to stage
 * the components. `where` says, in each message, whose facts they are (`here`, `on the worker
 * lifeboat-worker@db1:42`). Pure.
 */
export function restoreProblems(
  plan: RestorePlan,
  manifest: Manifest,
  facts: RestoreFacts,
  where = 'here',
): RestoreProblem[] {
  const problems: RestoreProblem[] = [];
  for (const planned of plan.components) {
    const component = manifest.components.find((c) => c.name === planned.component);
    const encryption = component?.encryption;
    if (encryption) {
      const problem = identityProblem(
        planned.component,
        encryption.recipients,
        facts.identities,
        where,
      );
      if (problem)
        problems.push({ component: planned.component, check: 'identity', message: problem });
    }
    const tool = toolFor(planned.kind);
    if (facts.tools[tool] === false) {
      problems.push({
        component: planned.component,
        check: 'tool',
        message: `\`${tool}\` is not installed ${where} (not on the PATH), and restoring a ${planned.kind} component runs it`,
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
  for (const planned of plan.components) {
    const destination = facts.directories?.[planned.destination];
    if (planned.kind !== 'directory' || !destination || destination.freeBytes === null) continue;
    if (facts.destinations[planned.destination]) continue;
    // The tar stream is extracted beside the destination's files before it is moved into
    // place; staged components take their space too when they share the file system.
    const extracted = planned.rawBytes;
    const total = extracted + (destination.sharesStaging ? needed : 0);
    if (total > destination.freeBytes) {
      const staged = destination.sharesStaging
        ? `, and ${formatBytes(needed)} staged on the same file system`
        : '';
      problems.push({
        component: planned.component,
        check: 'space',
        message: `restoring \`${planned.component}\` into \`${planned.destination}\` needs about ${formatBytes(total)} free in ${destination.at} ${where} (${formatBytes(extracted)} extracted beside its files before they are moved into place${staged}), and only ${formatBytes(destination.freeBytes)} is free there`,
      });
    }
  }
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

/**
 * What a check looked at besides what it would refuse, one line each, for people: what the
 * writability check of each directory destination covered. Pure.
 */
export function restoreCheckedLines(plan: RestorePlan, facts: RestoreFacts): string[] {
  const names = [...new Set(plan.components.map((c) => c.destination))];
  return names.flatMap((name) => {
    const directory = facts.directories?.[name];
    return directory ? [`\`${name}\`: ${directory.checked}`] : [];
  });
}

function identityProblem(
  component: string,
  recipients: readonly string[],
  identities: RestoreFacts['identities'],
  where: string,
): string | null {
  if ('error' in identities) {
    return `\`${component}\` is encrypted, and the age identities ${where} cannot be read: ${identities.error}`;
  }
  if (identities.some((recipient) => recipients.includes(recipient))) return null;
  const to = recipients.join(', ');
  if (identities.length === 0) {
    return `\`${component}\` is encrypted to ${to}, and no age identity is available ${where} to open it: set LIFEBOAT_AGE_IDENTITY to the AGE-SECRET-KEY-1… line, or LIFEBOAT_AGE_IDENTITY_FILE to an identity file, of one of those recipients`;
  }
  return `\`${component}\` is encrypted to ${to}, and none of the age identities ${where} (for ${identities.join(', ')}) is one of them: add the identity of one of its recipients to LIFEBOAT_AGE_IDENTITY or LIFEBOAT_AGE_IDENTITY_FILE`;
}

/**
 * What the planning process saw of the destinations it could reach itself, one line each
 * (`` `app-db` answers ``, `` `cache` cannot be reached at … ``): for the plan of a restore no
 * worker checked. `reached` holds the destinations looked at, with why each cannot be reached,
 * or null when it answers. Pure.
 */
export function seenHere(reached: Readonly<Record<string, string | null>>): string[] {
  return Object.entries(reached).map(([name, problem]) =>
    problem === null ? `\`${name}\` answers` : `\`${name}\` ${problem}`,
  );
}
