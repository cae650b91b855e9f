import type {
  BackupCatalogView,
  ProfileStatus,
  ServiceHealth,
  StatusReport,
  SystemStatus,
} from '../bot/services.ts';
import type { LifeboatConfig } from '../config/schema.ts';
import { redactUrl } from '../core/redact.ts';
import type { JobQueue } from '../jobs/queue.ts';

export interface SystemStatusDeps {
  readonly config: LifeboatConfig;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly catalog: { ping(): Promise<void> };
  readonly backups: BackupCatalogView;
  readonly queue: JobQueue;
}

/** How many recent backups of a profile `/status` looks through for its last success. */
const RECENT = 50;

export function createSystemStatus(deps: SystemStatusDeps): SystemStatus {
  return {
    async report(): Promise<StatusReport> {
      const services: ServiceHealth[] = [
        await probe('PostgreSQL (catalog)', redactUrl(deps.databaseUrl), () => deps.catalog.ping()),
        await probe('Redis (queue)', redactUrl(deps.redisUrl), () => deps.queue.ping()),
      ];
      const [workers, counts] = await Promise.all([
        deps.queue.workerCount().catch(() => 0),
        deps.queue.queue
          .getJobCounts('waiting', 'active', 'failed', 'delayed', 'prioritized')
          .catch(() => ({}) as Record<string, number>),
      ]);
      const profiles: ProfileStatus[] = [];
      for (const [profile, settings] of Object.entries(deps.config.profiles)) {
        const recent = await deps.backups.list({ profile, limit: RECENT });
        profiles.push({
          profile,
          schedule: settings.schedule ?? null,
          lastSuccess: recent.find((b) => b.status === 'completed') ?? null,
          lastFailure: recent.find((b) => b.status === 'failed') ?? null,
        });
      }
      return {
        services,
        workers,
        queue: {
          waiting: (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0),
          active: counts.active ?? 0,
          failed: counts.failed ?? 0,
        },
        profiles,
      };
    },
  };
}

async function probe(
  name: string,
  where: string,
  check: () => Promise<void>,
): Promise<ServiceHealth> {
  try {
    await check();
    return { name, ok: true, detail: where };
  } catch (error) {
    return {
      name,
      ok: false,
      detail: `${where}: ${error instanceof Error ? error.message : error}`,
    };
  }
}
