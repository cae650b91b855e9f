import type { BackupRecord } from '../../src/app/services.ts';
import {
  MANIFEST_FORMAT,
  type Manifest,
  type ManifestComponent,
} from '../../src/backup/manifest.ts';
import type { LifeboatConfig } from '../../src/config/schema.ts';
import { newBackupId } from '../../src/core/ids.ts';

function sha256Of(seed: string): string {
  let hex = '';
  for (let i = 0; hex.length < 64; i += 1) {
    hex += ((seed.charCodeAt(i % seed.length) * 31 + i * 7) % 256).toString(16).padStart(2, '0');
  }
  return hex.slice(0, 64);
}

/** A plausible manifest component for a configured target. */
export function sampleComponent(
  name: string,
  kind: ManifestComponent['kind'],
  options: { bytes?: number; tables?: number; startedAt?: Date } = {},
): ManifestComponent {
  const startedAt = options.startedAt ?? new Date('2026-11-22T02:00:00Z');
  const durationMs = 4_000;
  const finishedAt = new Date(startedAt.getTime() + durationMs);
  const bytes = options.bytes ?? 12 * 1024 * 1024;
  const base = {
    name,
    kind,
    object: `${name}.${kind === 'postgres' ? 'dump' : kind === 'directory' ? 'tar' : 'rdb'}.zst`,
    bytes,
    sha256: sha256Of(name),
    rawBytes: bytes * 3,
    compression: 'zstd' as const,
    encryption: null,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs,
  };
  switch (kind) {
    case 'postgres':
      return {
        ...base,
        tools: { pg_dump: '15.20' },
        source: {
          kind: 'postgres',
          url: `postgres://127.0.0.1:5432/${name}`,
          database: name,
          serverVersion: '15.8',
          format: 'custom',
          snapshot: '00000003-0000001B-1',
          tables: Array.from({ length: options.tables ?? 3 }, (_, i) => ({
            schema: 'public',
            table: `table_${String(i + 1).padStart(2, '0')}`,
            rows: (i + 1) * 1000,
          })),
        },
      };
    case 'directory':
      return {
        ...base,
        tools: { tar: '1.34' },
        source: {
          kind: 'directory',
          path: `/srv/${name}`,
          include: [],
          exclude: [],
          counts: 'archive',
          files: 42,
          directories: 5,
          bytes: bytes * 3,
          warnings: [],
        },
      };
    case 'redis':
      return {
        ...base,
        tools: { 'redis-cli': '7.2.4' },
        source: {
          kind: 'redis',
          url: 'redis://127.0.0.1:6379/0',
          db: 0,
          serverVersion: '7.2.4',
          keys: 1234,
          expires: 56,
        },
      };
  }
}

/** The components of a profile, with kinds from the config. */
export function componentsOf(config: LifeboatConfig, profile: string): ManifestComponent[] {
  return (config.profiles[profile]?.targets ?? []).map((name) =>
    sampleComponent(name, config.targets[name]?.kind ?? 'directory'),
  );
}

export function sampleManifest(
  record: Pick<BackupRecord, 'id' | 'profile' | 'note' | 'requestedBy'>,
  components: ManifestComponent[],
  location: string,
  at: Date,
): Manifest {
  const durationMs = components.reduce((sum, c) => sum + c.durationMs, 0);
  return {
    format: MANIFEST_FORMAT,
    id: record.id,
    profile: record.profile,
    note: record.note,
    requestedBy: record.requestedBy,
    lifeboatVersion: '0.1.0',
    startedAt: at.toISOString(),
    finishedAt: new Date(at.getTime() + durationMs).toISOString(),
    durationMs,
    storage: [{ store: 'local', location }],
    components,
  };
}

/** A completed backup record as the catalog would hold it. */
export function completedBackup(
  config: LifeboatConfig,
  options: {
    profile: string;
    createdAt: Date;
    note?: string | null;
    requestedBy?: string;
    components?: ManifestComponent[];
  },
): BackupRecord {
  const id = newBackupId(options.profile, options.createdAt);
  const components = options.components ?? componentsOf(config, options.profile);
  const location = `/var/lib/lifeboat/backups/${id}`;
  const identity = {
    id,
    profile: options.profile,
    note: options.note ?? null,
    requestedBy: options.requestedBy ?? 'console:alice',
  };
  const manifest = sampleManifest(identity, components, location, options.createdAt);
  return {
    ...identity,
    status: 'completed',
    createdAt: options.createdAt,
    startedAt: options.createdAt,
    finishedAt: new Date(options.createdAt.getTime() + manifest.durationMs),
    bytes: components.reduce((sum, c) => sum + c.bytes, 0),
    error: null,
    location,
    manifest,
    targets: components.map((c) => c.name),
  };
}

/** A failed backup record. */
export function failedBackup(options: {
  profile: string;
  createdAt: Date;
  error: string;
  targets: string[];
}): BackupRecord {
  return {
    id: newBackupId(options.profile, options.createdAt),
    profile: options.profile,
    status: 'failed',
    note: null,
    requestedBy: 'scheduler:cron',
    createdAt: options.createdAt,
    startedAt: options.createdAt,
    finishedAt: new Date(options.createdAt.getTime() + 1000),
    bytes: null,
    error: options.error,
    location: null,
    manifest: null,
    targets: options.targets,
  };
}
