import type {
  BackupCatalogView,
  BackupRecord,
  PlannedRestore,
  RestoreEnqueueOptions,
  RestoreOutcome,
  RestoreRequest,
  Restores,
} from '../../src/app/services.ts';
import type { ManifestComponent } from '../../src/backup/manifest.ts';
import type { ComponentProgress } from '../../src/backup/progress.ts';
import { resolveProfile } from '../../src/config/profiles.ts';
import type { LifeboatConfig } from '../../src/config/schema.ts';
import { CommandError, PolicyError } from '../../src/core/errors.ts';
import { newBackupId, newRestoreId } from '../../src/core/ids.ts';
import { planFor, restorableBackup } from '../../src/jobs/restore-jobs.ts';
import type { DestinationState, ValidationCheck } from '../../src/restore/component-restorer.ts';
import { approvalRefusal, type RestorePlan } from '../../src/restore/plan-restore.ts';
import type { RestoreProblem, UncheckedRestore } from '../../src/restore/restore-checks.ts';
import type { RestoreAuthorization, RestoreRecord } from '../../src/restore/restore-record.ts';
import type { ComponentRestoreResult } from '../../src/restore/run-restore.ts';
import { type SafetyBackupReport, safetyBackupTargets } from '../../src/restore/safety-backup.ts';

/** What the next enqueued restore does when followed. */
export type RestoreScript =
  | { readonly kind: 'complete' }
  /**
   * `failing` fails (its checks do not match when `mismatch`), leaving its destination as
   * `left` says (unchanged unless told); the ones after it are skipped.
   */
  | {
      readonly kind: 'fail';
      readonly failing: string;
      readonly error: string;
      readonly mismatch?: boolean;
      readonly left?: DestinationState;
    }
  /** The safety backup of the production destinations fails: nothing is restored. */
  | { readonly kind: 'safety-backup-fails'; readonly error: string }
  /** Following fails (the bot lost its connection); the restore stays queued, as a worker has it. */
  | { readonly kind: 'lose-track'; readonly error: string };

/**
 * Restores that run instantly with the real planning: `follow` takes a safety backup of the
 * production destinations (an id and a report, nothing stored), reports each component staged,
 * restoring, then done with checks equal to the manifest's figures (or fails, as scripted), and
 * records the outcome. Like the real ones, `enqueue` refuses a plan that needs approval unless an
 * authorization is given, and is idempotent for a given id.
 */
export class InMemoryRestores implements Restores {
  readonly records = new Map<string, RestoreRecord>();
  readonly enqueued: {
    plan: RestorePlan;
    requestedBy: string;
    id: string;
    authorization: RestoreAuthorization | null;
  }[] = [];
  private readonly scripts: RestoreScript[] = [];
  private readonly config: LifeboatConfig;
  private readonly catalog: BackupCatalogView & { readonly records: Map<string, BackupRecord> };
  private readonly now: () => Date;

  constructor(
    config: LifeboatConfig,
    catalog: BackupCatalogView & { readonly records: Map<string, BackupRecord> },
    now: () => Date,
  ) {
    this.config = config;
    this.catalog = catalog;
    this.now = now;
  }

  /** What `plan` finds would make the restore fail, on a worker; tests set it. */
  problems: RestoreProblem[] = [];

  /** Set, `plan` says no worker could check the restore, and why; tests set it. */
  unchecked: UncheckedRestore | undefined;

  /** Scripts the next restores, in order; unscripted ones complete. */
  script(...scripts: RestoreScript[]): void {
    this.scripts.push(...scripts);
  }

  async plan(request: RestoreRequest): Promise<PlannedRestore> {
    let backup = this.catalog.records.get(request.backup);
    if (request.backup === 'latest') {
      const profile = resolveProfile(this.config, request.profile);
      [backup] = (await this.catalog.list({ profile, limit: 1000 })).filter(
        (b) => b.status === 'completed',
      );
      if (!backup) {
        throw new CommandError('restore_no_backup', `profile ${profile} has no completed backup`);
      }
    }
    backup = restorableBackup(request.backup, backup);
    const check = this.unchecked
      ? { ran: false as const, ...this.unchecked }
      : { ran: true as const, where: 'on the worker test-worker', problems: [...this.problems] };
    return { ...planFor(this.config, backup, request), check };
  }

  async enqueue(
    plan: RestorePlan,
    requestedBy: string,
    options: RestoreEnqueueOptions = {},
  ): Promise<{ restoreId: string }> {
    const authorization = options.authorization ?? null;
    if (authorization === null) {
      const refusal = approvalRefusal(plan, this.config);
      if (refusal) throw new PolicyError('restore_needs_approval', refusal);
    }
    if (options.id !== undefined && this.records.has(options.id)) return { restoreId: options.id };
    const record = this.record(plan, requestedBy, {
      ...(options.id !== undefined ? { id: options.id } : {}),
      authorization,
    });
    this.enqueued.push({ plan, requestedBy, id: record.id, authorization });
    return { restoreId: record.id };
  }

