import type { StoreSurvey } from '../catalog/store-survey.ts';
import type { VerificationRepository } from '../catalog/verification-repository.ts';
import type { LifeboatConfig } from '../config/schema.ts';
import { errorMessage, postgresReason } from '../core/network-errors.ts';
import { redactUrl } from '../core/redact.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type {
  BackupCatalogView,
  ProfileStatus,
  ServiceHealth,
  StatusReport,
  SystemStatus,
} from './services.ts';

export interface SystemStatusDeps {
  readonly config: LifeboatConfig;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly catalog: { ping(): Promise<void> };
  readonly backups: BackupCatalogView;
  /** Each profile's last verification is looked up here. @defaultValue not shown */
  readonly verifications?: Pick<VerificationRepository, 'latestForEach'>;
  readonly queue: Pick<JobQueue, 'ping' | 'workerCount' | 'counts'>;
  /**
   * The primary store, probed like the services: `check` resolves when it answers (a bucket
   * that exists and may be read, a directory that can be listed). @defaultValue not probed
   */
  readonly store?: {
    readonly name: string;
    readonly where: string;
    readonly check: () => Promise<void>;
  };
  /** A bounded look at the primary store for backups the catalog does not know. */
  readonly survey?: () => Promise<StoreSurvey>;
  /** How long one survey of the store is reused. @defaultValue 10 minutes */
  readonly surveyTtlMs?: number;
  /**
   * How long each probe of a service may take before the service counts as down, so that a
   * report (and `/readyz`, `/metrics`) answers in bounded time whatever is down.
   * @defaultValue 2000
   */
  readonly probeTimeoutMs?: number;
}

/** How many recent backups of a profile `/status` looks through for its last success. */
const RECENT = 50;

/**
 * `/status`, `/readyz` and `/metrics`: each service probed within a time bound; what needs a
 * service that is down (workers and queue counts without Redis, profiles without the catalog)
 * is reported as unknown (null) rather than waited for.
 */
export function createSystemStatus(deps: SystemStatusDeps): SystemStatus {
  const timeoutMs = deps.probeTimeoutMs ?? 2_000;
  const ttlMs = deps.surveyTtlMs ?? 10 * 60_000;
  let lastSurvey: { at: number; survey: Promise<StoreSurvey> } | undefined;
  /** The store's survey, looked at again at most every `ttlMs` (scrapes come every few seconds). */
  const survey = (): Promise<StoreSurvey> | undefined => {
    if (!deps.survey) return undefined;
    if (!lastSurvey || Date.now() - lastSurvey.at > ttlMs) {
      const fresh = deps.survey();
      lastSurvey = { at: Date.now(), survey: fresh };
      // A failed look is looked at again next time rather than remembered.
      fresh.catch(() => {
        lastSurvey = undefined;
      });
    }
    return lastSurvey.survey;
  };
  return {
    async report(): Promise<StatusReport> {
      const [catalog, redis, store] = await Promise.all([
        probe(
          'PostgreSQL (catalog)',
          redactUrl(deps.databaseUrl),
          timeoutMs,
          () => deps.catalog.ping(),
          (error) => postgresReason(error, timeoutMs, 'DATABASE_URL'),
        ),
        probe('Redis (queue)', redactUrl(deps.redisUrl), timeoutMs, () =>
          deps.queue.ping(timeoutMs),
        ),
        deps.store
          ? probe(`Store (${deps.store.name})`, deps.store.where, timeoutMs, deps.store.check)
          : undefined,
      ]);
      const surveying = catalog.ok ? survey() : undefined;
      const [workers, queue, profiles, surveyed] = await Promise.all([
        redis.ok ? within(timeoutMs, () => deps.queue.workerCount(timeoutMs)) : null,
        redis.ok ? within(timeoutMs, () => deps.queue.counts(timeoutMs)) : null,
        catalog.ok ? within(timeoutMs, () => profileStatuses(deps)) : null,
        surveying ? within(timeoutMs * 2, () => surveying) : null,
      ]);
      return {
        services: store ? [catalog, redis, store] : [catalog, redis],
        workers,
        queue,
        profiles,
        unknownBackups: surveyed
          ? { store: surveyed.store, ids: surveyed.unknown, partial: surveyed.partial }
          : null,
      };
    },
  };
}

async function profileStatuses(deps: SystemStatusDeps): Promise<ProfileStatus[]> {
  const profiles: ProfileStatus[] = [];
  for (const [profile, settings] of Object.entries(deps.config.profiles)) {
    const recent = await deps.backups.list({ profile, limit: RECENT });
    const verified = deps.verifications
      ? [...(await deps.verifications.latestForEach(recent.map((b) => b.id))).values()]
      : undefined;
    const lastVerification = verified?.sort(
      (a, b) => b.startedAt.getTime() - a.startedAt.getTime(),
    )[0];
    profiles.push({
      profile,
      schedule: settings.schedule ?? null,
      lastSuccess: recent.find((b) => b.status === 'completed') ?? null,
      lastFailure: recent.find((b) => b.status === 'failed') ?? null,
      ...(verified ? { lastVerification: lastVerification ?? null } : {}),
    });
  }
  return profiles;
}

/** A little past a probe's own bound, so that its own error (with the reason) comes first. */
const PROBE_GRACE_MS = 500;

async function probe(
  name: string,
  where: string,
  timeoutMs: number,
  check: () => Promise<void>,
  reason: (error: unknown) => string = (error) =>
    (errorMessage(error).split('\n')[0] ?? '')
      .replace(/^Cannot reach .*? at \S+: /, '')
      .replace(/\.$/, ''),
): Promise<ServiceHealth> {
  try {
    await deadline(timeoutMs + PROBE_GRACE_MS, check);
    return { name, ok: true, detail: where };
  } catch (error) {
    const why =
      error instanceof ProbeTimeout ? `no answer within ${timeoutMs / 1000} s` : reason(error);
    return { name, ok: false, detail: `${where}: ${why}` };
  }
}

class ProbeTimeout extends Error {}

/** `work`'s value, or null when it fails or takes longer than `ms`. */
async function within<T>(ms: number, work: () => Promise<T>): Promise<T | null> {
  return deadline(ms, work).catch(() => null);
}

async function deadline<T>(ms: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProbeTimeout()), ms);
  });
  try {
    return await Promise.race([work(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
