import type { BackupRecord } from '../src/app/services.ts';
import { backupWarnings } from '../src/backup/component-warnings.ts';
import type { ComponentProgress } from '../src/backup/progress.ts';
import { type CommandContext, type CommandResult, defineCommand } from '../src/bot/command.ts';
import { commandButton } from '../src/bot/command-buttons.ts';
import { liveMessage } from '../src/bot/live-message.ts';
import { backupDetailsMessage } from '../src/bot/views/backup-details.ts';
import { backupListMessage } from '../src/bot/views/backup-list.ts';
import {
  type BackupRun,
  backupCompletedMessage,
  backupFailedMessage,
  backupLostMessage,
  backupProgressMessage,
  backupQueuedMessage,
} from '../src/bot/views/backup-run.ts';
import { invalidInputMessage } from '../src/bot/views/notice.ts';
import { prunePlanMessage, pruneRunningMessage } from '../src/bot/views/prune-plan.ts';
import {
  type VerifyRun,
  verifyLostMessage,
  verifyProgressMessage,
  verifyQueuedMessage,
  verifyResultMessage,
} from '../src/bot/views/verify-result.ts';
import { resolveProfile } from '../src/config/profiles.ts';
import { flag, positional } from '../src/core/command-grammar.ts';
import { CommandError, describeForUser } from '../src/core/errors.ts';
import type { PruneReport } from '../src/retention/prune.ts';
import {
  DEFAULT_VERIFICATION_LEVEL,
  type VerificationLevel,
  type VerificationRecord,
} from '../src/verify/verification.ts';
import {
  backupId,
  backupRefPositional,
  latestProfileFlag,
  name,
  profileFlag,
} from './arguments.ts';

const onlyProfileFlag = profileFlag('Only this profile.');

export const backupCreate = defineCommand({
  path: ['backup', 'create'],
  summary: 'Take a backup of a profile now.',
  description:
    'Queues the backup and keeps one message up to date: one progress line per component, then sizes, checksums, duration and where it is stored. A failure posts the error with a Retry button.',
  positionals: [
    positional({
      key: 'profile',
      name: 'PROFILE',
      required: false,
      description: "The profile to back up; defaults to the config's defaultProfile.",
      schema: name,
      refersTo: 'profile',
    }),
  ],
  flags: [
    flag.string({ name: 'note', value: 'TEXT', description: 'A note kept with the backup.' }),
    flag.boolean('no-replicate', 'Store it in the primary store only; skip the replicas.'),
  ],
  action: 'backup.create',
  gated: true,
  enqueues: true,
  examples: ['/backup create', '/backup create db --note "before the 2.4 migration"'],
  handler: (ctx, args) =>
    createBackup(ctx, { profile: args.profile, note: args.note, replicate: !args.noReplicate }),
});

export const backupList = defineCommand({
  path: ['backup', 'list'],
  summary: 'List recent backups, newest first.',
  positionals: [],
  flags: [
    onlyProfileFlag,
    flag.int({
      name: 'limit',
      value: 'N',
      description: 'How many to show.',
      min: 1,
      max: 1000,
      defaultValue: 20,
    }),
  ],
  action: 'backup.list',
  gated: false,
  enqueues: false,
  examples: ['/backup list', '/backup list --profile db --limit 5'],
  handler: async (ctx, args) => {
    const backups = await ctx.services.backups.list({
      ...(args.profile ? { profile: args.profile } : {}),
      limit: args.limit,
    });
    const verifications = await ctx.services.verifications.latestForEach(backups.map((b) => b.id));
    await ctx.reply.post(
      backupListMessage(backups, {
        now: ctx.now(),
        limit: args.limit,
        verifications,
        ...(args.profile ? { profile: args.profile } : {}),
      }),
    );
    return {
      status: 'ok',
      backups: backups.map((b) => ({
        ...summary(b),
        lastVerification: verificationSummary(verifications.get(b.id)),
      })),
    };
  },
});

