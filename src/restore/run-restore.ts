import { rm, statfs } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Manifest, ManifestComponent } from '../backup/manifest.ts';
import type { ComponentProgress, ProgressListener } from '../backup/progress.ts';
import { type StagedComponent, stageComponent } from '../backup/read-component.ts';
import type { LifeboatConfig } from '../config/schema.ts';
import { LifeboatError, messageOf, PolicyError, RestoreError } from '../core/errors.ts';
import { formatBytes } from '../core/format.ts';
import type { AgeIdentity } from '../crypto/age/index.ts';
import { AGE_IDENTITY_FILE_VARIABLE, AGE_IDENTITY_VARIABLE } from '../crypto/age-identities.ts';
import { createStagingDirectory } from '../staging/staging-area.ts';
import type { BackupStore } from '../storage/backup-store.ts';
import type {
  ComponentRestorer,
  DestinationState,
  RestoreDestination,
  ValidationCheck,
} from './component-restorer.ts';
import { needsApproval, type PlannedComponent, type RestorePlan } from './plan-restore.ts';
import { restorerFor as defaultRestorerFor } from './restorers/index.ts';
import type { SafetyBackupReport } from './safety-backup.ts';
import type { UndoJournal } from './undo-journal.ts';

export interface RunRestoreOptions {
  readonly restoreId: string;
  readonly plan: RestorePlan;
  /** The backup's manifest: the sizes and checksums every object is checked against. */
  readonly manifest: Manifest;
  /** The config as it is now: destinations are looked up (and judged) again when the job runs. */
  readonly config: Pick<LifeboatConfig, 'targets' | 'policies'>;
  /**
   * An approval or break glass is on record for this restore, so destinations that need a
   * second person may be written. @defaultValue false: such destinations are refused
   */
  readonly authorized?: boolean;
  readonly store: BackupStore;
  /** age identities for encrypted components (see `loadAgeIdentities`). */
  readonly identities: readonly AgeIdentity[];
  /**
   * The staging root: the staged copies go into a private directory of their own under it,
   * removed afterwards, and swept by the next worker if this process dies first (see
   * `sweepStaging`). @defaultValue `defaultStagingRoot()`, under `TMPDIR`
   */
  readonly stagingDirectory?: string;
  readonly signal?: AbortSignal;
  /** Each component's progress, keyed by its name in the backup. */
  readonly onProgress?: ProgressListener;
  /**
   * Called once everything is staged, just before the first destination is touched: from then
   * on, running the restore again would write over a half-restored destination. The caller
   * holds the destinations' target locks around the whole restore.
   */
  readonly onWriting?: () => void;
  /**
   * Records each component's journal before its restorer writes the destination, and what it
   * left there once known (see `UndoRecorder`): the worker keeps both in the catalog, for the
   * sweep of a restore whose process died. @defaultValue nothing recorded
   */
  readonly undo?: {
    started(component: string, destination: string, journal: UndoJournal): Promise<void>;
    ended(component: string, state: DestinationState): Promise<void>;
  };
  /**
   * The catalog's URL: the postgres restorer refuses to replace the catalog's own database.
   * @defaultValue none
   */
  readonly catalogUrl?: string;
  /** @defaultValue the production restorers */
  readonly restorerFor?: (kind: ManifestComponent['kind']) => ComponentRestorer;
}

/** How one component's restore ended. */
export interface ComponentRestoreResult {
  readonly component: string;
  readonly destination: string;
  /** `skipped`: not started because an earlier component failed. */
  readonly status: 'restored' | 'failed' | 'skipped';
  /**
   * What the restore left in the destination: `restored` (and validated), `unchanged`,
   * `changed` (written to, not restored as the backup holds it), `unknown`. Absent in results
   * recorded before 0.4.
   */
  readonly destinationState?: DestinationState;
  /** What people should know besides the checks; absent before 0.4. */
  readonly notes?: readonly string[];
  readonly checks: readonly ValidationCheck[];
  /** What the manifest lists and the restore could not compare, and why; absent before 0.4. */
  readonly notChecked?: readonly string[];
  readonly tools: Readonly<Record<string, string>>;
  /** Restored, and every check matched. */
  readonly ok: boolean;
  readonly error: string | null;
  readonly durationMs: number;
}

export interface RestoreResults {
  readonly components: readonly ComponentRestoreResult[];
  /** Every component restored and every check matched. */
  readonly ok: boolean;
  /** Why it is not ok, for people; null when it is. */
  readonly error: string | null;
  readonly durationMs: number;
  /**
   * The backup of the production destinations taken before the restore (set by the worker,
   * which takes it); absent when no destination is in production.
   */
  readonly safetyBackup?: SafetyBackupReport;
}

