import { performance } from 'node:perf_hooks';
import { MANIFEST_OBJECT, type Manifest, type ManifestComponent } from '../backup/manifest.ts';
import type { ComponentProgress } from '../backup/progress.ts';
import { componentKey, openComponent } from '../backup/read-component.ts';
import { readManifest } from '../backup/read-manifest.ts';
import { type CataloguedBackup, readCataloguedManifest } from '../backup/stored-manifest.ts';
import { BackupError, LifeboatError } from '../core/errors.ts';
import { formatBytes } from '../core/format.ts';
import type { AgeIdentity } from '../crypto/age/index.ts';
import { splitPassword } from '../postgres/connection-url.ts';
import type { BackupStore } from '../storage/backup-store.ts';
import { backupObjectKey } from '../storage/object-key.ts';
import { checkStoredObject } from './check-stored-object.ts';
import { type RestoreTestSettings, restoreTestComponent } from './restore-test.ts';
import { structureCheckerFor } from './structure/index.ts';
import {
  type ComponentVerification,
  couldNotVerify,
  outcomeOf,
  type VerificationLevel,
  type VerificationOutcome,
  type VerificationReport,
} from './verification.ts';
import { chooseLevel } from './verification-level.ts';

export interface VerifyBackupOptions {
  readonly store: BackupStore;
  readonly backupId: string;
  readonly level: VerificationLevel;
  /**
   * `level` is the default, not asked for: an encrypted backup with no identity to open it is
   * then checked at level 1 with a note, instead of failing (see `chooseLevel`). @defaultValue false
   */
  readonly defaultLevel?: boolean;
  /**
   * The catalog's record of the backup: the manifest in the store must agree with its copy, or
   * the verification fails saying how they differ. @defaultValue the stored manifest as it is
   */
  readonly catalogued?: CataloguedBackup;
  /** The config's replica stores, so a backup recorded in none of its stores is refused. */
  readonly replicas?: readonly BackupStore[];
  /** Age identities for encrypted components (level 2 and up). @defaultValue none */
  readonly identities?: readonly AgeIdentity[];
  /** Where level 3 restores; required for level 3. */
  readonly restoreTest?: RestoreTestSettings;
  /** Aborting it stops the verification and throws; a restore test still cleans up. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ComponentProgress) => void;
}

/** The progress step of level 1, whose bytes are stored bytes. */
const CHECKSUM_STEP = 'checking sha256';

/** What one component's check needs, whatever its level. */
interface ComponentRun {
  readonly options: VerifyBackupOptions;
  readonly component: ManifestComponent;
  readonly key: string;
  /** `component app-db (/backups/bk_…/app-db.dump.zst)`, as the messages name it. */
  readonly context: string;
  /** Reports bytes read of `total` during `step`. */
  readonly progress: (step: string, bytes: number, total: number) => void;
}

/** What a level found before the common fields are filled in. */
type ComponentFindings = Pick<
  ComponentVerification,
  'bytes' | 'rawBytes' | 'sha256' | 'checked' | 'notChecked' | 'structure' | 'restoreChecks'
>;

/**
 * Verifies one backup as stored: reads its manifest from the store (storage is the truth; with
 * `catalogued`, it must agree with the catalog's copy), then
 * checks every component at `level`, one after another. A component that fails does not stop
 * the others, so one run names every broken component. Failures are results, not exceptions:
 * this throws only when the signal aborts it. The `outcome` tells a verdict (`failed`: the
 * backup was read and is bad) from a check that could not run (`error`: see `couldNotCheck`).
 */
export async function verifyBackup(options: VerifyBackupOptions): Promise<VerificationReport> {
  const clock = performance.now();
  const { store, backupId } = options;
  let level = options.level;
  let notes: readonly string[] = [];
  const finish = (
    components: ComponentVerification[],
    error: string | null,
    outcome: VerificationOutcome = error === null ? 'passed' : outcomeOf(components),
  ): VerificationReport => ({
    backupId,
    level,
    ok: outcome === 'passed',
    outcome,
    components,
    error: outcome === 'error' && error !== null ? couldNotVerify(error) : error,
    notes,
    scratch:
      level === 3 && options.restoreTest
        ? splitPassword(options.restoreTest.postgresUrl).url
        : null,
    durationMs: Math.round(performance.now() - clock),
  });

  let manifest: Manifest;
  try {
    manifest = options.catalogued
      ? await readCataloguedManifest([store, ...(options.replicas ?? [])], options.catalogued)
      : await readManifest(store, backupId);
  } catch (error) {
    options.signal?.throwIfAborted();
    // A manifest missing, invalid or disagreeing is a verdict; a store that did not answer is not.
    return finish([], messageOf(error), isManifestVerdict(error) ? 'failed' : 'error');
  }
  const choice = chooseLevel({
    manifest,
    requested: options.level,
    explicit: options.defaultLevel !== true,
    hasIdentity: (options.identities ?? []).length > 0,
  });
  level = choice.level;
  notes = choice.notes;
  if (choice.refusal !== null) return finish([], choice.refusal, 'error');
  const run = { ...options, level };
  for (const component of manifest.components) emit(options, waiting(component.name));
  const checked: ComponentVerification[] = [];
  for (const component of manifest.components) {
    options.signal?.throwIfAborted();
    checked.push(await verifyComponent(run, component));
  }
  // Bytes read from a file deleted meanwhile still hash right: what passed must still be there.
  const components = await stillStored(options, manifest, checked);
  const failures = components.flatMap((c) => (c.error ? [c.error.message] : []));
  return finish(components, failures.length > 0 ? failures.join('\n') : null);
}

async function verifyComponent(
  options: VerifyBackupOptions,
  component: ManifestComponent,
): Promise<ComponentVerification> {
  const clock = performance.now();
  let key: string;
  try {
    key = componentKey(options.backupId, component);
  } catch (error) {
    return unverifiable(component, error, clock);
  }
  let lastBytes = 0;
  let storedBytesRead = 0;
  const run: ComponentRun = {
    options,
    component,
    key,
    context: `component ${component.name} (${options.store.describe(key)})`,
    progress: (step, bytes, total) => {
      lastBytes = bytes;
      if (step === CHECKSUM_STEP) storedBytesRead = bytes;
      const seconds = (performance.now() - clock) / 1000;
      emit(options, {
        component: component.name,
        phase: 'running',
        rawBytes: bytes,
        storedBytes: bytes,
        expectedBytes: Math.max(total, bytes),
        bytesPerSecond: seconds > 0 ? Math.round(bytes / seconds) : 0,
        message: step,
      });
    },
  };
  const base = { name: component.name, kind: component.kind, key };
  try {
    const findings =
      options.level === 1
        ? await checksums(run)
        : options.level === 2
          ? await structure(run)
          : await restoreTest(run);
    const result: ComponentVerification = {
      ...base,
      ok: true,
      ...findings,
      error: null,
      durationMs: Math.round(performance.now() - clock),
    };
    emit(options, { ...done(component.name, findings.rawBytes ?? findings.bytes), phase: 'done' });
    return result;
  } catch (error) {
    options.signal?.throwIfAborted();
    const failure = describeFailure(run, error);
    emit(options, {
      ...done(component.name, lastBytes),
      phase: 'failed',
      message: failure.message,
    });
    return {
      ...base,
      ok: false,
      bytes: storedBytesRead,
      rawBytes: null,
      sha256: null,
      checked: [],
      notChecked: [],
      structure: null,
      restoreChecks: null,
      error: failure,
      durationMs: Math.round(performance.now() - clock),
    };
  }
}

/** A component that could not be checked at all (its object name is not a safe key). */
function unverifiable(
  component: ManifestComponent,
  error: unknown,
  clock: number,
): ComponentVerification {
  const code = error instanceof LifeboatError ? error.code : 'verify_failed';
  return {
    name: component.name,
    kind: component.kind,
    key: component.object,
    ok: false,
    bytes: 0,
    rawBytes: null,
    sha256: null,
    checked: [],
    notChecked: [],
    structure: null,
    restoreChecks: null,
    error: { code, message: `component ${component.name}: ${messageOf(error)}` },
    durationMs: Math.round(performance.now() - clock),
  };
}

/**
 * The components as checked, with those whose object (or the manifest) is gone from the store
 * now, or changed size, failed as `object_vanished`: a verification only passes a backup that
 * is still stored as it was read.
 */
async function stillStored(
  options: VerifyBackupOptions,
  manifest: Manifest,
  checked: readonly ComponentVerification[],
): Promise<ComponentVerification[]> {
  const { store, backupId } = options;
  const problem = async (key: string, bytes: number | null): Promise<string | null> => {
    try {
      const found = await store.stat(key);
      if (!found) return `${store.describe(key)} disappeared from the store while it was verified`;
      if (bytes !== null && found.bytes !== bytes) {
        return `${store.describe(key)} changed while it was verified: ${found.bytes} bytes now, ${bytes} read`;
      }
      return null;
    } catch (error) {
      return `${UNCHECKED}${store.describe(key)} is still stored: ${messageOf(error)}`;
    }
  };
  const manifestProblem = await problem(backupObjectKey(backupId, MANIFEST_OBJECT), null);
  const out: ComponentVerification[] = [];
  for (const result of checked) {
    if (!result.ok) {
      out.push(result);
      continue;
    }
    const component = manifest.components.find((c) => c.name === result.name);
    const why = manifestProblem ?? (await problem(result.key, component?.bytes ?? null));
    out.push(
      why === null
        ? result
        : {
            ...result,
            ok: false,
            error: {
              code: why.startsWith(UNCHECKED) ? 'store_unreachable' : 'object_vanished',
              message: `component ${result.name}: ${why}`,
            },
          },
    );
  }
  return out;
}

/** How a failure to look at the store again begins: no verdict on the backup. */
const UNCHECKED = 'could not check that ';

/**
 * Whether a failure to read the manifest is a verdict on the backup (its manifest is missing,
 * invalid, or disagrees with the catalog) rather than a check that could not run (the store
 * did not answer, the backup lives in another config's store, the catalog's copy is unusable).
 */
function isManifestVerdict(error: unknown): boolean {
  return (
    error instanceof LifeboatError &&
    ['manifest_not_found', 'manifest_invalid', 'manifest_disagrees'].includes(error.code)
  );
}

/** Level 1: the stored bytes' size and sha256. */
async function checksums(run: ComponentRun): Promise<ComponentFindings> {
  const { component } = run;
  const figures = await checkStoredObject({
    store: run.options.store,
    key: run.key,
    component,
    ...(run.options.signal ? { signal: run.options.signal } : {}),
    onBytes: (bytes) => run.progress(CHECKSUM_STEP, bytes, component.bytes),
  });
  return {
    bytes: figures.bytes,
    rawBytes: null,
    sha256: figures.sha256,
    checked: [`${formatBytes(figures.bytes)}, sha256 ok`],
    notChecked: [],
    structure: null,
    restoreChecks: null,
  };
}

/** Level 2: level 1 in the same read, decryption and decompression to the end, structure. */
async function structure(run: ComponentRun): Promise<ComponentFindings> {
  const { component, options } = run;
  const raw = await openComponent({
    store: options.store,
    backupId: options.backupId,
    component,
    identities: options.identities ?? [],
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const check = await structureCheckerFor(component.kind)({
    raw,
    component,
    context: run.context,
    ...(options.signal ? { signal: options.signal } : {}),
    onBytes: (bytes) =>
      run.progress('decrypting and checking structure', bytes, component.rawBytes),
  });
  assertRawBytes(run, check.rawBytes);
  return {
    bytes: component.bytes,
    rawBytes: check.rawBytes,
    sha256: component.sha256,
    checked: [...openedChecks(component), ...check.checked],
    notChecked: [...check.notChecked],
    structure: check.figures,
    restoreChecks: null,
  };
}

/** Level 3: level 2 on a staged copy, then a restore into a scratch destination. */
async function restoreTest(run: ComponentRun): Promise<ComponentFindings> {
  const { component, options } = run;
  if (!options.restoreTest) {
    throw new LifeboatError('verify_no_scratch', 'a restore test needs scratch settings');
  }
  const tested = await restoreTestComponent({
    store: options.store,
    backupId: options.backupId,
    component,
    identities: options.identities ?? [],
    context: run.context,
    settings: options.restoreTest,
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: (step, bytes, total) => run.progress(step, bytes, total),
  });
  assertRawBytes(run, tested.structure.rawBytes);
  return {
    bytes: component.bytes,
    rawBytes: tested.structure.rawBytes,
    sha256: component.sha256,
    checked: [...openedChecks(component), ...tested.structure.checked, tested.summary],
    notChecked: [...tested.structure.notChecked, ...tested.notChecked],
    structure: tested.structure.figures,
    restoreChecks: tested.checks,
  };
}

/** What reading a component to its end through {@link openComponent} proved. */
function openedChecks(component: ManifestComponent): string[] {
  return [
    `${formatBytes(component.bytes)}, sha256 ok`,
    ...(component.encryption ? ['decrypted (age)'] : []),
    ...(component.compression === 'none' ? [] : [`decompressed (${component.compression})`]),
  ];
}

function assertRawBytes(run: ComponentRun, rawBytes: number): void {
  if (rawBytes !== run.component.rawBytes) {
    throw new BackupError(
      'raw_size_mismatch',
      `${run.context}: ${rawBytes} bytes after decryption and decompression, the manifest records ${run.component.rawBytes}`,
    );
  }
}

function describeFailure(
  run: ComponentRun,
  error: unknown,
): { readonly code: string; readonly message: string } {
  const code = error instanceof LifeboatError ? error.code : 'verify_failed';
  const message = messageOf(error);
  // Every message names the component and its object, whoever raised it.
  const named = message.includes(run.component.name) ? message : `${run.context}: ${message}`;
  return { code, message: named };
}

function waiting(component: string): ComponentProgress {
  return {
    component,
    phase: 'waiting',
    rawBytes: 0,
    storedBytes: 0,
    expectedBytes: null,
    bytesPerSecond: 0,
  };
}

function done(component: string, bytes: number): ComponentProgress {
  return { ...waiting(component), rawBytes: bytes, storedBytes: bytes, expectedBytes: bytes };
}

/** A listener's failure is its own problem, never the verification's. */
function emit(options: VerifyBackupOptions, progress: ComponentProgress): void {
  try {
    options.onProgress?.(progress);
  } catch {
    // ignored on purpose
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