export const backupShow = defineCommand({
  path: ['backup', 'show'],
  summary: 'Show one backup: components, checksums, row counts, tools and where it is stored.',
  positionals: [
    positional({
      key: 'id',
      name: 'ID',
      required: true,
      description: 'The backup id (bk_…); `/backup list` shows them.',
      schema: backupId,
      suggests: 'backup',
    }),
  ],
  flags: [],
  action: 'backup.show',
  gated: false,
  enqueues: false,
  handler: async (ctx, args) => {
    const backup = await ctx.services.backups.get(args.id);
    if (!backup) {
      const error = `There is no backup \`${args.id}\` in the catalog. \`/backup list\` shows the recent ones.`;
      await ctx.reply.postPrivately(invalidInputMessage(error));
      return { status: 'invalid', id: args.id, error };
    }
    const verification = await ctx.services.verifications.latestFor(backup.id);
    await ctx.reply.post(backupDetailsMessage(backup, ctx.now(), verification));
    return {
      status: 'ok',
      id: backup.id,
      backup,
      lastVerification: verificationSummary(verification),
    };
  },
});

export const backupVerify = defineCommand({
  path: ['backup', 'verify'],
  summary: 'Verify a backup: checksums, structure, or a full test restore.',
  description:
    'Level 1 re-reads every object and compares its sha256 with the manifest (no key needed); level 2, the default, also decrypts and decompresses it to the end and checks its structure; level 3 (--restore-test) also restores into a scratch target and compares row counts. Without --level, an encrypted backup the worker has no key for is checked at level 1, and the result says so.',
  positionals: [backupRefPositional],
  flags: [
    latestProfileFlag,
    flag.boolean(
      'restore-test',
      'Level 3: also restore into a scratch target and compare row counts.',
    ),
    flag.int({
      name: 'level',
      value: '1|2|3',
      description: '1 checksums (no key needed), 2 structure, 3 restore test.',
      min: 1,
      max: 3,
    }),
  ],
  action: 'backup.verify',
  gated: true,
  enqueues: true,
  examples: [
    '/backup verify latest',
    '/backup verify bk_20261122T020000Z_full_7q3k --level 1',
    '/backup verify latest --profile db --restore-test',
  ],
  handler: (ctx, args) =>
    verifyBackup(ctx, {
      backup: args.backup,
      profile: args.profile,
      level: verificationLevel(args.level, args.restoreTest),
    }),
});

/**
 * The level `--level` and `--restore-test` ask for (the latter is level 3), or undefined for the
 * default. @throws CommandError when they disagree.
 */
function verificationLevel(
  level: number | undefined,
  restoreTest: boolean,
): VerificationLevel | undefined {
  if (restoreTest && level !== undefined && level !== 3) {
    throw new CommandError(
      'verify_level_conflict',
      `--restore-test is level 3, and --level asks for ${level}: give one of them (\`--level ${level}\`, or \`--restore-test\` for level 3)`,
    );
  }
  if (restoreTest) return 3;
  return level === undefined ? undefined : (level as VerificationLevel);
}

export const backupPrune = defineCommand({
  path: ['backup', 'prune'],
  summary: "Delete backups that the profiles' retention policies no longer keep.",
  positionals: [],
  flags: [
    onlyProfileFlag,
    flag.boolean('dry-run', 'List what would be deleted and why; delete nothing.'),
  ],
  action: 'backup.prune',
  gated: true,
  enqueues: true,
  examples: ['/backup prune --dry-run', '/backup prune --profile full'],
  handler: (ctx, args) => pruneBackups(ctx, { profile: args.profile, dryRun: args.dryRun }),
});

export const backupCommands = [backupCreate, backupList, backupShow, backupVerify, backupPrune];

/**
 * `/backup prune`: a dry run plans from the catalog as it is now, right here; a real prune runs
 * as a job (it deletes from storage) and the message shows its report when it is done.
 */