/**
 * Checks a plan against the config as it is now without touching anything: every component is
 * in the backup, every destination is still configured with the right kind, and destinations
 * that need approval are written only when `authorized`. The worker calls it before it takes
 * the safety backup; {@link runRestore} calls it again.
 *
 * @throws PolicyError when a destination needs approval and none is on record, or when an
 * authorised restore's destination is in another environment than when it was approved;
 * RestoreError for a component or destination that no longer fits.
 */
export function checkRestore(
  options: Pick<RunRestoreOptions, 'plan' | 'manifest' | 'config' | 'authorized'>,
): void {
  for (const planned of options.plan.components) prepare(options, planned);
}

/**
 * Carries out a restore plan in two phases, so that a bad backup never touches a destination:
 *
 * 1. stage: every component's object is read back in full — size, sha256, age authentication,
 *    decompression — into a staging directory. Any failure here throws a `RestoreError` saying
 *    nothing was changed.
 * 2. restore: each component goes into its destination with
 *    its kind's restorer, one after another, and is validated (row counts, file counts) against
 *    the manifest. A component that fails stops the restore; the ones after it are skipped.
 *
 * The staging directory is removed however it ends.
 *
 * @throws PolicyError when a destination needs approval under the config as it is now and
 * the restore is not `authorized`; RestoreError when staging fails (nothing was changed).
 */
