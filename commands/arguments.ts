import { z } from 'zod';
import { type FlagSpec, flag, positional } from '../src/core/command-grammar.ts';
import { isBackupId } from '../src/core/ids.ts';

/**
 * Validators for the words commands take (their messages finish "`x` is not a valid …: "), and
 * the positionals and flags that several commands share.
 */

const BACKUP_ID_EXAMPLE = 'bk_20261122T020000Z_full_7q3k';

export const backupId = z
  .string()
  .refine(isBackupId, `a backup id looks like ${BACKUP_ID_EXAMPLE} (\`/backup list\` shows them)`);

/** A backup id or `latest` (the newest completed backup of the profile). */
export const backupRef = z
  .string()
  .refine(
    (value) => value === 'latest' || isBackupId(value),
    `give a backup id like ${BACKUP_ID_EXAMPLE}, or \`latest\``,
  );

export const requestId = z
  .string()
  .regex(
    /^apr_[A-Za-z0-9_-]+$/,
    'an approval request id looks like apr_…; `/approvals` lists the open ones',
  );

export const runId = z
  .string()
  .regex(/^run_[A-Za-z0-9_-]+$/, 'a runbook run id looks like run_…; `/runbook status` lists them');

/**
 * A profile, target, drill or runbook name. Kept loose here: whether it exists is checked
 * against the config, which lists the valid names.
 */
export const name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'names are letters, digits, "-", "_" and "."');

/** `KEY=VALUE`, a runbook parameter. */
export const parameter = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_-]*=/, 'parameters look like KEY=VALUE')
  .transform((entry) => {
    const eq = entry.indexOf('=');
    return { key: entry.slice(0, eq), value: entry.slice(eq + 1) };
  });

/** A checklist item number, counted from 1. */
export const itemNumber = z
  .string()
  .regex(/^\d+$/, 'give the item number, counting from 1')
  .transform(Number)
  .pipe(z.number().int().min(1, 'items are counted from 1').max(1000));

/** Free text such as a rejection reason. */
export const text = z.string().min(1);

/** `--profile P`: the profile a command is limited to, or that `latest` refers to. */
export function profileFlag(description: string): FlagSpec<'profile', string | undefined> {
  return flag.string({
    name: 'profile',
    value: 'P',
    description,
    schema: name,
    refersTo: 'profile',
  });
}

/** `--profile P` for the commands that take {@link backupRefPositional}. */
export const latestProfileFlag = profileFlag('The profile `latest` refers to.');

/** The `ID|latest` positional of a command that acts on one backup. */
export const backupRefPositional = positional({
  key: 'backup',
  name: 'ID|latest',
  required: true,
  description: 'A backup id, or `latest` for the newest backup of the profile.',
  schema: backupRef,
  suggests: 'backup',
});