async function pruneBackups(
  ctx: CommandContext,
  options: { readonly profile: string | undefined; readonly dryRun: boolean },
): Promise<CommandResult> {
  const request = {
    ...(options.profile ? { profile: options.profile } : {}),
    requestedBy: ctx.requestedBy,
  };
  let report: PruneReport;
  if (options.dryRun) {
    report = await ctx.services.retention.plan(request);
    await ctx.reply.post(prunePlanMessage(report));
  } else {
    const ref = await ctx.reply.post(pruneRunningMessage(options.profile));
    report = await ctx.services.retention.prune(request);
    await ctx.reply.update(ref, prunePlanMessage(report));
  }
  const failed = report.profiles.some((p) => p.failures.length > 0);
  return {
    status: failed ? 'failed' : 'ok',
    dryRun: report.dryRun,
    profiles: report.profiles.map((p) => ({
      profile: p.profile,
      hasPolicy: p.policy !== null,
      deleted: p.deleted.map((b) => ({ id: b.id, reasons: b.reasons })),
      kept: p.kept.map((b) => ({ id: b.id, reasons: b.reasons })),
      freedBytes: p.freedBytes,
      keptBytes: p.keptBytes,
      notes: p.notes,
      failures: p.failures,
      elsewhere: p.elsewhere,
      inUse: p.inUse,
    })),
  };
}

interface BackupCreateRequest {
  readonly profile: string | undefined;
  readonly note: string | undefined;
  readonly replicate: boolean;
}

async function createBackup(
  ctx: CommandContext,
  request: BackupCreateRequest,
): Promise<CommandResult> {
  const profile = resolveProfile(ctx.config, request.profile);
  const note = request.note ?? null;
  const { backupId: id } = await ctx.services.backupJobs.enqueue({
    profile,
    note,
    requestedBy: ctx.requestedBy,
    replicate: request.replicate,
  });
  await ctx.onStarted?.(id);
  const run: BackupRun = {
    id,
    profile,
    components: ctx.config.profiles[profile]?.targets ?? [],
    requestedBy: ctx.requestedBy,
    note,
    replicate: request.replicate,
  };
  const ref = await ctx.reply.post(backupQueuedMessage(run));
  const live = liveMessage(ctx.reply, ref, {
    intervalMs: ctx.progressIntervalMs,
    onError: (error) => ctx.logger.warn({ err: error, backupId: id }, 'progress update failed'),
  });

  let latest: readonly ComponentProgress[] = [];
  let outcome: Awaited<ReturnType<typeof ctx.services.backupJobs.follow>>;
  try {
    outcome = await ctx.services.backupJobs.follow(id, (progress) => {
      latest = progress;
      live.progress(backupProgressMessage(run, progress));
    });
  } catch (error) {
    ctx.logger.error({ err: error, backupId: id }, 'lost track of a backup');
    const message = describeForUser(error, id);
    await live.finish(backupLostMessage(run, message));
    return { status: 'failed', id, profile, error: message };
  }

  if (outcome.status === 'completed') {
    await live.finish(backupCompletedMessage(outcome.backup));
    return { status: 'completed', ...completedSummary(outcome.backup) };
  }
  const retry = commandButton(
    'Retry',
    `/backup create ${profile}${request.replicate ? '' : ' --no-replicate'}`,
    'primary',
  );
  await live.finish(backupFailedMessage(run, outcome.error, latest, retry));
  return {
    status: 'failed',
    id,
    profile,
    error: outcome.error,
    requestedBy: ctx.requestedBy,
    components: run.components,
  };
}

function completedSummary(backup: BackupRecord) {
  const manifest = backup.manifest;
  const components = manifest?.components ?? [];
  const warnings = backupWarnings(manifest);
  return {
    id: backup.id,
    // Completed, but something the targets held is not in it: the CLI exits 4.
    incomplete: warnings.some((w) => w.kind === 'incomplete'),
    warnings,
    profile: backup.profile,
    bytes: backup.bytes ?? components.reduce((sum, c) => sum + c.bytes, 0),
    durationMs:
      manifest?.durationMs ??
      (backup.finishedAt && backup.startedAt
        ? backup.finishedAt.getTime() - backup.startedAt.getTime()
        : null),
    location: backup.location ?? manifest?.storage[0]?.location ?? null,
    requestedBy: backup.requestedBy,
    note: backup.note,
    components: components.map((c) => ({
      name: c.name,
      kind: c.kind,
      object: c.object,
      bytes: c.bytes,
      rawBytes: c.rawBytes,
      sha256: c.sha256,
      durationMs: c.durationMs,
    })),
  };
}

