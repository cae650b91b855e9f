import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { ManifestComponent } from '../backup/manifest.ts';
import { stageComponent } from '../backup/read-component.ts';
import { BackupError } from '../core/errors.ts';
import { plural } from '../core/format.ts';
import type { AgeIdentity } from '../crypto/age/index.ts';
import { restorerFor } from '../restore/restorers/index.ts';
import { createStagingDirectory } from '../staging/staging-area.ts';
import type { BackupStore } from '../storage/backup-store.ts';
import { type ScratchSettings, withScratchDestination } from './scratch-destination.ts';
import { type StructureCheck, structureCheckerFor } from './structure/index.ts';
import type { RestoreTestCheck } from './verification.ts';

/** Where level 3 restores and stages. */
export interface RestoreTestSettings extends ScratchSettings {
  /**
   * The staging root that staged copies and directory restores go under, in a private
   * directory of their own that is swept when its process dies. @defaultValue
   * `defaultStagingRoot()`
   */
  readonly directory?: string;
}

export interface RestoreTestOptions {
  readonly store: BackupStore;
  readonly backupId: string;
  readonly component: ManifestComponent;
  readonly identities: readonly AgeIdentity[];
  /** How messages name the component. */
  readonly context: string;
  readonly settings: RestoreTestSettings;
  readonly signal?: AbortSignal;
  /** Reports the step and, while bytes flow, how many of how many. */
  readonly onProgress?: (step: string, bytes: number, total: number) => void;
}

export interface RestoreTestOutcome {
  /** The structure check of the staged copy. */
  readonly structure: StructureCheck;
  readonly checks: readonly RestoreTestCheck[];
  /** What the restore could not compare, and why (a table the dump holds no data for). */
  readonly notChecked: readonly string[];
  /** For people: `restore test: 4 tables, row counts match`. */
  readonly summary: string;
}

/** Failing checks named one by one in a message before the rest are counted. */
const NAMED_CHECKS = 10;

/**
 * Level 3 for one component: stages the whole object (size, sha256, decryption, decompression
 * all checked before anything is restored), checks its structure, restores it into a scratch
 * destination with the component's restorer and compares the restorer's checks (row counts
 * against the manifest). The staged copy and the scratch destination are removed afterwards,
 * also when something failed or the signal aborted.
 */
export async function restoreTestComponent(
  options: RestoreTestOptions,
): Promise<RestoreTestOutcome> {
  const { component, context, signal } = options;
  const progress = options.onProgress ?? (() => {});
  const workDirectory = await createStagingDirectory('verify', options.settings.directory);
  try {
    progress('decrypting and staging', 0, component.rawBytes);
    const staged = await stageComponent({
      store: options.store,
      backupId: options.backupId,
      component,
      identities: options.identities,
      directory: workDirectory,
      ...(signal ? { signal } : {}),
    });
    const structure = await structureCheckerFor(component.kind)({
      raw: readLazily(staged.path),
      stagedFile: staged.path,
      component,
      context,
      ...(signal ? { signal } : {}),
      onBytes: (bytes) => progress('checking structure', bytes, component.rawBytes),
    });
    const result = await withScratchDestination(
      component,
      options.settings,
      workDirectory,
      signal,
      (destination) => {
        progress(`restoring into ${destination.name}`, 0, 0);
        return restorerFor(component.kind).restore({
          component,
          stagedFile: staged.path,
          destination,
          signal: signal ?? new AbortController().signal,
          onProgress: (message) => progress(`restoring: ${message}`, 0, 0),
        });
      },
    );
    const checks = result.checks.map((c) => ({
      name: c.name,
      expected: c.expected,
      actual: c.actual,
      ok: c.ok,
    }));
    const failing = checks.filter((c) => !c.ok);
    if (failing.length > 0 || !result.ok) {
      const named = failing
        .slice(0, NAMED_CHECKS)
        .map((c) => `${c.name}: ${c.expected} expected, ${c.actual} restored`);
      const more =
        failing.length > NAMED_CHECKS ? `; and ${failing.length - NAMED_CHECKS} more` : '';
      throw new BackupError(
        'restore_test_mismatch',
        `${context}: the test restore does not match the manifest: ${named.join('; ') || 'the restorer reported a failed check'}${more}`,
      );
    }
    return {
      structure,
      checks,
      notChecked: result.notChecked ?? [],
      summary: summarise(component, checks),
    };
  } finally {
    await rm(workDirectory, { recursive: true, force: true });
  }
}

/** The file's bytes, opened only when first read: a checker that never reads it leaks nothing. */
async function* readLazily(path: string): AsyncGenerator<Buffer> {
  for await (const chunk of createReadStream(path)) yield chunk as Buffer;
}

function summarise(component: ManifestComponent, checks: readonly RestoreTestCheck[]): string {
  if (component.kind === 'postgres') {
    return `restore test: ${plural(checks.length, 'table')}, row counts match`;
  }
  const figures = checks.map((c) => `${c.name} ${c.actual}`).join(', ');
  return `restore test: ${figures || 'restored'}${checks.length > 0 ? ', as the manifest records' : ''}`;
}
