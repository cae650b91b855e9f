import type {
  BackupCatalogView,
  BackupJobs,
  BackupListFilter,
  BackupOutcome,
  BackupRecord,
  BackupRequest,
  Retention,
  Services,
  StatusReport,
  SystemStatus,
  VerificationRequest,
  Verifications,
} from '../../src/app/services.ts';
import { createApprovals } from '../../src/approvals/approvals-service.ts';
import { type ComponentProgress, waitingProgress } from '../../src/backup/progress.ts';
import type { RetentionRepository } from '../../src/catalog/retention-repository.ts';
import type { LifeboatConfig } from '../../src/config/schema.ts';
import { CommandError } from '../../src/core/errors.ts';
import { newBackupId, newVerificationId } from '../../src/core/ids.ts';
import { type PruneReport, prune } from '../../src/retention/prune.ts';
import type { BackupStore } from '../../src/storage/backup-store.ts';
import type { ComponentVerification, VerificationRecord } from '../../src/verify/verification.ts';
import { InMemoryApprovals } from './in-memory-approvals.ts';
import { InMemoryAudit } from './in-memory-audit.ts';
import { InMemoryRestores } from './in-memory-restores.ts';
import { type InMemoryRunbooks, inMemoryRunbooks } from './in-memory-runbooks.ts';
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
      .filter((r) => filter.includePruned || r.status !== 'pruned')
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

/**
 * Retention over the in-memory catalog, with the real selection and prune logic: `verified`
 * holds the ids whose most recent verification passed, `elsewhere` where backups of another
 * config live; a prune marks records pruned and deletes from
 * `stores` (none unless a test adds one). `prune` runs at once instead of through a queue.
 */
export class InMemoryRetention implements Retention {
  readonly verified = new Set<string>();
  /** Backups recorded in another config's store, by id: where. */
  readonly elsewhere = new Map<string, string>();
  /** Backups something reads now, by id: who (`restore rs_…`). */
  readonly inUse = new Map<string, string>();
  readonly stores: BackupStore[] = [];
  readonly requests: { profile?: string; requestedBy: string; dryRun: boolean }[] = [];
  private readonly config: LifeboatConfig;
  private readonly catalog: InMemoryBackupCatalog;
  private readonly now: () => Date;

  constructor(config: LifeboatConfig, catalog: InMemoryBackupCatalog, now: () => Date) {
    this.config = config;
    this.catalog = catalog;
    this.now = now;
  }

  plan(request: { profile?: string; requestedBy: string }): Promise<PruneReport> {
    return this.run(request, true);
  }

  prune(request: { profile?: string; requestedBy: string }): Promise<PruneReport> {
    return this.run(request, false);
  }

  private run(request: { profile?: string; requestedBy: string }, dryRun: boolean) {
    this.requests.push({ ...request, dryRun });
    const repository: RetentionRepository = {
      candidates: async (profile) =>
        [...this.catalog.records.values()]
          .filter((r) => r.profile === profile && r.status === 'completed')
          .map((r) => ({
            id: r.id,
            createdAt: r.createdAt,
            bytes: r.bytes ?? 0,
            location: this.elsewhere.get(r.id) ?? null,
            verifications: this.verified.has(r.id)
              ? [{ id: `vf_${r.id}`, status: 'passed' as const, finishedAt: r.createdAt }]
              : [],
          })),
      markPruned: async (id, reason) => {
        const record = this.catalog.records.get(id);
        if (record?.status !== 'completed') return false;
        this.catalog.add({
          ...record,
          status: 'pruned',
          prunedAt: this.now(),
          prunedReason: reason,
        });
        return true;
      },
    };
    return prune(
      {
        config: this.config,
        retention: repository,
        stores: this.stores,
        claims: {
          tryExclusive: async (id) => {
            const heldBy = this.inUse.get(id);
            return heldBy ? { heldBy: [heldBy] } : { lock: { release: async () => {} } };
          },
        },
      },
      { profile: request.profile ?? null, requestedBy: request.requestedBy, dryRun },
    );
  }
}

/** What the next verification finds when followed: a component that fails, and why. */
export interface VerificationScript {
  readonly failing: string;
  readonly code: string;
  readonly error: string;
}

/**
 * Verifications that run instantly over the in-memory catalog: `follow` reports each component
 * running then done (or failed, as scripted), and ends passed unless a script says otherwise.
 */
export class InMemoryVerifications implements Verifications {
  readonly requests: VerificationRequest[] = [];
  readonly records = new Map<string, VerificationRecord>();
  private readonly scripts: (VerificationScript | null)[] = [];
  private readonly config: LifeboatConfig;
  private readonly catalog: InMemoryBackupCatalog;
  private readonly now: () => Date;

  constructor(config: LifeboatConfig, catalog: InMemoryBackupCatalog, now: () => Date) {
    this.config = config;
    this.catalog = catalog;
    this.now = now;
  }

  /** Scripts the next verifications, in order (null passes); unscripted ones pass. */
  script(...scripts: (VerificationScript | null)[]): void {
    this.scripts.push(...scripts);
  }

