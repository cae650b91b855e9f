import { type ComponentProgress, waitingProgress } from '../../src/backup/progress.ts';
import type {
  BackupCatalogView,
  BackupJobs,
  BackupListFilter,
  BackupOutcome,
  BackupRecord,
  BackupRequest,
  Services,
  StatusReport,
  SystemStatus,
} from '../../src/bot/services.ts';
import type { LifeboatConfig } from '../../src/config/schema.ts';
import { newBackupId } from '../../src/core/ids.ts';
import { componentsOf, sampleManifest } from './sample-backups.ts';

/** The catalog's backups, in memory. */
export class InMemoryBackupCatalog implements BackupCatalogView {
  readonly records = new Map<string, BackupRecord>();

  add(...records: BackupRecord[]): void {
    for (const record of records) this.records.set(record.id, record);
  }

  async list(filter: BackupListFilter): Promise<BackupRecord[]> {
    return [...this.records.values()]
      .filter((r) => filter.profile === undefined || r.profile === filter.profile)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
      .slice(0, filter.limit);
  }

  async get(id: string): Promise<BackupRecord | undefined> {
    return this.records.get(id);
  }
}

/** What the next enqueued backup does when followed. */
export type BackupScript =
  | { readonly kind: 'complete' }
  | { readonly kind: 'fail'; readonly error: string; readonly failing: string }
  /** `follow` itself throws, as when the queue connection drops. */
  | { readonly kind: 'lose-track'; readonly error: Error };

/**
 * Jobs that run instantly: `follow` reports each component running at half its expected size,
 * then done, then completes (or fails, as scripted), and records the outcome in the catalog.
 */
export class InMemoryBackupJobs implements BackupJobs {
  readonly requests: BackupRequest[] = [];
  private readonly scripts: BackupScript[] = [];
  private readonly config: LifeboatConfig;
  private readonly catalog: InMemoryBackupCatalog;
  private readonly now: () => Date;
  /** Thrown by the next `enqueue`, as when Redis is down. */
  enqueueError: Error | undefined;

  constructor(config: LifeboatConfig, catalog: InMemoryBackupCatalog, now: () => Date) {
    this.config = config;
    this.catalog = catalog;
    this.now = now;
  }

  /** Scripts the next backups, in order; unscripted ones complete. */
  script(...scripts: BackupScript[]): void {
    this.scripts.push(...scripts);
  }

  async enqueue(request: BackupRequest): Promise<{ backupId: string; jobId: string }> {
    if (this.enqueueError) throw this.enqueueError;
    this.requests.push(request);
    const id = newBackupId(request.profile, this.now());
    this.catalog.add({
      id,
      profile: request.profile,
      status: 'queued',
      note: request.note,
      requestedBy: request.requestedBy,
      createdAt: this.now(),
      startedAt: null,
      finishedAt: null,
      bytes: null,
      error: null,
      location: null,
      manifest: null,
      targets: this.config.profiles[request.profile]?.targets ?? [],
    });
    return { backupId: id, jobId: `job-${this.requests.length}` };
  }

  async follow(
    backupId: string,
    onProgress: (components: readonly ComponentProgress[]) => void,
  ): Promise<BackupOutcome> {
    const record = this.catalog.records.get(backupId);
    if (!record) throw new Error(`no backup ${backupId}`);
    const script = this.scripts.shift() ?? { kind: 'complete' };
    if (script.kind === 'lose-track') throw script.error;

    const expected = 8 * 1024 * 1024;
    const state = new Map<string, ComponentProgress>(
      record.targets.map((name) => [name, { ...waitingProgress(name), expectedBytes: expected }]),
    );
    const report = async (progress: ComponentProgress): Promise<void> => {
      state.set(progress.component, progress);
      onProgress([...state.values()]);
      await Promise.resolve();
    };
    for (const name of record.targets) {
      const base = { component: name, expectedBytes: expected };
      await report({
        ...base,
        phase: 'running',
        rawBytes: expected / 2,
        storedBytes: expected / 6,
        bytesPerSecond: 2 * 1024 * 1024,
      });
      if (script.kind === 'fail' && script.failing === name) {
        await report({
          ...base,
          phase: 'failed',
          rawBytes: expected / 2,
          storedBytes: expected / 6,
          bytesPerSecond: 0,
          message: script.error,
        });
        const failed: BackupRecord = {
          ...record,
          status: 'failed',
          error: script.error,
          finishedAt: this.now(),
        };
        this.catalog.add(failed);
        return { status: 'failed', backup: failed, error: script.error };
      }
      await report({
        ...base,
        phase: 'done',
        rawBytes: expected,
        storedBytes: expected / 3,
        bytesPerSecond: 2 * 1024 * 1024,
      });
    }

    const components = componentsOf(this.config, record.profile);
    const location = `/var/lib/lifeboat/backups/${record.id}`;
    const manifest = sampleManifest(record, components, location, record.createdAt);
    const completed: BackupRecord = {
      ...record,
      status: 'completed',
      startedAt: record.createdAt,
      finishedAt: new Date(record.createdAt.getTime() + manifest.durationMs),
      bytes: components.reduce((sum, c) => sum + c.bytes, 0),
      location,
      manifest,
    };
    this.catalog.add(completed);
    return { status: 'completed', backup: completed };
  }
}

/** A status report that tests set as they like. */
export class FixedSystemStatus implements SystemStatus {
  current: StatusReport;
  constructor(report: StatusReport) {
    this.current = report;
  }
  async report(): Promise<StatusReport> {
    return this.current;
  }
}

export interface InMemoryServices extends Services {
  readonly backups: InMemoryBackupCatalog;
  readonly backupJobs: InMemoryBackupJobs;
  readonly status: FixedSystemStatus;
}

export function inMemoryServices(config: LifeboatConfig, now: () => Date): InMemoryServices {
  const backups = new InMemoryBackupCatalog();
  return {
    backups,
    backupJobs: new InMemoryBackupJobs(config, backups, now),
    status: new FixedSystemStatus({
      services: [
        { name: 'PostgreSQL', ok: true, detail: '127.0.0.1:5432' },
        { name: 'Redis', ok: true, detail: '127.0.0.1:6379' },
      ],
      workers: 1,
      queue: { waiting: 0, active: 0, failed: 0 },
      profiles: Object.entries(config.profiles).map(([profile, p]) => ({
        profile,
        schedule: p.schedule ?? null,
        lastSuccess: null,
        lastFailure: null,
      })),
    }),
  };
}