export async function runRestore(options: RunRestoreOptions): Promise<RestoreResults> {
  const clock = performance.now();
  const { plan, signal } = options;
  const restorerFor = restorersOf(options);
  const report = (progress: ComponentProgress) => {
    try {
      options.onProgress?.(progress);
    } catch {
      // A listener's failure is its own problem, never the restore's.
    }
  };
  const steps = plan.components.map((planned) => prepare(options, planned));
  for (const step of steps) report(progressOf(step.planned, 'waiting', 0, 'waiting'));
  assertIdentities(steps, options.identities);
  await preflight(steps, restorerFor);

  const staging = await createStagingDirectory('restore', options.stagingDirectory).catch(
    (error: unknown) => {
      throw new RestoreError(
        codeOf(error, 'restore_staging_failed'),
        `${messageOf(error)}; nothing was changed`,
        { cause: error },
      );
    },
  );
  try {
    await assertSpace(staging, steps);
    const staged: StagedComponent[] = [];
    for (const step of steps) {
      signal?.throwIfAborted();
      const { planned, component } = step;
      report(progressOf(planned, 'running', 0, 'staging: reading, checking and unpacking'));
      try {
        staged.push(
          await stageComponent({
            store: options.store,
            backupId: plan.backupId,
            component,
            identities: options.identities,
            directory: staging,
            ...(signal ? { signal } : {}),
          }),
        );
      } catch (error) {
        const message = `${messageOf(error)}. The restore stopped before touching any destination: nothing was changed`;
        report(progressOf(planned, 'failed', 0, message));
        throw new RestoreError(codeOf(error, 'restore_staging_failed'), message, { cause: error });
      }
      report(
        progressOf(
          planned,
          'waiting',
          component.rawBytes,
          'staged and checked; waiting to restore',
        ),
      );
    }

    signal?.throwIfAborted();
    options.onWriting?.();
    const results: ComponentRestoreResult[] = [];
    let failure: string | null = null;
    for (const [index, step] of steps.entries()) {
      const { planned, component, destination } = step;
      if (failure !== null) {
        results.push(skipped(planned));
        report(progressOf(planned, 'failed', 0, 'not started: an earlier component failed'));
        continue;
      }
      const started = performance.now();
      report(progressOf(planned, 'running', component.rawBytes, 'restoring'));
      let journalled = false;
      let stateRecorded = false;
      const undo = {
        started: async (journal: UndoJournal) => {
          await options.undo?.started(planned.component, destination.name, journal);
          journalled = true;
        },
        ended: async (state: DestinationState) => {
          if (journalled) await options.undo?.ended(planned.component, state);
          stateRecorded = true;
        },
      };
      // What the restorer did not record itself, once it returned or threw.
      const recordState = async (state: DestinationState) => {
        if (!stateRecorded && journalled) await undo.ended(state).catch(() => {});
      };
      try {
        const result = await restorerFor(component.kind).restore({
          component,
          stagedFile: (staged[index] as StagedComponent).path,
          destination,
          signal: signal ?? new AbortController().signal,
          onProgress: (message) =>
            report(progressOf(planned, 'running', component.rawBytes, message)),
          undo,
        });
        const ok = result.ok && result.checks.every((c) => c.ok);
        const durationMs = Math.round(performance.now() - started);
        const state = result.destinationState ?? (ok ? 'restored' : 'changed');
        await recordState(state);
        // A restorer that found the mismatch before it changed anything (or put it all back).
        const undone = !ok && state === 'unchanged';
        const error = ok
          ? null
          : `${mismatches(result.checks)}${undone ? '; the destination is unchanged' : ''}`;
        results.push({
          component: planned.component,
          destination: destination.name,
          status: undone ? 'failed' : 'restored',
          checks: result.checks,
          notChecked: result.notChecked ?? [],
          notes: result.notes ?? [],
          tools: result.tools,
          ok,
          destinationState: state,
          error,
          durationMs,
        });
        if (error !== null) failure = `${planned.component} → ${destination.name}: ${error}`;
        report(
          progressOf(
            planned,
            ok ? 'done' : 'failed',
            component.rawBytes,
            ok
              ? `restored and validated; ${checkSummary(result.checks)}`
              : undone
                ? `not restored: ${error}`
                : `restored, but ${error}`,
          ),
        );
      } catch (error) {
        await recordState(
          error instanceof RestoreError && error.destination ? error.destination : 'unknown',
        );
        if (signal?.aborted) throw error;
        const message = messageOf(error);
        failure = `${planned.component} → ${destination.name}: ${message}`;
        results.push({
          component: planned.component,
          destination: destination.name,
          status: 'failed',
          destinationState:
            error instanceof RestoreError && error.destination ? error.destination : 'unknown',
          checks: [],
          tools: {},
          ok: false,
          error: message,
          durationMs: Math.round(performance.now() - started),
        });
        report(progressOf(planned, 'failed', component.rawBytes, message));
      }
    }
    return {
      components: results,
      ok: failure === null,
      error: failure === null ? null : describeFailure(results, failure),
      durationMs: Math.round(performance.now() - clock),
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

interface Step {
  readonly planned: PlannedComponent;
  readonly component: ManifestComponent;
  readonly destination: RestoreDestination;
}

/** The manifest entry and the destination of a planned component, judged by today's config. */
function prepare(
  options: Pick<RunRestoreOptions, 'manifest' | 'config' | 'authorized'>,
  planned: PlannedComponent,
): Step {
  const component = options.manifest.components.find((c) => c.name === planned.component);
  if (!component) {
    throw new RestoreError(
      'restore_unknown_component',
      `backup ${options.manifest.id} has no component ${planned.component}; nothing was changed`,
    );
  }
  const config = options.config.targets[planned.destination];
  if (!config) {
    throw new RestoreError(
      'restore_destination_missing',
      `the target ${planned.destination} is no longer in the configuration; nothing was changed`,
    );
  }
  if (config.kind !== component.kind) {
    throw new RestoreError(
      'restore_kind_mismatch',
      `${planned.destination} is now a ${config.kind} target and ${component.name} a ${component.kind} backup; nothing was changed`,
    );
  }
  if (options.authorized && config.environment !== planned.environment) {
    // The approval (or break glass) was judged on the environment the plan recorded.
    throw new PolicyError(
      'restore_environment_changed',
      `${planned.destination} was ${planned.environment} when the restore was asked for and approved, and is now ${config.environment}: the approval was judged on ${planned.environment}'s policy, so it does not cover this; nothing was changed. Run /restore again to ask for an approval under today's policy`,
    );
  }
  if (!options.authorized && needsApproval(options.config, config.environment)) {
    throw new PolicyError(
      'restore_needs_approval',
      `restoring into ${planned.destination} (${config.environment}) needs a second person's approval, and this restore has none on record; nothing was changed. Ask for one with \`/restore\` again: it opens an approval request`,
    );
  }
  return { planned, component, destination: { name: planned.destination, config } };
}

function assertIdentities(steps: readonly Step[], identities: readonly AgeIdentity[]): void {
  const encrypted = steps.filter((s) => s.component.encryption !== null);
  if (encrypted.length === 0 || identities.length > 0) return;
  const names = encrypted.map((s) => s.component.name).join(', ');
  throw new RestoreError(
    'age_no_identity',
    `${names} ${encrypted.length === 1 ? 'is' : 'are'} encrypted, and no age identity is configured to open ${encrypted.length === 1 ? 'it' : 'them'}: set ${AGE_IDENTITY_VARIABLE} to the AGE-SECRET-KEY-1… line, or ${AGE_IDENTITY_FILE_VARIABLE} to an age identity file, on the worker. Nothing was changed`,
  );
}

/** Refuses to start staging what cannot fit, rather than failing half way with a full disk. */
async function assertSpace(directory: string, steps: readonly Step[]): Promise<void> {
  const needed = steps.reduce((sum, s) => sum + s.component.rawBytes, 0);
  const info = await statfs(directory).catch(() => undefined);
  if (!info) return;
  const free = info.bavail * info.bsize;
  if (needed > free) {
    throw new RestoreError(
      'restore_staging_space',
      `staging needs ${formatBytes(needed)} in ${directory}, and only ${formatBytes(free)} is free; free some space or set the staging directory elsewhere. Nothing was changed`,
    );
  }
}

function progressOf(
  planned: PlannedComponent,
  phase: ComponentProgress['phase'],
  bytes: number,
  message: string,
): ComponentProgress {
  return {
    component: planned.component,
    phase,
    rawBytes: bytes,
    storedBytes: 0,
    expectedBytes: planned.rawBytes,
    bytesPerSecond: 0,
    message,
  };
}

function skipped(planned: PlannedComponent): ComponentRestoreResult {
  return {
    component: planned.component,
    destination: planned.destination,
    status: 'skipped',
    destinationState: 'unchanged',
    checks: [],
    tools: {},
    ok: false,
    error: 'not started: an earlier component failed',
    durationMs: 0,
  };
}

function mismatches(checks: readonly ValidationCheck[]): string {
  const failing = checks.filter((c) => !c.ok);
  if (failing.length === 0) return 'the restorer reported a failed check';
  const named = failing
    .slice(0, 5)
    .map((c) => `${c.name}: ${c.expected} expected, ${c.actual} found`);
  const more = failing.length > 5 ? `, and ${failing.length - 5} more` : '';
  return `the restored data does not match the backup (${named.join('; ')}${more})`;
}

function checkSummary(checks: readonly ValidationCheck[]): string {
  if (checks.length === 0) return 'nothing to compare';
  return `${checks.length} ${checks.length === 1 ? 'check' : 'checks'} match the backup`;
}

/** The failure, then what the restore left in each destination. */
function describeFailure(results: readonly ComponentRestoreResult[], failure: string): string {
  const states = results.map((r) =>
    describeDestinationState(r.destination, r.destinationState ?? 'unknown', r.status),
  );
  return `${failure}. ${states.join('; ')}`;
}

/**
 * What a restore left in one destination, for people: `staging-db: restored and validated`,
 * `staging-db: unchanged`, …
 */
export function describeDestinationState(
  destination: string,
  state: DestinationState,
  status?: ComponentRestoreResult['status'],
): string {
  switch (state) {
    case 'restored':
      return `${destination}: restored and validated`;
    case 'unchanged':
      return status === 'skipped'
        ? `${destination}: not started, unchanged`
        : `${destination}: unchanged`;
    case 'changed':
      return `${destination}: changed and not as the backup holds it; restore it again before using it`;
    case 'unknown':
      return `${destination}: may be partly changed; check it before using it`;
  }
}

/** The restorers to use, with the catalog protected when its URL is known. */
function restorersOf(
  options: Pick<RunRestoreOptions, 'restorerFor' | 'catalogUrl'>,
): (kind: ManifestComponent['kind']) => ComponentRestorer {
  if (options.restorerFor) return options.restorerFor;
  const settings = options.catalogUrl === undefined ? {} : { catalogUrl: options.catalogUrl };
  return (kind) => defaultRestorerFor(kind, settings);
}

/**
 * Runs every restorer's preflight before anything is staged: a destination the restore would
 * refuse is refused while nothing is changed.
 */
async function preflight(
  steps: readonly Step[],
  restorerFor: (kind: ManifestComponent['kind']) => ComponentRestorer,
): Promise<void> {
  for (const { component, destination } of steps) {
    const restorer = restorerFor(component.kind);
    try {
      await restorer.preflight?.(component, destination);
    } catch (error) {
      throw new RestoreError(
        codeOf(error, 'restore_refused'),
        `${component.name} → ${destination.name}: ${messageOf(error)}. Nothing was changed`,
        { cause: error, destination: 'unchanged' },
      );
    }
  }
}

/**
 * Runs the restorers' preflights for a plan (see {@link runRestore}, which runs them again):
 * the worker calls it before it takes a safety backup, so a refused restore takes none.
 *
 * @throws RestoreError naming the component and why, saying nothing was changed
 */
export async function preflightRestore(
  options: Pick<
    RunRestoreOptions,
    'plan' | 'manifest' | 'config' | 'authorized' | 'restorerFor' | 'catalogUrl'
  >,
): Promise<void> {
  const steps = options.plan.components.map((planned) => prepare(options, planned));
  await preflight(steps, restorersOf(options));
}

function codeOf(error: unknown, fallback: string): string {
  return error instanceof LifeboatError ? error.code : fallback;
}