  async enqueue(request: VerificationRequest) {
    const backup =
      request.backup === 'latest'
        ? (await this.catalog.list({ limit: 1000, ...this.profileOf(request) })).find(
            (r) => r.status === 'completed',
          )
        : this.catalog.records.get(request.backup);
    if (backup?.status !== 'completed') {
      throw new CommandError('backup_not_found', `no completed backup ${request.backup}`);
    }
    this.requests.push(request);
    const id = newVerificationId(this.now());
    this.records.set(id, {
      id,
      backupId: backup.id,
      level: request.level ?? 2,
      status: 'running',
      requestedBy: request.requestedBy,
      startedAt: this.now(),
      finishedAt: null,
      results: null,
      error: null,
    });
    return { verificationId: id, backup };
  }

  async follow(
    verificationId: string,
    onProgress: (components: readonly ComponentProgress[]) => void,
  ): Promise<VerificationRecord> {
    const record = this.records.get(verificationId);
    if (!record) throw new Error(`no verification ${verificationId}`);
    const backup = this.catalog.records.get(record.backupId);
    const components = backup?.manifest?.components ?? [];
    const script = this.scripts.shift() ?? null;
    const state = new Map<string, ComponentProgress>(
      components.map((c) => [c.name, waitingProgress(c.name)]),
    );
    const results: ComponentVerification[] = [];
    for (const c of components) {
      const failed = script?.failing === c.name;
      const base = { component: c.name, rawBytes: c.rawBytes, storedBytes: c.bytes };
      state.set(c.name, {
        ...base,
        phase: 'running',
        expectedBytes: c.rawBytes * 2,
        bytesPerSecond: 1024 * 1024,
        message: 'decrypting and checking structure',
      });
      onProgress([...state.values()]);
      state.set(c.name, {
        ...base,
        phase: failed ? 'failed' : 'done',
        expectedBytes: c.rawBytes,
        bytesPerSecond: 0,
        ...(failed && script ? { message: script.error } : {}),
      });
      onProgress([...state.values()]);
      results.push({
        name: c.name,
        kind: c.kind,
        key: `${record.backupId}/${c.object}`,
        ok: !failed,
        bytes: failed ? 0 : c.bytes,
        rawBytes: failed ? null : c.rawBytes,
        sha256: failed ? null : c.sha256,
        checked: failed
          ? []
          : [
              'sha256 ok',
              ...(c.kind === 'postgres' ? ['pg_restore --list: 2 tables listed'] : []),
              ...(record.level === 3 ? ['restore test: 2 tables, row counts match'] : []),
            ],
        notChecked: [],
        structure: null,
        restoreChecks: null,
        error: failed && script ? { code: script.code, message: script.error } : null,
        durationMs: 1500,
      });
    }
    const ended: VerificationRecord = {
      ...record,
      status: script ? 'failed' : 'passed',
      finishedAt: new Date(record.startedAt.getTime() + 1500 * components.length),
      results: {
        components: results,
        scratch: record.level === 3 ? 'postgres://127.0.0.1:5432/postgres' : null,
        durationMs: 1500 * components.length,
      },
      error: script ? script.error : null,
    };
    this.records.set(ended.id, ended);
    return ended;
  }

  async latestFor(backupId: string): Promise<VerificationRecord | undefined> {
    return [...this.records.values()]
      .filter((r) => r.backupId === backupId)
      .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime())[0];
  }

  async latestForEach(backupIds: readonly string[]): Promise<Map<string, VerificationRecord>> {
    const out = new Map<string, VerificationRecord>();
    for (const id of backupIds) {
      const latest = await this.latestFor(id);
      if (latest) out.set(id, latest);
    }
    return out;
  }

  private profileOf(request: VerificationRequest): { profile: string } {
    return { profile: request.profile ?? this.config.defaultProfile ?? '' };
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
  readonly audit: InMemoryAudit;
  /** The approval requests behind `approvals`, for tests to look into. */
  readonly approvalRequests: InMemoryApprovals;
  readonly backups: InMemoryBackupCatalog;
  readonly backupJobs: InMemoryBackupJobs;
  readonly status: FixedSystemStatus;
  readonly retention: InMemoryRetention;
  readonly verifications: InMemoryVerifications;
  readonly restores: InMemoryRestores;
  readonly runbooks: InMemoryRunbooks;
}

export function inMemoryServices(config: LifeboatConfig, now: () => Date): InMemoryServices {
  const backups = new InMemoryBackupCatalog();
  const audit = new InMemoryAudit({ now });
  const approvalRequests = new InMemoryApprovals();
  return {
    audit,
    approvalRequests,
    approvals: createApprovals({
      config,
      repository: approvalRequests,
      audit,
      // A failed append is a bug in a test double: make it loud.
      logger: {
        error: (obj) => {
          throw new Error(`audit append failed: ${JSON.stringify(obj)}`);
        },
      },
      now,
    }),
    backups,
    backupJobs: new InMemoryBackupJobs(config, backups, now),
    retention: new InMemoryRetention(config, backups, now),
    verifications: new InMemoryVerifications(config, backups, now),
    restores: new InMemoryRestores(config, backups, now),
    runbooks: inMemoryRunbooks(),
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