/**
 * A verification for `--json`: `status` is `passed`, `failed` (the backup was checked and is
 * bad), `error` (it could not check: nothing is known), `queued` or `running`.
 */
function verificationSummary(verification: VerificationRecord | undefined) {
  return verification
    ? {
        id: verification.id,
        status: verification.status,
        level: verification.level,
        finishedAt: verification.finishedAt?.toISOString() ?? null,
        error: verification.error,
      }
    : null;
}

function summary(backup: BackupRecord) {
  return {
    id: backup.id,
    profile: backup.profile,
    status: backup.status,
    bytes: backup.bytes,
    note: backup.note,
    requestedBy: backup.requestedBy,
    createdAt: backup.createdAt.toISOString(),
    finishedAt: backup.finishedAt?.toISOString() ?? null,
    location: backup.location,
    error: backup.error,
  };
}

/**
 * `/backup verify`: queues the verification and keeps one message up to date, one line per
 * component, ending with ✓/✗ per component and what was checked. Returns `passed`, `failed`
 * (the backup is bad: exit 1) or `error` (it could not check: exit 3); the CLI exits 0 only
 * for `passed`.
 */
async function verifyBackup(
  ctx: CommandContext,
  request: {
    readonly backup: string;
    readonly profile: string | undefined;
    readonly level: VerificationLevel | undefined;
  },
): Promise<CommandResult> {
  const { verificationId: id, backup } = await ctx.services.verifications.enqueue({
    backup: request.backup,
    ...(request.profile ? { profile: request.profile } : {}),
    ...(request.level !== undefined ? { level: request.level } : {}),
    requestedBy: ctx.requestedBy,
  });
  await ctx.onStarted?.(id);
  const run: VerifyRun = {
    id,
    backupId: backup.id,
    profile: backup.profile,
    level: request.level ?? DEFAULT_VERIFICATION_LEVEL,
    components: backup.manifest?.components.map((c) => c.name) ?? [...backup.targets],
    requestedBy: ctx.requestedBy,
  };
  const ref = await ctx.reply.post(verifyQueuedMessage(run));
  const live = liveMessage(ctx.reply, ref, {
    intervalMs: ctx.progressIntervalMs,
    onError: (error) =>
      ctx.logger.warn({ err: error, verificationId: id }, 'progress update failed'),
  });
  const summary = { id, backup: backup.id, profile: backup.profile, level: run.level };
  let record: Awaited<ReturnType<typeof ctx.services.verifications.follow>>;
  try {
    record = await ctx.services.verifications.follow(id, (progress) =>
      live.progress(verifyProgressMessage(run, progress)),
    );
  } catch (error) {
    ctx.logger.error({ err: error, verificationId: id }, 'lost track of a verification');
    const message = describeForUser(error, id);
    await live.finish(verifyLostMessage(run, message));
    return { status: 'failed', ...summary, error: message };
  }
  await live.finish(verifyResultMessage(run, record));
  return {
    status: record.status === 'passed' ? 'passed' : record.status === 'error' ? 'error' : 'failed',
    ...summary,
    // The level that ran: the default falls back to 1 when no key opens the backup.
    level: record.level,
    notes: record.results?.notes ?? [],
    requestedBy: record.requestedBy,
    durationMs: record.results?.durationMs ?? null,
    error: record.error,
    components: (record.results?.components ?? []).map((c) => ({
      name: c.name,
      kind: c.kind,
      key: c.key,
      ok: c.ok,
      bytes: c.bytes,
      rawBytes: c.rawBytes,
      sha256: c.sha256,
      checked: c.checked,
      notChecked: c.notChecked,
      structure: c.structure,
      restoreChecks: c.restoreChecks,
      error: c.error,
      durationMs: c.durationMs,
    })),
  };
}
