import { performance } from 'node:perf_hooks';
import type { Compression, TargetConfig } from '../config/schema.ts';
import { BackupError, LifeboatError } from '../core/errors.ts';
import { ageEncryptionStage } from '../crypto/age/index.ts';
import type { BackupStore } from '../storage/backup-store.ts';
import { LIFEBOAT_VERSION } from '../version.ts';
import {
  MANIFEST_FORMAT,
  MANIFEST_OBJECT,
  type Manifest,
  type ManifestComponent,
  manifestSchema,
} from './manifest.ts';
import {
  compressionExtension,
  type PipelineCounts,
  type PipelineStage,
  streamToStore,
} from './pipeline.ts';
import { type ComponentProgress, type ProgressListener, waitingProgress } from './progress.ts';
import { MAX_MANIFEST_BYTES } from './read-manifest.ts';
import type { BackupSource, OpenedSource } from './sources/backup-source.ts';
import { createSource } from './sources/create-source.ts';

/** One configured target to back up, by its name in the config. */
export interface BackupTarget {
  readonly name: string;
  readonly config: TargetConfig;
}

export interface RunBackupOptions {
  /** The backup id (`bk_…`); every object goes under `<id>/`. */
  readonly id: string;
  readonly profile: string;
  readonly note: string | null;
  /** The identity that asked for it: `slack:U012AB3CD`, `schedule:full`. */
  readonly requestedBy: string;
  /** The components, backed up in this order. */
  readonly targets: readonly BackupTarget[];
  readonly compression: Compression;
  /**
   * Encrypt every component with age to these public recipients, after compression; the
   * objects get a `.age` suffix. @defaultValue unencrypted
   */
  readonly encryption?: { readonly recipients: readonly string[] };
  readonly store: BackupStore;
  readonly onProgress?: ProgressListener;
  /** Aborting it stops the running tool and leaves nothing in the store. */
  readonly signal?: AbortSignal;
  /** The clock for the manifest's timestamps. @defaultValue `() => new Date()` */
  readonly now?: () => Date;
  /** @defaultValue the version in package.json */
  readonly lifeboatVersion?: string;
}

/**
 * Takes one backup: each target through its source and the stream pipeline into the store, then
 * `<id>/manifest.json`, written last because a backup without a manifest is incomplete.
 *
 * Components run one after another, not in parallel: the load on the databases and disks being
 * backed up stays that of one pg_dump or tar at a time, a failing component stops the backup
 * before more work is wasted, and progress reads top to bottom.
 *
 * On any failure — a source, the store, an abort — every object written under `<id>/` is
 * deleted, no manifest is written, and a `BackupError` naming the component is thrown.
 */
export async function runBackup(options: RunBackupOptions): Promise<Manifest> {
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const clock = performance.now();
  const plans = planComponents(options.targets);
  const encryption = planEncryption(options.encryption);
  for (const plan of plans) emit(options.onProgress, waitingProgress(plan.target.name));

  const components: ManifestComponent[] = [];
  let running: string | undefined;
  try {
    for (const plan of plans) {
      running = plan.target.name;
      options.signal?.throwIfAborted();
      components.push(await backupComponent(plan, encryption, options));
    }
    running = undefined;
    options.signal?.throwIfAborted();
    const manifest = manifestSchema.parse({
      format: MANIFEST_FORMAT,
      id: options.id,
      profile: options.profile,
      note: options.note,
      requestedBy: options.requestedBy,
      lifeboatVersion: options.lifeboatVersion ?? LIFEBOAT_VERSION,
      startedAt: startedAt.toISOString(),
      finishedAt: now().toISOString(),
      durationMs: Math.round(performance.now() - clock),
      storage: [{ store: options.store.name, location: options.store.describe(options.id) }],
      components,
    } satisfies Manifest);
    const bytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    if (bytes.length > MAX_MANIFEST_BYTES) {
      // Never a backup whose manifest cannot be read back (verified, restored, rebuilt).
      throw new BackupError(
        'manifest_too_large',
        `its manifest would be ${(bytes.length / 2 ** 20).toFixed(1)} MiB, larger than a manifest may be (${MAX_MANIFEST_BYTES / 2 ** 20} MiB)`,
      );
    }
    await options.store.putBytes(`${options.id}/${MANIFEST_OBJECT}`, bytes);
    return manifest;
  } catch (error) {
    const failure = describeFailure(options, running, error);
    if (running) {
      emit(options.onProgress, {
        ...waitingProgress(running),
        phase: 'failed',
        message: failure.message,
      });
    }
    try {
      await options.store.deleteAll(`${options.id}/`);
    } catch (cleanupError) {
      failure.message += ` (removing its partial objects failed too: ${messageOf(cleanupError)})`;
    }
    throw failure;
  }
}

/** The age stage and the manifest's record of it, or none for unencrypted backups. */
interface EncryptionPlan {
  readonly stages: readonly PipelineStage[];
  readonly extension: string;
  readonly manifest: ManifestComponent['encryption'];
}