  async follow(
    restoreId: string,
    onProgress: (components: readonly ComponentProgress[]) => void,
  ): Promise<RestoreOutcome> {
    const record = this.records.get(restoreId);
    if (!record) throw new Error(`no restore ${restoreId}`);
    const script = this.scripts.shift() ?? { kind: 'complete' };
    if (script.kind === 'lose-track') throw new Error(script.error);
    const manifest = this.catalog.records.get(record.plan.backupId)?.manifest;
    const state = new Map<string, ComponentProgress>();
    const report = (
      planned: RestorePlan['components'][number],
      phase: ComponentProgress['phase'],
      message: string,
    ) => {
      state.set(planned.component, {
        component: planned.component,
        phase,
        rawBytes: phase === 'waiting' ? 0 : planned.rawBytes,
        storedBytes: 0,
        expectedBytes: planned.rawBytes,
        bytesPerSecond: 0,
        message,
      });
      onProgress([...state.values()]);
    };
    const safety = this.safetyBackup(record, script);
    if (safety?.status === 'failed') {
      for (const planned of record.plan.components) {
        report(planned, 'waiting', `safety backup failed: ${safety.error}`);
      }
      const error = `safety backup failed: ${safety.error}; nothing was changed`;
      const failed: RestoreRecord = {
        ...record,
        status: 'failed',
        startedAt: this.now(),
        finishedAt: this.now(),
        results: { components: [], ok: false, error, durationMs: 0, safetyBackup: safety },
        error,
      };
      this.records.set(failed.id, failed);
      return { status: 'failed', restore: failed, error };
    }
    for (const target of safety?.targets ?? []) {
      const planned = record.plan.components.find((c) => c.destination === target);
      if (planned) report(planned, 'waiting', `safety backup ${safety?.backupId}: saved`);
    }
    const results: ComponentRestoreResult[] = [];
    let failure: string | null = null;
    for (const planned of record.plan.components) {
      if (failure) {
        report(planned, 'failed', 'not started: an earlier component failed');
        results.push({
          ...base(planned),
          status: 'skipped',
          destinationState: 'unchanged',
          ok: false,
          error: 'not started',
        });
        continue;
      }
      report(planned, 'running', 'staging: reading, checking and unpacking');
      report(planned, 'running', 'restoring');
      const component = manifest?.components.find((c) => c.name === planned.component);
      let checks = component ? checksOf(component) : [];
      if (script.kind === 'fail' && script.failing === planned.component) {
        failure = `${planned.component} → ${planned.destination}: ${script.error}`;
        if (script.mismatch) {
          checks = checks.map((c, i) =>
            i === 0 ? { ...c, actual: c.expected - 1, ok: false } : c,
          );
        }
        report(planned, 'failed', script.error);
        results.push({
          ...base(planned),
          status: script.mismatch ? 'restored' : 'failed',
          destinationState: script.left ?? 'unchanged',
          checks: script.mismatch ? checks : [],
          ok: false,
          error: script.error,
        });
        continue;
      }
      report(planned, 'done', `restored; ${checks.length} checks match the backup`);
      results.push({ ...base(planned), checks });
    }
    const ended: RestoreRecord = {
      ...record,
      status: failure ? 'failed' : 'completed',
      safetyBackupId: safety?.status === 'completed' ? safety.backupId : null,
      startedAt: this.now(),
      finishedAt: new Date(this.now().getTime() + 9_000),
      results: {
        components: results,
        ok: failure === null,
        error: failure,
        durationMs: 9_000,
        ...(safety ? { safetyBackup: safety } : {}),
      },
      error: failure,
    };
    this.records.set(ended.id, ended);
    return failure
      ? { status: 'failed', restore: ended, error: failure }
      : { status: 'completed', restore: ended };
  }

  /** The safety backup the worker would take of the production destinations, if any. */
  private safetyBackup(record: RestoreRecord, script: RestoreScript): SafetyBackupReport | null {
    const targets = safetyBackupTargets(record.plan, this.config).map((t) => t.name);
    if (targets.length === 0) return null;
    const failed = script.kind === 'safety-backup-fails';
    return {
      status: failed ? 'failed' : 'completed',
      backupId: newBackupId('safety', this.now()),
      targets: failed ? [] : targets,
      skipped: [],
      bytes: failed ? 0 : 4_096,
      durationMs: 1_000,
      error: failed ? script.error : null,
    };
  }

  private record(
    plan: RestorePlan,
    requestedBy: string,
    options: { id?: string; authorization?: RestoreAuthorization | null } = {},
  ): RestoreRecord {
    const record: RestoreRecord = {
      id: options.id ?? newRestoreId(this.now()),
      backupId: plan.backupId,
      profile: plan.profile,
      requestedBy,
      status: 'queued',
      plan,
      authorization: options.authorization ?? null,
      safetyBackupId: null,
      results: null,
      error: null,
      createdAt: this.now(),
      startedAt: null,
      finishedAt: null,
    };
    this.records.set(record.id, record);
    return record;
  }
}

function base(planned: RestorePlan['components'][number]): ComponentRestoreResult {
  return {
    component: planned.component,
    destination: planned.destination,
    status: 'restored',
    destinationState: 'restored',
    checks: [],
    tools: {},
    ok: true,
    error: null,
    durationMs: 3_000,
  };
}

/** The checks a real restorer reports when everything matches the manifest. */
function checksOf(component: ManifestComponent): ValidationCheck[] {
  const same = (name: string, n: number) => ({ name, expected: n, actual: n, ok: true });
  switch (component.source.kind) {
    case 'postgres':
      return component.source.tables.map((t) => same(`${t.schema}.${t.table} rows`, t.rows));
    case 'directory':
      return [
        same('files', component.source.files),
        same('directories', component.source.directories),
        same('bytes', component.source.bytes),
      ];
    case 'redis':
      return [same('keys', component.source.keys)];
  }
}
