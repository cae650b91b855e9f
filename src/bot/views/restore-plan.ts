import type { Block, ChatMessage, Field } from '../../chat/message.ts';
import { formatAge, formatBytes, formatTimestamp, plural, printable } from '../../core/format.ts';
import type { PlannedComponent, RestorePlan } from '../../restore/plan-restore.ts';
import {
  blockingProblems,
  type RestoreCheckReport,
  type RestoreProblem,
  type UncheckedRestore,
} from '../../restore/restore-checks.ts';
import { onCommandLine } from './full-result.ts';

/** The plan's facts every restore message shows: the backup, its age, who asked. */
export function restoreFields(
  plan: RestorePlan,
  now: Date,
  extra: { readonly status: string; readonly requestedBy: string; readonly id?: string },
): Field[] {
  const taken = new Date(plan.backupFinishedAt);
  const fields: Field[] = [
    { label: 'Status', value: extra.status },
    { label: 'Backup', value: plan.backupId },
    { label: 'Taken', value: `${formatTimestamp(taken)} (${formatAge(taken, now)})` },
    { label: 'Profile', value: plan.profile },
    { label: 'Requested by', value: extra.requestedBy },
  ];
  if (extra.id) fields.push({ label: 'Id', value: extra.id });
  return fields;
}

/** `app-db (postgres) → staging-db (staging)`. */
export function routeOf(c: PlannedComponent): string {
  const into = c.redirected ? ` → \`${c.destination}\`` : ' → its origin';
  return `\`${printable(c.component)}\` (${c.kind})${into} (${c.environment})`;
}

/** One section per component: where it goes, sizes, what will be done, approval. */
function componentSections(plan: RestorePlan): Block[] {
  return plan.components.map((c) => {
    const sizes = `${formatBytes(c.bytes)} stored${c.encrypted ? ', encrypted' : ''}, ${formatBytes(c.rawBytes)} to restore`;
    const approval = c.needsApproval
      ? `approval: needed (${c.environment} target)`
      : 'approval: not needed';
    const lines = [
      routeOf(c),
      `• ${sizes}`,
      ...c.actions.map((action) => `• ${action}`),
      `• ${approval}`,
    ];
    return { type: 'section', text: lines.join('\n') } as const;
  });
}

/** `• [identity] app-db: …` lines, one per problem. */
export function problemLines(problems: readonly RestoreProblem[]): string {
  return problems.map((p) => `• ${p.message}`).join('\n');
}

/**
 * A restore whose checks could not run where restores run, for the plan and its approval
 * request: why, what that leaves unchecked, and what this process saw itself.
 */
export function uncheckedText(unchecked: UncheckedRestore): string {
  const seen = unchecked.seenHere.length
    ? `\nSeen from this process only, not where restores run: ${unchecked.seenHere.join('; ')}.`
    : '';
  return `Not checked where restores run: ${unchecked.why}. The age identities, tools, staging space and privileges were not checked; the worker that runs it still refuses, before it changes any destination, a restore that cannot run.${seen}`;
}

/** Where a restore's checks ran, for people: `Checked on the worker …, where restores run: …`. */
function checkedText(where: string, checked: readonly string[] = []): string {
  const what =
    'age identities, tools, the destinations and their privileges, staging space: nothing found that would make it fail';
  const also = checked.length > 0 ? ` ${checked.join('; ')}.` : '';
  return where === 'here'
    ? `Checked in this process, which runs the restore itself while no worker serves the queue: ${what}.${also}`
    : `Checked ${where}, where restores run: ${what}.${also}`;
}

/**
 * `/restore` refused before asking anyone: what would make the restore fail, found where
 * restores run, and that nothing was asked or changed.
 */
export function restoreCannotRunMessage(
  plan: RestorePlan,
  problems: readonly RestoreProblem[],
): ChatMessage {
  const text = `This restore of ${plan.backupId} would fail, so it was not started and no approval was asked for:\n${problemLines(problems)}\nNothing was asked or changed. Fix the above and ask again; \`--dry-run\` checks without asking.`;
  return { text, blocks: [{ type: 'callout', tone: 'danger', text }] };
}

/** `/restore … --dry-run`: the whole plan, and the promise that nothing changed. */
export function restorePlanMessage(
  plan: RestorePlan,
  options: {
    readonly now: Date;
    readonly requestedBy: string;
    /** What approval the restore needs (`1 approver from dba, within 30 min`), or null. */
    readonly approval: string | null;
    /** How the restore was checked, and what would make it fail. @defaultValue not shown */
    readonly check?: RestoreCheckReport;
    /** The dry run as typed, for the command line that prints the plan whole. */
    readonly command?: string;
  },
): ChatMessage {
  const summary = `${plural(plan.components.length, 'component')} of ${plan.backupId}`;
  const blocks: Block[] = [
    { type: 'header', text: `Restore plan (dry run): ${summary}` },
    {
      type: 'callout',
      tone: 'info',
      text: 'Dry run: nothing was staged, restored or changed.',
    },
    {
      type: 'fields',
      fields: restoreFields(plan, options.now, {
        status: 'dry run',
        requestedBy: options.requestedBy,
      }),
    },
    ...componentSections(plan),
  ];
  const { check } = options;
  const problems = check ? blockingProblems(check) : [];
  if (check && !check.ran)
    blocks.push({ type: 'callout', tone: 'warning', text: uncheckedText(check) });
  if (problems.length > 0) {
    blocks.push({
      type: 'callout',
      tone: 'danger',
      text: `This restore would fail, so without --dry-run it is refused before anyone is asked to approve it:\n${problemLines(problems)}`,
    });
  } else if (options.approval) {
    blocks.push({
      type: 'callout',
      tone: 'warning',
      text: `Without --dry-run this restore asks for approval first: ${options.approval}. On approval a safety backup of each production destination is taken before it is restored.`,
    });
  } else {
    blocks.push({
      type: 'context',
      text: 'Every object is read back and checked (sha256, decryption, decompression) before any destination is touched. Run the same command without --dry-run to restore.',
    });
  }
  if (check?.ran && problems.length === 0) {
    blocks.push({ type: 'context', text: checkedText(check.where, check.checked) });
  }
  return {
    text: `Restore plan (dry run) for ${summary}: nothing was changed`,
    blocks,
    ...(options.command ? { fullResult: onCommandLine(options.command) } : {}),
  };
}