/** A malformed recipient fails the backup before any source runs. */
function planEncryption(encryption: RunBackupOptions['encryption']): EncryptionPlan {
  if (!encryption) return { stages: [], extension: '', manifest: null };
  let stage: PipelineStage;
  try {
    stage = ageEncryptionStage(encryption.recipients);
  } catch (error) {
    const code = error instanceof LifeboatError ? error.code : 'backup_invalid';
    throw new BackupError(code, `the encryption recipients are invalid: ${messageOf(error)}`, {
      cause: error,
    });
  }
  return {
    stages: [stage],
    extension: '.age',
    manifest: { format: 'age', recipients: [...encryption.recipients] },
  };
}

interface ComponentPlan {
  readonly target: BackupTarget;
  readonly source: BackupSource;
}

/** Every target's source, before anything runs: a target that cannot be backed up fails fast. */
function planComponents(targets: readonly BackupTarget[]): ComponentPlan[] {
  if (targets.length === 0)
    throw new BackupError('backup_empty', 'a backup needs at least one target');
  const seen = new Set<string>();
  return targets.map((target) => {
    if (seen.has(target.name)) {
      throw new BackupError('backup_invalid', `the target ${target.name} is listed twice`);
    }
    seen.add(target.name);
    try {
      return { target, source: createSource(target.name, target.config) };
    } catch (error) {
      throw componentError(target.name, error);
    }
  });
}

async function backupComponent(
  plan: ComponentPlan,
  encryption: EncryptionPlan,
  options: RunBackupOptions,
): Promise<ManifestComponent> {
  const { name } = plan.target;
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const clock = performance.now();
  const object = `${name}.${plan.source.objectSuffix}${compressionExtension(options.compression)}${encryption.extension}`;

  // The component's own signal also stops its source when the pipeline fails downstream.
  const controller = new AbortController();
  const forward = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', forward, { once: true });
  let opened: OpenedSource | undefined;
  try {
    opened = await plan.source.open(controller.signal);
    const expected = opened.expectedBytes;
    const progress = (phase: 'running' | 'done', counts: PipelineCounts): ComponentProgress => {
      const seconds = (performance.now() - clock) / 1000;
      return {
        component: name,
        phase,
        rawBytes: counts.rawBytes,
        storedBytes: counts.storedBytes,
        // Estimates can fall short (tar headers, dump overhead); a bar never passes 100 %.
        expectedBytes:
          phase === 'done'
            ? counts.rawBytes
            : expected === null
              ? null
              : Math.max(expected, counts.rawBytes),
        bytesPerSecond: seconds > 0 ? Math.round(counts.rawBytes / seconds) : 0,
      };
    };
    emit(options.onProgress, progress('running', { rawBytes: 0, storedBytes: 0 }));
    const stored = await streamToStore({
      source: opened.stream,
      store: options.store,
      key: `${options.id}/${object}`,
      compression: options.compression,
      stages: encryption.stages,
      signal: controller.signal,
      onProgress: (counts) => emit(options.onProgress, progress('running', counts)),
    });
    const result = await opened.finished;
    emit(options.onProgress, progress('done', stored));
    return {
      name,
      kind: plan.source.kind,
      object,
      bytes: stored.storedBytes,
      sha256: stored.sha256,
      rawBytes: stored.rawBytes,
      compression: options.compression,
      encryption: encryption.manifest,
      tools: result.tools,
      startedAt: startedAt.toISOString(),
      finishedAt: now().toISOString(),
      durationMs: Math.round(performance.now() - clock),
      source: result.source,
      warnings: [...result.warnings],
    };
  } catch (error) {
    if (!controller.signal.aborted) controller.abort(error);
    // Let the source let go (tool exited, transaction ended) before its objects are removed.
    await opened?.finished.catch(() => {});
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', forward);
  }
}

function describeFailure(
  options: RunBackupOptions,
  component: string | undefined,
  error: unknown,
): BackupError {
  if (options.signal?.aborted) {
    const reason = messageOf(options.signal.reason);
    const what = component ? `backup of ${component}` : `backup ${options.id}`;
    return new BackupError('backup_aborted', `${what} was cancelled: ${reason}`, { cause: error });
  }
  if (component) return componentError(component, error);
  const code = error instanceof LifeboatError ? error.code : 'backup_failed';
  return new BackupError(
    code,
    `writing the manifest of ${options.id} failed: ${messageOf(error)}`,
    {
      cause: error,
    },
  );
}

function componentError(component: string, error: unknown): BackupError {
  const code = error instanceof LifeboatError ? error.code : 'backup_failed';
  return new BackupError(code, `backup of ${component} failed: ${messageOf(error)}`, {
    cause: error,
  });
}

/** A listener's failure is its own problem, never the backup's. */
function emit(listener: ProgressListener | undefined, progress: ComponentProgress): void {
  try {
    listener?.(progress);
  } catch {
    // ignored on purpose
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
